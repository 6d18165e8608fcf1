package dashboard

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

const (
	sessionCookie = "engram_ui"
	loginCookie   = "engram_ui_login"
	// refreshAhead refreshes an access token this long before it expires.
	refreshAhead = 30 * time.Second
	maxFormBytes = 256 << 10
)

// session is one signed-in browser. The tokens never leave the server.
type session struct {
	mu        sync.Mutex // one refresh at a time: refresh tokens rotate, a second use revokes the grant
	user, org string
	access    string
	accessExp time.Time
	refresh   string
	csrf      string
	expires   time.Time
	reads     readAfter // read-your-writes across the session's API calls
}

type pendingLogin struct {
	verifier, next string
	expires        time.Time
}

// sessionStore keeps sessions in this process, keyed by the SHA-256 of
// the cookie value: a restart signs browsers out (their grants stay, and
// the next sign-in is one click while the authorization server's own
// sign-in session lasts).
type sessionStore struct {
	mu      sync.Mutex
	max     int
	byHash  map[string]*session
	pending map[string]pendingLogin
}

func newSessionStore(max int) *sessionStore {
	return &sessionStore{max: max, byHash: map[string]*session{}, pending: map[string]pendingLogin{}}
}

func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (st *sessionStore) get(value string, now time.Time) (*session, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.byHash[hashOf(value)]
	if ok && now.After(s.expires) {
		delete(st.byHash, hashOf(value))
		return nil, false
	}
	return s, ok
}

// put stores s under a new cookie value, dropping expired sessions first
// and the oldest one when the store is full.
func (st *sessionStore) put(s *session, now time.Time) string {
	value := randomString(32)
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.byHash) >= st.max {
		var oldest string
		for k, v := range st.byHash {
			if now.After(v.expires) {
				delete(st.byHash, k)
			} else if oldest == "" || v.expires.Before(st.byHash[oldest].expires) {
				oldest = k
			}
		}
		if len(st.byHash) >= st.max {
			delete(st.byHash, oldest)
		}
	}
	st.byHash[hashOf(value)] = s
	return value
}

func (st *sessionStore) drop(value string) {
	st.mu.Lock()
	delete(st.byHash, hashOf(value))
	st.mu.Unlock()
}

func (st *sessionStore) putPending(state string, p pendingLogin) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for k, v := range st.pending {
		if time.Now().After(v.expires) {
			delete(st.pending, k)
		}
	}
	if len(st.pending) < 4*st.max {
		st.pending[hashOf(state)] = p
	}
}

func (st *sessionStore) takePending(state string) (pendingLogin, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	p, ok := st.pending[hashOf(state)]
	delete(st.pending, hashOf(state))
	return p, ok && time.Now().Before(p.expires)
}

// safeNext keeps a post-sign-in destination on the dashboard.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return Prefix
	}
	return next
}

// login starts the authorization code flow with PKCE.
func (x *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	state, verifier := randomString(24), randomString(48)
	x.sessions.putPending(state, pendingLogin{verifier: verifier, next: safeNext(r.URL.Query().Get("next")), expires: time.Now().Add(10 * time.Minute)})
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: state, Path: Prefix + "callback", HttpOnly: true,
		Secure: x.cfg.TLS, SameSite: http.SameSiteLaxMode, MaxAge: 600})
	sum := sha256.Sum256([]byte(verifier))
	q := make([]string, 0, 8)
	for _, kv := range [][2]string{
		{"response_type", "code"}, {"client_id", x.cfg.ClientID}, {"redirect_uri", RedirectURI(x.cfg.PublicURL)},
		{"code_challenge", base64.RawURLEncoding.EncodeToString(sum[:])}, {"code_challenge_method", "S256"},
		{"scope", strings.Join(x.cfg.Scopes, " ")}, {"state", state},
	} {
		q = append(q, kv[0]+"="+queryEscape(kv[1]))
	}
	http.Redirect(w, r, "/authorize?"+strings.Join(q, "&"), http.StatusSeeOther)
}

type tokenResponse struct {
	Access    string `json:"access_token"`
	Refresh   string `json:"refresh_token"`
	ExpiresIn int    `json:"expires_in"`
	Error     string `json:"error"`
	Desc      string `json:"error_description"`
}

