package dashboard

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/engram-memory/engram/ports"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is where every page lives; / redirects to it.
const Prefix = "/ui/"

// Config tunes the dashboard.
type Config struct {
	// PublicURL is the origin the browser reaches engramd at (no trailing
	// slash): the OAuth redirect URI and the install snippets name it,
	// and a post whose Origin differs is refused.
	PublicURL string
	// TLS marks the session cookie Secure.
	TLS bool
	// ClientID is the dashboard's OAuth client: at the built-in
	// authorization server, registered with RedirectURI (see
	// RedirectURI), or at the external issuer.
	ClientID string
	// Scopes the dashboard asks for.
	Scopes []string
	// Issuer, when set, is the external OpenID Connect issuer users sign
	// in at (authorization code with PKCE S256, its endpoints found by
	// discovery) instead of the built-in authorization server.
	// ClientSecret makes the client confidential (empty: a public
	// client); Audience is sent as the audience parameter some issuers
	// need to mint an access token for this API (Auth0).
	Issuer, ClientSecret, Audience string
	// SessionTTL bounds a session (12 h by default); MaxSessions bounds
	// one user's sessions (20; signing in once more ends the oldest).
	SessionTTL  time.Duration
	MaxSessions int
	// MaxImportBytes bounds an archive uploaded on the account page
	// (DefaultMaxImportBytes).
	MaxImportBytes int64
}

// Deps are the two handlers the dashboard speaks to in process.
type Deps struct {
	// API serves /api/v1 (the REST API with its whole middleware stack).
	API http.Handler
	// OAuth serves the built-in authorization server's /authorize,
	// /token and /revoke (unused with Config.Issuer).
	OAuth http.Handler
	// Verifier checks the access token an external issuer returns at
	// sign-in, as the API will (required with Config.Issuer).
	Verifier ports.TokenVerifier
	// HTTPClient reaches the external issuer (a client with a 10 s
	// timeout when nil).
	HTTPClient *http.Client
	// Sessions keeps the signed-in browsers (in the store, so they
	// survive a restart and every engramd process on it sees them).
	Sessions ports.UISessionStore
	Logger   *slog.Logger
	// Metrics gathers engramd's HTTP request metrics in process (the
	// stats page's search latency and error rate); nil leaves them out.
	Metrics prometheus.Gatherer
}

// Dashboard is the web UI.
type Dashboard struct {
	cfg    Config
	d      Deps
	mux    *http.ServeMux
	pages  map[string]*template.Template
	static map[string]asset
	reads  readsByHash
	iss    signer
}

type asset struct {
	body, gz []byte
	ctype    string
	hash     string
}

// RedirectURI is the callback the dashboard's OAuth client registers.
func RedirectURI(publicURL string) string {
	return strings.TrimRight(publicURL, "/") + Prefix + "callback"
}

// ClientIDFor names the dashboard's client by its redirect URI, so a
// changed ENGRAM_PUBLIC_URL registers a new client instead of reusing one
// whose redirect URI no longer matches.
func ClientIDFor(publicURL string) string {
	sum := sha256.Sum256([]byte(RedirectURI(publicURL)))
	return "engram-dashboard-" + hex.EncodeToString(sum[:8])
}

