package dashboard

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/engram-memory/engram/domain"
)

const (
	sessionCookie = "engram_ui"
	loginCookie   = "engram_ui_login"
	// refreshAhead refreshes an access token this long before it expires.
	refreshAhead = 30 * time.Second
	// refreshLease is how long one process may take to refresh a session
	// before another may try (its holder died mid-refresh).
	refreshLease = 15 * time.Second
	maxFormBytes = 256 << 10
)

// session is one signed-in browser, read from the store for one request.
// The tokens never leave the server.
type session struct {
	mu        sync.Mutex // guards access for the request's handler
	idHash    string
	user, org string
	access    string
	accessExp time.Time
	refresh   string
	csrf      string
	// reads is the read-your-writes position of the session's API calls,
	// kept per process (readsByHash): a request that reaches another
	// engramd process starts without it.
	reads *readAfter
}

func (s *session) tenant() domain.Tenant {
	return domain.Tenant{OrgID: domain.OrgID(s.org), UserID: domain.UserID(s.user)}
}

// readsByHash keeps each session's read-your-writes position in this
// process, by the session's hash, bounded: when full it starts over (a
// session that loses its position reads as if it had written nothing).
type readsByHash struct {
	mu  sync.Mutex
	max int
	m   map[string]*readAfter
}

func (rs *readsByHash) of(idHash string) *readAfter {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if a, ok := rs.m[idHash]; ok {
		return a
	}
	if rs.m == nil || len(rs.m) >= rs.max {
		rs.m = map[string]*readAfter{}
	}
	a := &readAfter{}
	rs.m[idHash] = a
	return a
}

func (rs *readsByHash) drop(idHash string) {
	rs.mu.Lock()
	delete(rs.m, idHash)
	rs.mu.Unlock()
}