// callback receives the code, checks that this browser started the
// sign-in (the state equals its login cookie), and exchanges the code in
// process.
func (x *Dashboard) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c, err := r.Cookie(loginCookie)
	state := q.Get("state")
	fail := func(status int, title, detail string) {
		x.render(w, r, nil, status, "signin", view{Title: "Sign-in failed", Error: &problem{Title: title, Detail: detail}})
	}
	if err != nil || state == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(state)) != 1 {
		fail(http.StatusBadRequest, "This sign-in was not started in this browser", "Start again with the Sign in button.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: Prefix + "callback", MaxAge: -1, HttpOnly: true, Secure: x.cfg.TLS})
	p, ok := x.sessions.takePending(state)
	if !ok {
		fail(http.StatusBadRequest, "This sign-in has expired", "Start again with the Sign in button.")
		return
	}
	if e := q.Get("error"); e != "" {
		fail(http.StatusForbidden, "Sign-in was not completed ("+e+")", q.Get("error_description"))
		return
	}
	tok, status := x.tokenRequest(r, map[string]string{
		"grant_type": "authorization_code", "code": q.Get("code"), "client_id": x.cfg.ClientID,
		"redirect_uri": RedirectURI(x.cfg.PublicURL), "code_verifier": p.verifier,
	})
	if status != http.StatusOK {
		fail(http.StatusBadGateway, "The authorization server refused the sign-in ("+tok.Error+")", tok.Desc)
		return
	}
	now := time.Now()
	s := &session{access: tok.Access, refresh: tok.Refresh, accessExp: now.Add(time.Duration(tok.ExpiresIn) * time.Second),
		csrf: randomString(24), expires: now.Add(x.cfg.SessionTTL)}
	s.user, s.org = tokenSubject(tok.Access)
	value := x.sessions.put(s, now)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: value, Path: "/", HttpOnly: true, Secure: x.cfg.TLS,
		SameSite: http.SameSiteLaxMode, MaxAge: int(x.cfg.SessionTTL.Seconds())})
	http.Redirect(w, r, p.next, http.StatusSeeOther)
}

// tokenSubject reads sub and org_id from the token the authorization
// server just issued in process (for display only; the API verifies it).
func tokenSubject(jwt string) (user, org string) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return "", ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", ""
	}
	var c struct {
		Sub string `json:"sub"`
		Org string `json:"org_id"`
	}
	_ = json.Unmarshal(raw, &c)
	return c.Sub, c.Org
}

// sessionOf returns the request's session, with a fresh access token.
func (x *Dashboard) sessionOf(r *http.Request) (*session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, false
	}
	s, ok := x.sessions.get(c.Value, time.Now())
	if !ok {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Until(s.accessExp) > refreshAhead {
		return s, true
	}
	tok, status := x.tokenRequest(r, map[string]string{"grant_type": "refresh_token", "refresh_token": s.refresh, "client_id": x.cfg.ClientID})
	if status != http.StatusOK {
		x.d.Logger.InfoContext(r.Context(), "dashboard: refresh refused; signing the browser out", "error", tok.Error)
		x.sessions.drop(c.Value)
		return nil, false
	}
	s.access, s.refresh = tok.Access, tok.Refresh
	s.accessExp = time.Now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	return s, true
}

// logout revokes the grant (RFC 7009, in process) and ends the session.
func (x *Dashboard) logout(w http.ResponseWriter, r *http.Request, s *session) {
	s.mu.Lock()
	refresh := s.refresh
	s.mu.Unlock()
	x.oauthForm(r, "/revoke", map[string]string{"token": refresh})
	if c, err := r.Cookie(sessionCookie); err == nil {
		x.sessions.drop(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: x.cfg.TLS, SameSite: http.SameSiteLaxMode})
	x.render(w, r, nil, http.StatusOK, "signin", view{Title: "Signed out", Notice: "You are signed out."})
}

// page wraps a GET page: no session, sign in first.
func (x *Dashboard) page(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, ok := x.sessionOf(r)
		if !ok {
			x.render(w, r, nil, http.StatusUnauthorized, "signin", view{Title: "Sign in", Next: r.URL.RequestURI()})
			return
		}
		h(w, r, s)
	}
}

// post wraps a state-changing form: same origin, signed in, and the
// session's CSRF token in the form, or 403 before anything is done.
func (x *Dashboard) post(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		forbid := func(detail string) {
			x.render(w, r, nil, http.StatusForbidden, "error", view{Title: "Refused",
				Error: &problem{Title: "Forbidden", Status: http.StatusForbidden, Detail: detail}})
		}
		if o := r.Header.Get("Origin"); o != "" && o != x.cfg.PublicURL {
			forbid("The form was sent from another site (" + o + ").")
			return
		}
		if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
			forbid("The form was sent from another site.")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			forbid("The form could not be read.")
			return
		}
		s, ok := x.sessionOf(r)
		if !ok {
			forbid("You are not signed in (or your session ended). Sign in and try again.")
			return
		}
		if subtle.ConstantTimeCompare([]byte(s.csrf), []byte(r.PostForm.Get("csrf"))) != 1 {
			forbid("The form's CSRF token is missing or wrong. Reload the page and try again.")
			return
		}
		h(w, r, s)
	}
}
