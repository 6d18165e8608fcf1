package httpapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// EnableKeys adds the API key routes. Call it before serving.
func (s *Server) EnableKeys(k *app.KeyService) {
	if k == nil {
		return
	}
	s.route(http.MethodPost, "/keys", domain.ScopeKeysWrite, s.createKey(k))
	s.route(http.MethodGet, "/keys", domain.ScopeKeysWrite, s.listKeys(k))
	s.route(http.MethodDelete, "/keys/:key_id", domain.ScopeKeysWrite, s.revokeKey(k))
}

type createKeyRequest struct {
	Name      string         `json:"name"`
	Kind      domain.KeyKind `json:"kind"`
	Scopes    []domain.Scope `json:"scopes"`
	App       domain.AppID   `json:"app"`
	ExpiresAt *time.Time     `json:"expires_at"`
}

// keyView is a key as the API shows it: never the hash, the key itself only
// in the answer to its creation.
type keyView struct {
	ID         string         `json:"id"`
	Key        string         `json:"key,omitempty"`
	Display    string         `json:"display"`
	Name       string         `json:"name"`
	Kind       domain.KeyKind `json:"kind"`
	UserID     domain.UserID  `json:"user_id,omitempty"`
	Scopes     []domain.Scope `json:"scopes"`
	App        domain.AppID   `json:"app,omitempty"`
	CreatedBy  domain.UserID  `json:"created_by"`
	CreatedAt  time.Time      `json:"created_at"`
	ExpiresAt  *time.Time     `json:"expires_at"`
	LastUsedAt *time.Time     `json:"last_used_at"`
	RevokedAt  *time.Time     `json:"revoked_at"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func viewKey(k domain.APIKey) keyView {
	return keyView{
		ID: k.ID, Display: k.Display, Name: k.Name, Kind: k.Kind, UserID: k.UserID, Scopes: k.Scopes, App: k.AppID,
		CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt, ExpiresAt: optTime(k.ExpiresAt),
		LastUsedAt: optTime(k.LastUsedAt), RevokedAt: optTime(k.RevokedAt),
	}
}

func (s *Server) createKey(k *app.KeyService) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req createKeyRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		r := app.KeyRequest{Kind: req.Kind, Name: req.Name, Scopes: req.Scopes, AppID: req.App}
		if req.ExpiresAt != nil {
			r.ExpiresAt = *req.ExpiresAt
		}
		p, _ := principalOf(c)
		rec, key, err := k.CreateKey(c.Request().Context(), p, r)
		if err != nil {
			return err
		}
		v := viewKey(rec)
		v.Key = key
		c.Response().Header().Set(echo.HeaderLocation, "/api/v1/keys/"+rec.ID)
		return c.JSON(http.StatusCreated, v)
	}
}

func (s *Server) listKeys(k *app.KeyService) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, _ := principalOf(c)
		keys, err := k.ListKeys(c.Request().Context(), p)
		if err != nil {
			return err
		}
		items := make([]keyView, len(keys))
		for i, key := range keys {
			items[i] = viewKey(key)
		}
		return c.JSON(http.StatusOK, map[string]any{"items": items})
	}
}

func (s *Server) revokeKey(k *app.KeyService) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("key_id")
		if !domain.ValidID(id) {
			return domain.Invalid("key_id", "must be a lower-case UUID")
		}
		p, _ := principalOf(c)
		rec, err := k.RevokeKey(c.Request().Context(), p, id)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, viewKey(rec))
	}
}
