package oauthserver

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
)

// pageCSS is the page's only styling, inline and allowed by its hash: the
// policy has no 'unsafe-inline' and the page loads nothing else.
const pageCSS = `body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b;background:#fff}
@media (prefers-color-scheme:dark){body{color:#eee;background:#121212}input{background:#222;color:#eee}}
h1{font-size:1.4rem}ul{padding-left:1.2rem}label{display:block;margin:.6rem 0 .2rem}
input[type=text],input[type=password]{width:100%;padding:.5rem;box-sizing:border-box;font:inherit}
.err{color:#b00020;font-weight:600}.dark .err{color:#ff6b6b}
button{font:inherit;padding:.5rem 1.2rem;margin:1rem .5rem 0 0}code{font-size:.9em}`

var pageCSSHash = func() string {
	sum := sha256.Sum256([]byte(pageCSS))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{if .Error}}Sign-in error{{else}}Authorize {{.ClientName}}{{end}} · Engram</title><style>{{.CSS}}</style></head>
<body><main>
{{if .Error}}
<h1>This sign-in request cannot be completed</h1>
<p class="err" role="alert"><code>{{.Error}}</code>: {{.Description}}</p>
<p>Start again from the application that sent you here.</p>
{{else}}
<h1>Authorize {{.ClientName}}</h1>
<p><strong>{{.ClientName}}</strong> (returning to <code>{{.RedirectHost}}</code>) asks to use your Engram memory with these permissions:</p>
<ul>{{range .Scopes}}<li><code>{{.Name}}</code> — {{.Desc}}</li>{{end}}</ul>
{{if .Message}}<p class="err" role="alert" id="signin-error">{{.Message}}</p>{{end}}
<form method="post" action="{{.Action}}">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
<input type="hidden" name="csrf" value="{{.CSRF}}">
{{if .SignedIn}}<p>Signed in as <strong>{{.SignedIn}}</strong>.</p>
{{else}}
<label for="user">User</label><input type="text" id="user" name="user" value="{{.User}}" autocomplete="username" required>
<label for="org">Organisation</label><input type="text" id="org" name="org" value="{{.Org}}" autocomplete="organization" required>
<label for="secret">Password or one-time code</label><input type="password" id="secret" name="secret" autocomplete="current-password" required{{if .Message}} aria-describedby="signin-error"{{end}}>
{{end}}
<button type="submit" name="action" value="allow" id="allow">Allow</button>
<button type="submit" name="action" value="deny" id="deny" formnovalidate>Deny</button>
</form>
{{end}}
</main></body></html>`))

type scopeLine struct{ Name, Desc string }

type pageData struct {
	CSS                      template.CSS
	Error, Description       string
	ClientName, RedirectHost string
	Scopes                   []scopeLine
	Message                  string
	Action                   string
	Hidden                   map[string]string
	CSRF                     string
	SignedIn                 string
	User, Org                string
}

var scopeDescriptions = map[string]string{
	"memories:read": "read and search your memories", "memories:write": "add, change and delete memories",
	"apps:read": "see the apps that use your memory", "apps:write": "pause and describe those apps",
	"stats:read": "see counts of your memories", "sessions:read": "read short-term session memory",
	"sessions:write": "write short-term session memory", "feedback:read": "read search feedback",
	"feedback:write": "send search feedback", "backup:read": "export all your data",
	"backup:write": "import data into your memory", "keys:write": "create and revoke your API keys",
	"experiments:read": "see your organisation's ranking experiments and their results",
}

// renderPage writes the page with a policy that lets it do one thing: post
// its form to this server, and be redirected (after that post) to the
// client's redirect URI, which Chrome checks against form-action too.
func (s *Server) renderPage(w http.ResponseWriter, status int, d pageData, redirectURI string) {
	d.CSS = template.CSS(pageCSS)
	formAction := "'self'"
	if u, err := url.Parse(redirectURI); err == nil && u.Host != "" {
		formAction += " " + u.Scheme + "://" + u.Host
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src "+pageCSSHash+"; form-action "+formAction+
		"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, d)
}

// errorPage tells the user (not the client) why a request that cannot be
// sent back to the client failed: an unknown client_id or a redirect_uri it
// did not register (RFC 6749 §4.1.2.1).
func (s *Server) errorPage(w http.ResponseWriter, status int, code, desc string) {
	s.renderPage(w, status, pageData{Error: code, Description: desc}, "")
}
