package dashboard

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
)

type sessionEvent struct {
	ID        string    `json:"id"`
	Role      string    `json:"role"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
}

type sessionSummary struct {
	ID        string    `json:"id"`
	Events    int       `json:"events"`
	ExpiresAt time.Time `json:"expires_at"`
}

type sessionsData struct {
	ID       string
	Events   []sessionEvent
	Looked   bool
	Sessions []sessionSummary
}

// sessionsPage lists the user's live sessions (the 50 most recently
// written, GET /api/v1/sessions) and shows one session's events by its id.
func (x *Dashboard) sessionsPage(w http.ResponseWriter, r *http.Request, s *session) {
	d := sessionsData{ID: strings.TrimSpace(r.URL.Query().Get("id"))}
	var list struct {
		Sessions []sessionSummary `json:"sessions"`
	}
	p := x.api(r, s, http.MethodGet, "/sessions?limit=50", nil, &list)
	d.Sessions = list.Sessions
	if p == nil && d.ID != "" {
		var res struct {
			Events []sessionEvent `json:"events"`
		}
		p = x.api(r, s, http.MethodGet, "/sessions/"+url.PathEscape(d.ID)+"/events?limit=200", nil, &res)
		d.Events, d.Looked = res.Events, p == nil
	}
	x.render(w, r, s, http.StatusOK, "sessions", view{Title: "Sessions", Nav: "sessions", Error: p, Data: d})
}

type snippet struct {
	Client, Where, Code string
}

type installData struct {
	MCPURL   string
	Issuer   string // the external issuer clients sign in at; "": this server
	Snippets []snippet
}

func jsonBlock(v any) string {
	raw, _ := json.MarshalIndent(v, "", "  ")
	return string(raw)
}

// installPage gives each MCP client's configuration with this server's
// URL filled in. Clients sign in through the browser (OAuth); none needs
// a token pasted.
func (x *Dashboard) installPage(w http.ResponseWriter, r *http.Request, s *session) {
	mcp := x.cfg.PublicURL + "/mcp"
	remote := map[string]any{"command": "npx", "args": []string{"-y", "mcp-remote", mcp}}
	d := installData{MCPURL: mcp, Issuer: x.cfg.Issuer, Snippets: []snippet{
		{"Claude Code", "run in a terminal", "claude mcp add --transport http engram " + mcp},
		{"Claude Desktop", "claude_desktop_config.json (Settings → Developer → Edit config)", jsonBlock(map[string]any{"mcpServers": map[string]any{"engram": remote}})},
		{"Cursor", "~/.cursor/mcp.json", jsonBlock(map[string]any{"mcpServers": map[string]any{"engram": map[string]any{"url": mcp}}})},
		{"VS Code", ".vscode/mcp.json", jsonBlock(map[string]any{"servers": map[string]any{"engram": map[string]any{"type": "http", "url": mcp}}})},
		{"Windsurf", "~/.codeium/windsurf/mcp_config.json", jsonBlock(map[string]any{"mcpServers": map[string]any{"engram": map[string]any{"serverUrl": mcp}}})},
		{"Any MCP client", "Streamable HTTP endpoint; OAuth discovery at /.well-known/oauth-protected-resource", mcp},
	}}
	x.render(w, r, s, http.StatusOK, "install", view{Title: "Install", Nav: "install", Data: d})
}

func (x *Dashboard) accountPage(w http.ResponseWriter, r *http.Request, s *session) {
	x.render(w, r, s, http.StatusOK, "account", view{Title: "Your data", Nav: "account", Notice: noticeOf(r)})
}

// exportData streams the subject-access export straight from the API to
// the browser (no buffering: it can be large).
func (x *Dashboard) exportData(w http.ResponseWriter, r *http.Request, s *session) {
	x.streamAPI(w, r, s, "/api/v1/me/export")
}

// streamAPI answers the browser with the API's answer to a GET of path as
// the signed-in user, streamed as it comes (exports and archives can be
// large), with the session's read-your-writes stamp.
func (x *Dashboard) streamAPI(w http.ResponseWriter, r *http.Request, s *session, path string) {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, path, http.NoBody)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.mu.Lock()
	req.Header.Set("Authorization", "Bearer "+s.access)
	s.mu.Unlock()
	s.reads.stamp(req)
	req.RemoteAddr, req.Host = r.RemoteAddr, r.Host
	x.d.API.ServeHTTP(w, req)
}

// deleteMyData erases everything of the signed-in user (DELETE /me) after
// the user typed the confirmation word, then signs the browser out.
func (x *Dashboard) deleteMyData(w http.ResponseWriter, r *http.Request, s *session) {
	if r.PostForm.Get("confirm") != "delete" {
		x.render(w, r, s, http.StatusOK, "account", view{Title: "Your data", Nav: "account", Error: &problem{
			Title: "Not confirmed", Status: http.StatusBadRequest, Detail: `Type "delete" in the box to confirm.`}})
		return
	}
	if p := x.api(r, s, http.MethodDelete, "/me", nil, nil); p != nil {
		x.render(w, r, s, http.StatusOK, "account", view{Title: "Your data", Nav: "account", Error: p})
		return
	}
	back(w, r, Prefix+"account", "Your data is being erased.")
}
