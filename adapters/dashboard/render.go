package dashboard

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

// view is what every page's template gets.
type view struct {
	Title  string
	Nav    string // the current section, for aria-current
	User   string
	CSRF   string
	Notice string
	Error  *problem
	Next   string // sign-in page: where to go after
	Base   string // this server's public URL
	CSS    string
	JS     string
	Data   any
}

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04")
	},
	"short": func(s string, n int) string {
		r := []rune(s)
		if len(r) <= n {
			return s
		}
		return string(r[:n-1]) + "…"
	},
	"join": strings.Join,
	"pct":  func(f float64) string { return fmt.Sprintf("%.1f%%", f*100) },
	"pval": func(p *float64) string {
		if p == nil {
			return "—"
		}
		return fmt.Sprintf("%.4f", *p)
	},
}

func (x *Dashboard) loadTemplates() error {
	x.pages = map[string]*template.Template{}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return fmt.Errorf("dashboard: template %s: %w", name, err)
		}
		x.pages[name] = t
	}
	return nil
}

// render writes a page, gzip-compressed when the browser takes it.
func (x *Dashboard) render(w http.ResponseWriter, r *http.Request, s *session, status int, name string, v view) {
	v.Base, v.CSS, v.JS = x.cfg.PublicURL, x.staticURL("app.css"), x.staticURL("app.js")
	if s != nil {
		v.User = s.user + " (" + s.org + ")"
		v.CSRF = s.csrf
	}
	if v.Error != nil && status == http.StatusOK {
		status = v.Error.Status
		if status < 400 {
			status = http.StatusBadGateway
		}
	}
	var buf bytes.Buffer
	if err := x.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		x.d.Logger.ErrorContext(r.Context(), "dashboard: render", "page", name, "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	x.setPageHeaders(w)
	if acceptsGzip(r) && buf.Len() > 1024 {
		w.Header().Set("Content-Encoding", "gzip")
		w.WriteHeader(status)
		zw := gzip.NewWriter(w)
		_, _ = zw.Write(buf.Bytes())
		_ = zw.Close()
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// back redirects after a successful post (post/redirect/get), with a
// notice shown once on the next page.
func back(w http.ResponseWriter, r *http.Request, to, notice string) {
	if notice != "" {
		sep := "?"
		if strings.Contains(to, "?") {
			sep = "&"
		}
		to += sep + "notice=" + queryEscape(notice)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// noticeOf reads the notice a redirect carried; only known texts are
// shown (a link cannot make the page say anything else).
func noticeOf(r *http.Request) string {
	n := r.URL.Query().Get("notice")
	for _, known := range notices {
		if n == known {
			return n
		}
	}
	return ""
}

var notices = []string{
	"Memory added.", "Memory saved.", "Memories changed.", "Memories deleted.", "App paused.", "App resumed.",
	"Key revoked.", "Your data is being erased.", "Application disconnected.",
}
