package httpapi

import (
	"net/http"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// searchMemories answers GET /api/v1/memories?q=: the same page shape as
// the plain listing, its items the active memories most relevant to q,
// best first, through the same experiment-aware search as POST
// /api/v1/search (so it is logged and can receive feedback like any other
// search). A relevance ranking has no stable order to page through, so
// there is no cursor: next_cursor is always null, and a cursor or a state
// filter (search sees active memories only) is refused rather than
// silently ignored. Clients that need scores, ranks or the query_id use
// POST /api/v1/search.
func (s *Server) searchMemories(c echo.Context) error {
	if s.searcher == nil {
		return domain.Invalid("q", "search is not enabled on this server; list without q")
	}
	q := c.QueryParam("q")
	if len(q) > domain.MaxQueryBytes || !utf8.ValidString(q) {
		// Checked here so the problem names this route's parameter, not
		// the search request's "query".
		return domain.Invalid("q", "must be valid UTF-8 of at most %d bytes", domain.MaxQueryBytes)
	}
	for _, name := range []string{"cursor", "state"} {
		if c.QueryParams().Has(name) {
			return domain.Invalid(name, "cannot be combined with q: search returns one page of active memories")
		}
	}
	limit, err := queryInt(c, "limit")
	if err != nil {
		return err
	}
	appID := domain.AppID(c.QueryParam("app"))
	if appID != "" {
		if err := domain.ValidateAppID(appID); err != nil {
			return err
		}
	}
	var filters []byte
	if raw := c.QueryParam("filters"); raw != "" {
		filters = []byte(raw)
	}
	where, err := scopedWhere(c, c.QueryParam("agent_id"), c.QueryParam("run_id"), filters)
	if err != nil {
		return err
	}
	req := app.SearchRequest{Query: q, Limit: limit, Filter: domain.SearchFilter{App: appID, Categories: queryList(c, "category")}, Where: where}
	p, _ := principalOf(c)
	res, err := s.searcher.Search(c.Request().Context(), p, req, "")
	if err != nil {
		return err
	}
	items := make([]domain.Memory, len(res.Results))
	for i, h := range res.Results {
		items[i] = h.Memory
	}
	return c.JSON(http.StatusOK, viewPage(domain.Page{Items: items}))
}
