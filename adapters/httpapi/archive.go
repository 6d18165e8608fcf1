package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/adapters/archive"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// ArchiveDeps serve GET /api/v1/export and POST /api/v1/import.
type ArchiveDeps struct {
	Source ports.ArchiveSource
	Sink   ports.ArchiveSink
	// Changed indexes imported memories (app.Indexer.MemoriesChanged); nil
	// leaves them to the next start's repair.
	Changed func(ctx context.Context, t domain.Tenant, ids []domain.MemoryID) error
	// Vectors loads an imported archive's vectors of its model instead of
	// embedding the memories (app.Indexer); nil embeds them (Changed).
	Vectors archive.VectorTarget
	// Embedder embeds the vectors of an export with with_vectors=true;
	// nil refuses the option.
	Embedder ports.Embedder
	// MaxImportBytes bounds an upload; 0 means DefaultMaxImportBytes.
	MaxImportBytes int64
	// ImportTimeout bounds one import; 0 means 10 minutes.
	ImportTimeout time.Duration
	SchemaVersion uint
	Profile       string
	// TempDir receives uploads while they are checked; "" is os.TempDir.
	TempDir string
}

// DefaultMaxImportBytes bounds an import's upload when none is configured.
const DefaultMaxImportBytes = 64 << 20

type archiveRoutes struct {
	ArchiveDeps
	mu      sync.Mutex
	running map[domain.Tenant]bool // one import per tenant at a time
}

// EnableArchive adds the export and import routes. Both bypass the request
// deadline (an export streams as long as the data takes; an import has its
// own ImportTimeout) and import has its own body limit. Call before serving.
func (s *Server) EnableArchive(d ArchiveDeps) {
	if d.Source == nil || d.Sink == nil {
		return
	}
	if d.MaxImportBytes <= 0 {
		d.MaxImportBytes = DefaultMaxImportBytes
	}
	if d.ImportTimeout <= 0 {
		d.ImportTimeout = 10 * time.Minute
	}
	a := &archiveRoutes{ArchiveDeps: d, running: map[domain.Tenant]bool{}}
	if s.bodyLimits == nil {
		s.bodyLimits = map[string]int64{}
	}
	s.bodyLimits["/api/v1/import"] = d.MaxImportBytes
	s.longRoute(http.MethodGet, "/export", domain.ScopeBackupRead, a.export(s))
	s.longRoute(http.MethodPost, "/import", domain.ScopeBackupWrite, a.importArchive)
}

// longRoute is route without the request deadline.
func (s *Server) longRoute(method, path string, scope domain.Scope, h echo.HandlerFunc) {
	path = "/api/v1" + path
	if s.scopes == nil {
		s.scopes = make(map[string]domain.Scope)
	}
	s.scopes[method+" "+path] = scope
	s.e.Add(method, path, h, s.authenticate, s.rateLimit(routeClass(method, path)), requireScope(scope))
}

// export streams the caller's own data: the scope is the token's org and
// user, never a parameter.
func (a *archiveRoutes) export(s *Server) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, _ := principalOf(c)
		// Open: the caller reads their own words (docs/archive.md, "Encryption").
		scope := ports.ArchiveScope{Org: p.OrgID, User: p.UserID, Open: true}
		if v := c.QueryParam("since"); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return domain.Invalid("since", "must be an RFC 3339 time")
			}
			scope.Since = t
		}
		var omit []string
		for _, o := range strings.Split(c.QueryParam("omit"), ",") {
			if o = strings.TrimSpace(o); o != "" {
				if t, ok := ports.ArchiveTableNamed(o); !ok || !t.Optional {
					return domain.Invalid("omit", "%q is not an optional table (memory_access, feedback_events, query_logs)", o)
				}
				omit = append(omit, o)
			}
		}
		var emb ports.Embedder
		switch c.QueryParam("with_vectors") {
		case "", "false":
		case "true":
			if a.Embedder == nil {
				return domain.Invalid("with_vectors", "this server has no embedder")
			}
			emb = a.Embedder
		default:
			return domain.Invalid("with_vectors", "must be true or false")
		}
		h := c.Response().Header()
		h.Set(echo.HeaderContentType, "application/vnd.engram.archive+zip")
		h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="engram-%s.engram"`, time.Now().UTC().Format("20060102T150405Z")))
		_, err := archive.Export(c.Request().Context(), a.Source, c.Response(), archive.ExportOptions{
			Scope: scope, Omit: omit, SchemaVersion: a.SchemaVersion, Profile: a.Profile, Embedder: emb})
		if err == nil {
			return nil
		}
		if !c.Response().Committed {
			return err
		}
		// Half an archive is on the wire: cut the connection so that the
		// client sees a failed transfer, not a short file (which no import
		// would accept anyway: the zip directory is missing).
		s.log.ErrorContext(c.Request().Context(), "export failed mid-stream", "request_id", requestIDOf(c), "error", err)
		panic(http.ErrAbortHandler)
	}
}

// importArchive spools the upload (raw body or the multipart field
// "file") to a temporary file, then imports it into the caller's tenant.
func (a *archiveRoutes) importArchive(c echo.Context) error {
	p, _ := principalOf(c)
	tn := p.Tenant()
	o := archive.ImportOptions{Tenant: &tn, Changed: a.Changed, Vectors: a.Vectors}
	switch c.QueryParam("mode") {
	case "", "skip":
	case "overwrite":
		o.Overwrite = true
	default:
		return domain.Invalid("mode", "must be skip or overwrite")
	}
	switch c.QueryParam("dry_run") {
	case "", "false":
	case "true":
		o.DryRun = true
	default:
		return domain.Invalid("dry_run", "must be true or false")
	}
	if !a.begin(tn) {
		return fmt.Errorf("%w: an import into this account is already running", domain.ErrConflict)
	}
	defer a.end(tn)
	f, size, err := a.spool(c)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close(); _ = os.Remove(f.Name()) }()
	ctx, cancel := context.WithTimeout(c.Request().Context(), a.ImportTimeout)
	defer cancel()
	rep, err := archive.Import(ctx, a.Sink, f, size, o)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rep)
}

func (a *archiveRoutes) begin(tn domain.Tenant) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.running[tn] {
		return false
	}
	a.running[tn] = true
	return true
}

func (a *archiveRoutes) end(tn domain.Tenant) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.running, tn)
}

func (a *archiveRoutes) spool(c echo.Context) (*os.File, int64, error) {
	var body io.Reader = c.Request().Body
	mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if mt == "multipart/form-data" {
		mr, err := c.Request().MultipartReader()
		if err != nil {
			return nil, 0, domain.Invalid("body", "bad multipart body: %v", err)
		}
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return nil, 0, domain.Invalid("file", "the multipart body has no part named file")
			}
			if err != nil {
				return nil, 0, bodyErr(err)
			}
			if part.FormName() == "file" {
				body = part
				break
			}
		}
	}
	f, err := os.CreateTemp(a.TempDir, "engram-import-*.upload")
	if err != nil {
		return nil, 0, fmt.Errorf("httpapi: spool import: %w", err)
	}
	n, err := io.Copy(f, body)
	if err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return nil, 0, bodyErr(err)
	}
	if n == 0 {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return nil, 0, domain.Invalid("body", "is empty: send the archive as the body or as the multipart field file")
	}
	return f, n, nil
}

// bodyErr turns the body limit's error into a 413, anything else into a
// bad request.
func bodyErr(err error) error {
	if e, ok := asTooLarge(err); ok {
		return e
	}
	return domain.Invalid("body", "could not be read: %v", err)
}
