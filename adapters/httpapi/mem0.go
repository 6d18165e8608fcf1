package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// Mem0Deps are what the mem0-compatible surface needs beyond the server's
// memory service: search, and (for project keys, which name no user when
// they address a memory by id) the owner lookup.
type Mem0Deps struct {
	Search *app.ExperimentSearch
	Owners ports.MemoryOwners
}

// EnableMem0 mounts mem0's REST routes at the server root, so that mem0's
// own SDKs work by changing their host: v1, v2 and v3 paths, with and
// without the trailing slash, mem0's request and response shapes, and
// errors as {"detail": ...}. A project key acts for the user_id each
// request names; nothing else may name another user (docs/migrating-from-mem0.md).
func (s *Server) EnableMem0(d Mem0Deps) {
	if d.Search == nil || d.Owners == nil {
		return
	}
	m := &mem0{s: s, d: d}
	read, write := domain.ScopeMemoriesRead, domain.ScopeMemoriesWrite
	m.route(http.MethodGet, "/v1/ping", read, m.ping)
	m.route(http.MethodPost, "/v3/memories/add", write, m.add)
	m.route(http.MethodPost, "/v1/memories", write, m.add)
	m.route(http.MethodPost, "/v3/memories/search", read, m.search)
	m.route(http.MethodPost, "/v2/memories/search", read, m.search)
	m.route(http.MethodPost, "/v1/memories/search", read, m.search)
	m.route(http.MethodPost, "/v3/memories", read, m.listPost)
	m.route(http.MethodPost, "/v2/memories", read, m.listPost)
	m.route(http.MethodGet, "/v1/memories", read, m.listGet)
	m.route(http.MethodDelete, "/v1/memories", write, m.deleteAll)
	m.route(http.MethodGet, "/v1/memories/:id", read, m.get)
	m.route(http.MethodPut, "/v1/memories/:id", write, m.update)
	m.route(http.MethodDelete, "/v1/memories/:id", write, m.delete)
	m.route(http.MethodGet, "/v1/memories/:id/history", read, m.history)
}

type mem0 struct {
	s *Server
	d Mem0Deps
}

// route registers path with and without its trailing slash (mem0's SDKs
// send the slash; curl users often do not).
func (m *mem0) route(method, path string, scope domain.Scope, h echo.HandlerFunc) {
	mw := []echo.MiddlewareFunc{mem0Errors(m.s), m.s.deadline, m.authenticateAny, m.s.rateLimit(routeClass(method, path)), requireScope(scope)}
	if m.s.scopes == nil {
		m.s.scopes = make(map[string]domain.Scope)
	}
	m.s.scopes[method+" "+path] = scope
	m.s.scopes[method+" "+path+"/"] = scope
	m.s.e.Add(method, path, h, mw...)
	m.s.e.Add(method, path+"/", h, mw...)
}

// isMem0Path tells the global tenant guard to let user_id through: on these
// routes it is mem0's entity filter, honoured only for project keys.
func isMem0Path(p string) bool {
	return strings.HasPrefix(p, "/v1/") || strings.HasPrefix(p, "/v2/") || strings.HasPrefix(p, "/v3/")
}

// authenticateAny is authenticate without the refusal of project keys.
func (m *mem0) authenticateAny(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, err := m.s.verifyRequest(c); err != nil {
			return err
		}
		return next(c)
	}
}

// mem0Errors renders errors in mem0's shape, {"detail": "..."} with the
// status Engram's problem mapping chooses (and its headers), because mem0's
// SDKs show the body text to the caller.
func mem0Errors(s *Server) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			err := next(c)
			if err == nil || c.Response().Committed {
				return err
			}
			p := problemFor(err, schemeOf(c))
			if p.Status >= 500 {
				s.log.ErrorContext(c.Request().Context(), "mem0 request failed", "request_id", requestIDOf(c), "err", err)
			}
			h := c.Response().Header()
			for _, ch := range p.challenges {
				h.Add(echo.HeaderWWWAuthenticate, ch)
			}
			if p.retryAfter > 0 {
				h.Set("Retry-After", strconv.Itoa(p.retryAfter))
			}
			detail := p.Detail
			if detail == "" {
				detail = p.Title
			}
			body := map[string]any{"detail": detail, "error": p.Title, "status": p.Status, "request_id": requestIDOf(c)}
			if len(p.Errors) > 0 {
				body["errors"] = p.Errors
			}
			return c.JSON(p.Status, body)
		}
	}
}

// principalFor is the caller acting for the user a request names: a
// project key's user_id is honoured inside its own org, every other
// credential may only name itself (domain.Principal.ActAs). A user_id is
// relative to the credential's org, so another org's user can only be
// named by naming that org: an org_id or project_id that is not the
// credential's org is refused, as the org never comes from a request
// (docs/security.md, "Which user a request acts for").
func principalFor(c echo.Context, user string, orgs ...string) (domain.Principal, error) {
	p, _ := principalOf(c)
	for _, org := range orgs {
		if org != "" && org != string(p.OrgID) {
			return domain.Principal{}, &domain.ForbiddenError{Reason: "org_id or project_id names another organisation than the credential's"}
		}
	}
	return p.ActAs(domain.UserID(user))
}

// principalForMemory is principalFor for a route that names a memory but
// maybe no user: a project key then acts for the memory's owner, found
// inside the key's org only.
func (m *mem0) principalForMemory(c echo.Context, id domain.MemoryID) (domain.Principal, error) {
	p, _ := principalOf(c)
	user := c.QueryParam("user_id")
	if p.ProjectKey && user == "" {
		owner, err := m.d.Owners.OwnerOf(c.Request().Context(), p.OrgID, id)
		if err != nil {
			return domain.Principal{}, err
		}
		user = string(owner)
	}
	return principalFor(c, user, c.QueryParam("org_id"), c.QueryParam("project_id"))
}

// decodeMem0 reads a JSON object leniently: mem0's SDKs send fields Engram
// does not use (output_format, version, async_mode...), which are ignored
// here rather than refused as on /api/v1. Invalid UTF-8 and an oversized
// body are refused as everywhere (decodeBody).
func decodeMem0(c echo.Context, v any) error { return decodeBody(c, v, false) }

func (m *mem0) ping(c echo.Context) error {
	p, _ := principalOf(c)
	// mem0 2.x sends org_id and project_id back on every call once it has
	// both; Engram checks the org and has no projects beyond it.
	return c.JSON(http.StatusOK, map[string]any{"status": "ok", "org_id": string(p.OrgID), "project_id": string(p.OrgID), "user_email": nil})
}
