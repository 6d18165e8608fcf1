package httpapi

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

type updateAppRequest struct {
	IsActive    *bool   `json:"is_active"`
	Description *string `json:"description"`
}

func appIDParam(c echo.Context) (domain.AppID, error) {
	id := domain.AppID(c.Param("id"))
	if err := domain.ValidateAppID(id); err != nil {
		return "", err
	}
	return id, nil
}

// memoryCounts reads per-app counts for the app views when the token may
// read stats; otherwise the views leave memory_count out rather than
// widening what apps:read reveals.
func (s *Server) memoryCounts(ctx context.Context, p domain.Principal) (*domain.Stats, error) {
	if !p.HasScope(domain.ScopeStatsRead) {
		return nil, nil
	}
	st, err := s.d.Memories.Stats(ctx, p)
	if err != nil {
		return nil, err
	}
	return &st, nil
}

func (s *Server) listApps(c echo.Context) error {
	p, _ := principalOf(c)
	ctx := c.Request().Context()
	// counts=false: the caller wants the apps only (the dashboard's app
	// filter), not the counts, which flush the access log and read the
	// tallies on every page view (issue 19).
	withCounts := true
	switch c.QueryParam("counts") {
	case "", "true":
	case "false":
		withCounts = false
	default:
		return domain.Invalid("counts", "must be true or false")
	}
	apps, err := s.d.Memories.ListApps(ctx, p)
	if err != nil {
		return err
	}
	var counts *domain.Stats
	if withCounts {
		if counts, err = s.memoryCounts(ctx, p); err != nil {
			return err
		}
	}
	items := make([]appView, len(apps))
	for i, a := range apps {
		items[i] = viewApp(a, counts)
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

func (s *Server) getApp(c echo.Context) error {
	id, err := appIDParam(c)
	if err != nil {
		return err
	}
	p, _ := principalOf(c)
	ctx := c.Request().Context()
	a, err := s.d.Memories.GetApp(ctx, p, id)
	if err != nil {
		return err
	}
	counts, err := s.memoryCounts(ctx, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewApp(a, counts))
}

func (s *Server) updateApp(c echo.Context) error {
	id, err := appIDParam(c)
	if err != nil {
		return err
	}
	var req updateAppRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p, _ := principalOf(c)
	a, err := s.d.Memories.UpdateApp(c.Request().Context(), p, id, app.AppPatch{Active: req.IsActive, Description: req.Description})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewApp(a, nil))
}

// appMemories lists the memories an app created: the memory list filtered by
// app. It needs memories:read only, so it does not look the app up (that
// needs apps:read): an app the caller does not have lists as empty.
func (s *Server) appMemories(c echo.Context) error {
	id, err := appIDParam(c)
	if err != nil {
		return err
	}
	if c.QueryParam("app") != "" {
		return domain.Invalid("app", "is given by the path")
	}
	q, err := listQuery(c)
	if err != nil {
		return err
	}
	q.App = id
	p, _ := principalOf(c)
	page, err := s.d.Memories.List(c.Request().Context(), p, q, "")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewPage(page))
}

func (s *Server) appAccessed(c echo.Context) error {
	id, err := appIDParam(c)
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit")
	if err != nil {
		return err
	}
	p, _ := principalOf(c)
	entries, next, err := s.d.Memories.AppAccessed(c.Request().Context(), p, id, limit, c.QueryParam("cursor"))
	if err != nil {
		return err
	}
	items := make([]accessView, len(entries))
	for i, e := range entries {
		items[i] = accessView{MemoryID: e.MemoryID, Kind: e.Kind, AccessedAt: e.AccessedAt.UTC()}
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items, "next_cursor": cursorOrNull(next)})
}

func (s *Server) stats(c echo.Context) error {
	p, _ := principalOf(c)
	st, err := s.d.Memories.Stats(c.Request().Context(), p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewStats(st))
}