func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// csrfOf is the session's CSRF token, derived from the cookie: the
// browser's script cannot read the HttpOnly cookie, another site cannot
// read the page, and the store keeps no token (only the cookie's hash,
// which does not give this one).
func csrfOf(cookie string) string {
	sum := sha256.Sum256([]byte("engram-ui-csrf\x00" + cookie))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// loginState is the state parameter of a sign-in: the hash of its PKCE
// verifier, which the login cookie holds. The sign-in needs nothing kept
// on the server, so the callback may reach any engramd process.
func loginState(verifier string) string {
	sum := sha256.Sum256([]byte("engram-ui-state\x00" + verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// safeNext keeps a post-sign-in destination on the dashboard.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return Prefix
	}
	return next
}

// login starts the authorization code flow with PKCE. The login cookie
// holds the verifier and the destination; the state sent is the
// verifier's hash.
func (x *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	verifier := randomString(48)
	to, p := x.iss.authorizeURL(r, loginState(verifier), verifier)
	if p != nil {
		x.signinPage(w, r, p.Status, view{Title: "Sign-in unavailable", Error: p})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: verifier + "." + base64.RawURLEncoding.EncodeToString([]byte(safeNext(r.URL.Query().Get("next")))),
		Path: Prefix + "callback", HttpOnly: true, Secure: x.cfg.TLS, SameSite: http.SameSiteLaxMode, MaxAge: 600})
	http.Redirect(w, r, to, http.StatusSeeOther)
}

type tokenResponse struct {
	Access    string `json:"access_token"`
	Refresh   string `json:"refresh_token"`
	ExpiresIn int    `json:"expires_in"`
	Error     string `json:"error"`
	Desc      string `json:"error_description"`
}

// callback receives the code, checks that this browser started the
// sign-in (the state is the hash of the verifier its login cookie holds),
// and exchanges the code in process.
func (x *Dashboard) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	fail := func(status int, title, detail string) {
		x.signinPage(w, r, status, view{Title: "Sign-in failed", Error: &problem{Title: title, Detail: detail}})
	}
	c, err := r.Cookie(loginCookie)
	if err != nil {
		fail(http.StatusBadRequest, "This sign-in was not started in this browser, or has expired", "Start again with the Sign in button.")
		return
	}
	verifier, rawNext, _ := strings.Cut(c.Value, ".")
	nextB, _ := base64.RawURLEncoding.DecodeString(rawNext)
	state := q.Get("state")
	if verifier == "" || state == "" || subtle.ConstantTimeCompare([]byte(loginState(verifier)), []byte(state)) != 1 {
		fail(http.StatusBadRequest, "This sign-in was not started in this browser", "Start again with the Sign in button.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: Prefix + "callback", MaxAge: -1, HttpOnly: true, Secure: x.cfg.TLS})
	// RFC 9207: an external issuer that names itself in the response
	// must be the configured one (a mix-up sends another's code here).
	if iss := q.Get("iss"); x.cfg.Issuer != "" && iss != "" && iss != x.cfg.Issuer {
		fail(http.StatusBadRequest, "The sign-in came back from another issuer ("+iss+")", "Start again with the Sign in button.")
		return
	}
	if e := q.Get("error"); e != "" {
		fail(http.StatusForbidden, "Sign-in was not completed ("+e+")", q.Get("error_description"))
		return
	}
	tok, status := x.iss.exchange(r, q.Get("code"), verifier)
	if status != http.StatusOK {
		fail(http.StatusBadGateway, "The authorization server refused the sign-in ("+tok.Error+")", tok.Desc)
		return
	}
	who, p := x.iss.subject(r, tok.Access)
	if p != nil {
		fail(p.Status, p.Title, p.Detail)
		return
	}
	now := time.Now().UTC()
	value := randomString(32)
	err = x.d.Sessions.PutUISession(r.Context(), domain.UISession{IDHash: hashOf(value), OrgID: who.OrgID, UserID: who.UserID,
		Access: tok.Access, Refresh: tok.Refresh, AccessExpiresAt: now.Add(time.Duration(tok.ExpiresIn) * time.Second),
		CreatedAt: now, ExpiresAt: now.Add(x.cfg.SessionTTL)}, x.cfg.MaxSessions)
	if err != nil {
		x.d.Logger.ErrorContext(r.Context(), "dashboard: store the session", "error", err)
		fail(http.StatusServiceUnavailable, "The session could not be stored", "Try again in a moment.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: value, Path: "/", HttpOnly: true, Secure: x.cfg.TLS,
		SameSite: http.SameSiteLaxMode, MaxAge: int(x.cfg.SessionTTL.Seconds())})
	http.Redirect(w, r, safeNext(string(nextB)), http.StatusSeeOther)
}

// tokenSubject reads sub and org_id from a token the authorization
// server just issued to the dashboard directly (it names the session's
// tenant; the API verifies the token itself on every call).
func tokenSubject(jwt string) domain.Tenant {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return domain.Tenant{}
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return domain.Tenant{}
	}
	var c struct {
		Sub string `json:"sub"`
		Org string `json:"org_id"`
	}
	_ = json.Unmarshal(raw, &c)
	return domain.Tenant{OrgID: domain.OrgID(c.Org), UserID: domain.UserID(c.Sub)}
}

// sessionOf returns the request's session, with a fresh access token.
// The session is read from the store, so any engramd process on it
// serves any signed-in browser.
func (x *Dashboard) sessionOf(r *http.Request) (*session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, false
	}
	ctx, now := r.Context(), time.Now()
	u, err := x.d.Sessions.GetUISession(ctx, hashOf(c.Value), now)
	if err != nil {
		if !errors.Is(err, domain.ErrNotFound) {
			x.d.Logger.ErrorContext(ctx, "dashboard: read the session", "error", err)
		}
		return nil, false
	}
	s := &session{idHash: u.IDHash, user: string(u.UserID), org: string(u.OrgID), access: u.Access, accessExp: u.AccessExpiresAt,
		refresh: u.Refresh, csrf: csrfOf(c.Value), reads: x.reads.of(u.IDHash)}
	if u.AccessExpiresAt.Sub(now) > refreshAhead {
		return s, true
	}
	if s.refresh == "" {
		return s, now.Before(s.accessExp)
	}
	// Refresh tokens rotate and a reused one revokes the grant: of the
	// processes that see this session about to expire, the one holding
	// the lease refreshes; the others use the current token while it
	// lasts, or wait for the holder's new one.
	claimed, err := x.d.Sessions.ClaimUISessionRefresh(ctx, s.tenant(), s.idHash, now, now.Add(refreshLease))
	if err != nil {
		return nil, false
	}
	if !claimed {
		return x.awaitRefresh(r, s, c.Value)
	}
	tok, status := x.iss.refresh(r, s.refresh)
	if status == http.StatusOK && tokenSubject(tok.Access) != s.tenant() {
		// The session is bound to one user: an issuer that renews it
		// for another (a misconfigured mapper) signs the browser out.
		status, tok.Error = http.StatusForbidden, "the refreshed token names another user"
	}
	if status != http.StatusOK {
		x.d.Logger.InfoContext(ctx, "dashboard: refresh refused; signing the browser out", "error", tok.Error)
		_ = x.d.Sessions.DeleteUISession(ctx, s.tenant(), s.idHash)
		return nil, false
	}
	if tok.Refresh == "" {
		tok.Refresh = s.refresh
	}
	s.access, s.refresh = tok.Access, tok.Refresh
	s.accessExp = time.Now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	if err := x.d.Sessions.SaveUISessionTokens(ctx, s.tenant(), s.idHash, s.access, s.refresh, s.accessExp); err != nil {
		x.d.Logger.ErrorContext(ctx, "dashboard: save the refreshed tokens", "error", err)
		return nil, false
	}
	return s, true
}

