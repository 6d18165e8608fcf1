package httpapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// EnableGrants adds the connected-applications routes (the built-in
// authorization server's grants). Call it before serving.
func (s *Server) EnableGrants(g *app.GrantService) {
	if g == nil {
		return
	}
	s.route(http.MethodGet, "/oauth-grants", domain.ScopeKeysWrite, func(c echo.Context) error {
		p, _ := principalOf(c)
		apps, err := g.List(c.Request().Context(), p)
		if err != nil {
			return err
		}
		items := make([]grantView, len(apps))
		for i, a := range apps {
			items[i] = viewGrant(a)
		}
		return c.JSON(http.StatusOK, map[string]any{"items": items})
	})
	s.route(http.MethodDelete, "/oauth-grants/:grant_id", domain.ScopeKeysWrite, func(c echo.Context) error {
		p, _ := principalOf(c)
		if err := g.Revoke(c.Request().Context(), p, c.Param("grant_id")); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})
}

type grantView struct {
	ID         string         `json:"id"`
	ClientID   string         `json:"client_id"`
	ClientName string         `json:"client_name"`
	Scopes     []domain.Scope `json:"scopes"`
	CreatedAt  time.Time      `json:"created_at"`
	RevokedAt  *time.Time     `json:"revoked_at"`
}

func viewGrant(a app.ConnectedApp) grantView {
	g := a.Grant
	v := grantView{ID: g.ID, ClientID: g.ClientID, ClientName: a.ClientName, Scopes: g.Scopes, CreatedAt: g.CreatedAt.UTC()}
	if v.Scopes == nil {
		v.Scopes = []domain.Scope{}
	}
	if !g.RevokedAt.IsZero() {
		at := g.RevokedAt.UTC()
		v.RevokedAt = &at
	}
	return v
}