// New builds the dashboard.
func New(cfg Config, d Deps) (*Dashboard, error) {
	if cfg.PublicURL == "" || cfg.ClientID == "" || d.API == nil || d.Sessions == nil {
		return nil, errors.New("dashboard: PublicURL, ClientID, API and Sessions are required")
	}
	if cfg.Issuer == "" && d.OAuth == nil {
		return nil, errors.New("dashboard: the built-in authorization server (OAuth) or an external Issuer is required")
	}
	if cfg.Issuer != "" && d.Verifier == nil {
		return nil, errors.New("dashboard: an external Issuer needs the API's token Verifier")
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 20
	}
	if cfg.MaxImportBytes <= 0 {
		cfg.MaxImportBytes = DefaultMaxImportBytes
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	x := &Dashboard{cfg: cfg, d: d, reads: readsByHash{max: 100000}}
	x.iss = builtin{x}
	if cfg.Issuer != "" {
		x.iss = newOIDC(cfg, d)
	}
	if err := x.loadStatic(); err != nil {
		return nil, err
	}
	if err := x.loadTemplates(); err != nil {
		return nil, err
	}
	x.routes()
	return x, nil
}

// Handler serves / and everything under /ui/.
func (x *Dashboard) Handler() http.Handler { return x.mux }

func (x *Dashboard) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
	})
	m.HandleFunc("GET /ui", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
	})
	m.HandleFunc("GET /ui/static/{file}", x.serveStatic)
	m.HandleFunc("GET /ui/login", x.login)
	m.HandleFunc("GET /ui/callback", x.callback)
	m.HandleFunc("POST /ui/logout", x.post(x.logout))

	m.HandleFunc("GET /ui/{$}", x.page(x.memoriesPage))
	m.HandleFunc("POST /ui/memories", x.post(x.addMemory))
	m.HandleFunc("POST /ui/memories/bulk", x.post(x.bulkMemories))
	m.HandleFunc("GET /ui/memories/{id}", x.page(x.memoryPage))
	m.HandleFunc("POST /ui/memories/{id}", x.post(x.editMemory))

	m.HandleFunc("GET /ui/apps", x.page(x.appsPage))
	m.HandleFunc("POST /ui/apps/{id}", x.post(x.setApp))
	m.HandleFunc("GET /ui/keys", x.page(x.keysPage))
	m.HandleFunc("POST /ui/keys", x.post(x.createKey))
	m.HandleFunc("POST /ui/keys/{id}/revoke", x.post(x.revokeKey))
	m.HandleFunc("POST /ui/connections/{id}/revoke", x.post(x.revokeGrant))

	m.HandleFunc("GET /ui/stats", x.page(x.statsPage))
	m.HandleFunc("GET /ui/experiments", x.page(x.experimentsPage))
	m.HandleFunc("GET /ui/experiments/{id}", x.page(x.experimentPage))
	m.HandleFunc("GET /ui/sessions", x.page(x.sessionsPage))
	m.HandleFunc("GET /ui/install", x.page(x.installPage))
	m.HandleFunc("GET /ui/account", x.page(x.accountPage))
	m.HandleFunc("GET /ui/account/export", x.page(x.exportData))
	m.HandleFunc("POST /ui/account/delete", x.post(x.deleteMyData))
	m.HandleFunc("GET /ui/account/archive", x.page(x.backupArchive))
	m.HandleFunc("POST /ui/account/import", x.importArchive)
	m.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		x.render(w, r, nil, http.StatusNotFound, "error", view{Title: "Not found",
			Error: &problem{Title: "Not found", Detail: "There is no page at " + r.URL.Path + "."}})
	})
	x.mux = m
}

func (x *Dashboard) loadStatic() error {
	x.static = map[string]asset{}
	return fs.WalkDir(staticFS, "static", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		ctype := "application/octet-stream"
		switch path.Ext(p) {
		case ".css":
			ctype = "text/css; charset=utf-8"
		case ".js":
			ctype = "text/javascript; charset=utf-8"
		case ".svg":
			ctype = "image/svg+xml"
		}
		sum := sha256.Sum256(body)
		x.static[path.Base(p)] = asset{body: body, gz: gzipped(body), ctype: ctype, hash: hex.EncodeToString(sum[:6])}
		return nil
	})
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// serveStatic serves the embedded assets. Their URLs carry the content
// hash (?v=), so they are cached for a year.
func (x *Dashboard) serveStatic(w http.ResponseWriter, r *http.Request) {
	a, ok := x.static[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Vary", "Accept-Encoding")
	if acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		_, _ = w.Write(a.gz)
		return
	}
	_, _ = w.Write(a.body)
}

func acceptsGzip(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept-Encoding"), "gzip")
}

// staticURL is an asset's URL with its content hash.
func (x *Dashboard) staticURL(name string) string {
	return Prefix + "static/" + name + "?v=" + x.static[name].hash
}

// setPageHeaders are every page's: a policy that allows only this
// server's stylesheet, script and forms, and no framing.
func (x *Dashboard) setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Vary", "Accept-Encoding, Cookie")
}
