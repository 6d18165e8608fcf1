package dashboard

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

type appsData struct {
	Items []appItem
}

func (x *Dashboard) appsPage(w http.ResponseWriter, r *http.Request, s *session) {
	var apps struct {
		Items []appItem `json:"items"`
	}
	p := x.api(r, s, http.MethodGet, "/apps", nil, &apps)
	x.render(w, r, s, http.StatusOK, "apps", view{Title: "Apps", Nav: "apps", Notice: noticeOf(r), Error: p, Data: appsData{Items: apps.Items}})
}

// setApp pauses or resumes an app: a paused app's clients can neither
// read nor write (the API enforces it for every credential).
func (x *Dashboard) setApp(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	active := r.PostForm.Get("active") == "true"
	if p := x.api(r, s, http.MethodPatch, "/apps/"+url.PathEscape(id), map[string]any{"is_active": active}, nil); p != nil {
		x.render(w, r, s, http.StatusOK, "error", view{Title: "App not changed", Nav: "apps", Error: p})
		return
	}
	notice := "App paused."
	if active {
		notice = "App resumed."
	}
	back(w, r, Prefix+"apps", notice)
}

type keyItem struct {
	ID         string     `json:"id"`
	Key        string     `json:"key"`
	Display    string     `json:"display"`
	Name       string     `json:"name"`
	Kind       string     `json:"kind"`
	Scopes     []string   `json:"scopes"`
	App        string     `json:"app"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

type grantItem struct {
	ID         string     `json:"id"`
	ClientID   string     `json:"client_id"`
	ClientName string     `json:"client_name"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	Dashboard  bool       `json:"-"`
}

type keysData struct {
	Grants []grantItem // connected applications (OAuth grants)
	// Issuer is the external issuer users sign in at; its grants are
	// its own, so the page lists none.
	Issuer  string
	Items   []keyItem
	Created *keyItem // the key just created, shown once
	Scopes  []string // what a new key may be given
	Form    struct{ Name, App string }
}

// keyScopes are the scopes offered for a new key: the dashboard's own,
// less key management (a key cannot mint keys from the dashboard).
func (x *Dashboard) keyScopes() []string {
	var out []string
	for _, sc := range x.cfg.Scopes {
		if sc != "keys:write" {
			out = append(out, sc)
		}
	}
	return out
}

func (x *Dashboard) keysPage(w http.ResponseWriter, r *http.Request, s *session) {
	x.renderKeys(w, r, s, nil, keysData{})
}

func (x *Dashboard) renderKeys(w http.ResponseWriter, r *http.Request, s *session, fail *problem, d keysData) {
	var keys struct {
		Items []keyItem `json:"items"`
	}
	if p := x.api(r, s, http.MethodGet, "/keys", nil, &keys); p != nil && fail == nil {
		fail = p
	}
	d.Items, d.Scopes, d.Issuer = keys.Items, x.keyScopes(), x.cfg.Issuer
	var grants struct {
		Items []grantItem `json:"items"`
	}
	if d.Issuer == "" {
		if p := x.api(r, s, http.MethodGet, "/oauth-grants", nil, &grants); p != nil && fail == nil {
			fail = p
		}
	}
	for _, g := range grants.Items {
		if g.RevokedAt == nil {
			g.Dashboard = g.ClientID == x.cfg.ClientID
			d.Grants = append(d.Grants, g)
		}
	}
	status := http.StatusOK
	if d.Created != nil {
		status = http.StatusCreated
	}
	x.render(w, r, s, status, "keys", view{Title: "API keys", Nav: "keys", Notice: noticeOf(r), Error: fail, Data: d})
}

// createKey answers with the page itself, not a redirect: the key is
// shown this once and never stored in a URL or the session.
func (x *Dashboard) createKey(w http.ResponseWriter, r *http.Request, s *session) {
	f := r.PostForm
	body := map[string]any{"name": strings.TrimSpace(f.Get("name")), "scopes": f["scope"]}
	if a := strings.TrimSpace(f.Get("app")); a != "" {
		body["app"] = a
	}
	var k keyItem
	if p := x.api(r, s, http.MethodPost, "/keys", body, &k); p != nil {
		d := keysData{}
		d.Form.Name, d.Form.App = f.Get("name"), f.Get("app")
		x.renderKeys(w, r, s, p, d)
		return
	}
	x.renderKeys(w, r, s, nil, keysData{Created: &k})
}

func (x *Dashboard) revokeKey(w http.ResponseWriter, r *http.Request, s *session) {
	if p := x.api(r, s, http.MethodDelete, "/keys/"+url.PathEscape(r.PathValue("id")), nil, nil); p != nil {
		x.renderKeys(w, r, s, p, keysData{})
		return
	}
	back(w, r, Prefix+"keys", "Key revoked.")
}

// revokeGrant disconnects an application: its grant is revoked at the
// authorization server (through the API).
func (x *Dashboard) revokeGrant(w http.ResponseWriter, r *http.Request, s *session) {
	if p := x.api(r, s, http.MethodDelete, "/oauth-grants/"+url.PathEscape(r.PathValue("id")), nil, nil); p != nil {
		x.renderKeys(w, r, s, p, keysData{})
		return
	}
	back(w, r, Prefix+"keys", "Application disconnected.")
}
