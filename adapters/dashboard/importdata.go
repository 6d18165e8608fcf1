package dashboard

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// DefaultMaxImportBytes bounds an archive uploaded through the dashboard
// when Config.MaxImportBytes is not set (the API's own default).
const DefaultMaxImportBytes = 64 << 20

// backupArchive streams the caller's backup archive (GET /api/v1/export,
// the format POST /api/v1/import reads) to the browser.
func (x *Dashboard) backupArchive(w http.ResponseWriter, r *http.Request, s *session) {
	w.Header().Set("Content-Disposition", `attachment; filename="engram-backup.ndjson.gz"`)
	x.streamAPI(w, r, s, "/api/v1/export")
}

// importArchive takes the upload form of the account page (multipart:
// csrf, mode, then file, in the form's order) and streams the file to
// POST /api/v1/import without holding it: the CSRF token is checked from
// the first part before a byte of the file is read, and the body is
// bounded by MaxImportBytes. The API's answer, or its problem document,
// is shown on the account page.
func (x *Dashboard) importArchive(w http.ResponseWriter, r *http.Request) {
	forbid := func(detail string) {
		x.render(w, r, nil, http.StatusForbidden, "error", view{Title: "Refused",
			Error: &problem{Title: "Forbidden", Status: http.StatusForbidden, Detail: detail}})
	}
	if detail := x.crossSite(r); detail != "" {
		forbid(detail)
		return
	}
	s, ok := x.sessionOf(r)
	if !ok {
		forbid("You are not signed in (or your session ended). Sign in and try again.")
		return
	}
	fail := func(p *problem) {
		x.render(w, r, s, p.Status, "account", view{Title: "Your data", Nav: "account", Error: p})
	}
	r.Body = http.MaxBytesReader(w, r.Body, x.cfg.MaxImportBytes+maxFormBytes)
	mr, err := r.MultipartReader()
	if err != nil {
		forbid("The form could not be read.")
		return
	}
	part, err := mr.NextPart()
	if err != nil || part.FormName() != "csrf" {
		forbid("The form's CSRF token is missing or wrong. Reload the page and try again.")
		return
	}
	token, _ := io.ReadAll(io.LimitReader(part, 256))
	if subtle.ConstantTimeCompare([]byte(s.csrf), token) != 1 {
		forbid("The form's CSRF token is missing or wrong. Reload the page and try again.")
		return
	}
	mode := "skip"
	for {
		part, err = mr.NextPart()
		if err != nil {
			fail(&problem{Title: "No archive", Status: http.StatusBadRequest, Detail: "Choose an archive file to import."})
			return
		}
		if part.FormName() == "mode" {
			raw, _ := io.ReadAll(io.LimitReader(part, 32))
			mode = strings.TrimSpace(string(raw))
			continue
		}
		if part.FormName() == "file" {
			break
		}
	}
	body := &boundedReader{r: part, left: x.cfg.MaxImportBytes}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, "/api/v1/import?mode="+queryEscape(mode), body)
	if err != nil {
		fail(&problem{Title: "Bad request", Status: http.StatusBadRequest, Detail: err.Error()})
		return
	}
	s.mu.Lock()
	req.Header.Set("Authorization", "Bearer "+s.access)
	s.mu.Unlock()
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Accept", "application/json")
	rec := serve(x.d.API, r, req)
	s.reads.observe(rec.status, rec.h, rec.body.Bytes())
	if body.over {
		fail(&problem{Title: "Archive too large", Status: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("The dashboard imports archives of at most %d MiB; use POST /api/v1/import or engram import for a larger one.", x.cfg.MaxImportBytes>>20)})
		return
	}
	if rec.status >= 300 {
		p := &problem{}
		if json.Unmarshal(rec.body.Bytes(), p) != nil || p.Title == "" {
			p = &problem{Title: http.StatusText(rec.status), Detail: strings.TrimSpace(rec.body.String())}
		}
		p.Status = rec.status
		fail(p)
		return
	}
	var rep struct {
		Tables []struct {
			Table    string `json:"table"`
			Inserted int    `json:"inserted"`
			Updated  int    `json:"updated"`
			Skipped  int    `json:"skipped"`
		} `json:"tables"`
	}
	_ = json.Unmarshal(rec.body.Bytes(), &rep)
	var inserted, updated, skipped int
	for _, t := range rep.Tables {
		inserted, updated, skipped = inserted+t.Inserted, updated+t.Updated, skipped+t.Skipped
	}
	x.render(w, r, s, http.StatusOK, "account", view{Title: "Your data", Nav: "account",
		Notice: fmt.Sprintf("Archive imported: %d rows added, %d replaced, %d already present.", inserted, updated, skipped)})
}

// boundedReader fails a read past left bytes (and says so), so a too
// large upload stops streaming into the API at the bound.
type boundedReader struct {
	r    io.Reader
	left int64
	over bool
}

var errImportTooLarge = errors.New("dashboard: the archive exceeds the import bound")

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a file of exactly the bound from a larger one.
		var one [1]byte
		if n, _ := b.r.Read(one[:]); n > 0 {
			b.over = true
			return 0, errImportTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}