// awaitRefresh serves a request while another process refreshes s: with
// the current token while it lasts, else with the holder's new one.
func (x *Dashboard) awaitRefresh(r *http.Request, s *session, cookie string) (*session, bool) {
	if time.Now().Before(s.accessExp) {
		return s, true
	}
	for range 20 {
		select {
		case <-r.Context().Done():
			return nil, false
		case <-time.After(100 * time.Millisecond):
		}
		u, err := x.d.Sessions.GetUISession(r.Context(), s.idHash, time.Now())
		if err != nil {
			return nil, false
		}
		if time.Now().Before(u.AccessExpiresAt) {
			s.access, s.refresh, s.accessExp = u.Access, u.Refresh, u.AccessExpiresAt
			return s, true
		}
	}
	return nil, false
}

// logout revokes the grant (RFC 7009: in process, or at the external
// issuer's revocation endpoint when it has one) and ends the session.
func (x *Dashboard) logout(w http.ResponseWriter, r *http.Request, s *session) {
	s.mu.Lock()
	refresh := s.refresh
	s.mu.Unlock()
	if refresh != "" {
		x.iss.revoke(r, refresh)
	}
	x.reads.drop(s.idHash)
	if err := x.d.Sessions.DeleteUISession(r.Context(), s.tenant(), s.idHash); err != nil {
		x.d.Logger.ErrorContext(r.Context(), "dashboard: delete the session", "error", err)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: x.cfg.TLS, SameSite: http.SameSiteLaxMode})
	x.signinPage(w, r, http.StatusOK, view{Title: "Signed out", Notice: "You are signed out."})
}

// signinPage renders the sign-in page, naming where users sign in.
func (x *Dashboard) signinPage(w http.ResponseWriter, r *http.Request, status int, v view) {
	v.Data = x.iss.where()
	x.render(w, r, nil, status, "signin", v)
}

// page wraps a GET page: no session, sign in first.
func (x *Dashboard) page(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, ok := x.sessionOf(r)
		if !ok {
			x.signinPage(w, r, http.StatusUnauthorized, view{Title: "Sign in", Next: r.URL.RequestURI()})
			return
		}
		h(w, r, s)
	}
}

// crossSite says why a form post came from another site, or "".
func (x *Dashboard) crossSite(r *http.Request) string {
	if o := r.Header.Get("Origin"); o != "" && o != x.cfg.PublicURL {
		return "The form was sent from another site (" + o + ")."
	}
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return "The form was sent from another site."
	}
	return ""
}

// post wraps a state-changing form: same origin, signed in, and the
// session's CSRF token in the form, or 403 before anything is done.
func (x *Dashboard) post(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		forbid := func(detail string) {
			x.render(w, r, nil, http.StatusForbidden, "error", view{Title: "Refused",
				Error: &problem{Title: "Forbidden", Status: http.StatusForbidden, Detail: detail}})
		}
		if detail := x.crossSite(r); detail != "" {
			forbid(detail)
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
