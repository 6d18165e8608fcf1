package oauthserver

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/engram-memory/engram/domain"
)

const (
	sessionCookie = "engram_session"
	csrfCookie    = "engram_csrf"
	// maxPKCEChallenge bounds code_challenge: S256 is 43 characters.
	pkceChallengeLen = 43
)

// authRequest is a validated authorization request.
type authRequest struct {
	client      domain.OAuthClient
	redirectURI string
	challenge   string
	scopes      []domain.Scope
	state       string
	resource    string
}

// authFailure is why a request is refused: redirect says whether the
// error may go back to the redirect URI (it may not when the client or its
// redirect URI is unknown).
type authFailure struct {
	redirect bool
	code     string
	desc     string
}

// parseAuthRequest validates the authorization request parameters, from
// the query string (GET) or the form's hidden fields (POST).
func (s *Server) parseAuthRequest(r *http.Request, v url.Values) (authRequest, *authFailure) {
	var ar authRequest
	id := v.Get("client_id")
	if id == "" {
		return ar, &authFailure{code: "invalid_request", desc: "client_id is missing"}
	}
	c, err := s.deps.Store.GetClient(r.Context(), id)
	if errors.Is(err, domain.ErrNotFound) {
		return ar, &authFailure{code: "invalid_request", desc: "unknown client_id: the application must register again"}
	}
	if err != nil {
		s.deps.Logger.ErrorContext(r.Context(), "oauth: get client", "err", err)
		return ar, &authFailure{code: "temporarily_unavailable", desc: "the server cannot look up the application now"}
	}
	ar.client = c
	ar.redirectURI = v.Get("redirect_uri")
	if ar.redirectURI == "" && len(c.RedirectURIs) == 1 {
		ar.redirectURI = c.RedirectURIs[0]
	}
	if !redirectMatches(c.RedirectURIs, ar.redirectURI) {
		return ar, &authFailure{code: "invalid_request", desc: "redirect_uri does not match any the application registered"}
	}
	ar.state = v.Get("state")
	if v.Get("response_type") != "code" {
		return ar, &authFailure{redirect: true, code: "unsupported_response_type", desc: `response_type must be "code"`}
	}
	ar.challenge = v.Get("code_challenge")
	if v.Get("code_challenge_method") != "S256" || len(ar.challenge) != pkceChallengeLen {
		return ar, &authFailure{redirect: true, code: "invalid_request", desc: "PKCE is required: code_challenge (43 characters) with code_challenge_method=S256"}
	}
	ar.scopes, err = s.requestedScopes(v.Get("scope"))
	if err != nil {
		return ar, &authFailure{redirect: true, code: "invalid_scope", desc: err.Error()}
	}
	ar.resource = v.Get("resource")
	if ar.resource != "" && ar.resource != s.cfg.Issuer && !strings.HasPrefix(ar.resource, s.cfg.Issuer+"/") {
		return ar, &authFailure{redirect: true, code: "invalid_target", desc: "resource must be this server (" + s.cfg.Issuer + ")"}
	}
	return ar, nil
}

// requestedScopes parses scope; empty means the default scopes.
func (s *Server) requestedScopes(raw string) ([]domain.Scope, error) {
	asked := domain.ParseScopes(raw)
	if len(asked) == 0 {
		return s.cfg.DefaultScopes, nil
	}
	var out []domain.Scope
	for _, sc := range asked {
		if !slices.Contains(s.cfg.Scopes, sc) {
			return nil, fmt.Errorf("scope %q cannot be granted here", sc)
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

// redirectError sends an error back to the client (RFC 6749 §4.1.2.1).
func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, ar authRequest, code, desc string) {
	q := url.Values{"error": {code}, "error_description": {desc}, "iss": {s.cfg.Issuer}}
	if ar.state != "" {
		q.Set("state", ar.state)
	}
	http.Redirect(w, r, withQuery(ar.redirectURI, q), http.StatusSeeOther)
}

func withQuery(uri string, q url.Values) string {
	if strings.Contains(uri, "?") {
		return uri + "&" + q.Encode()
	}
	return uri + "?" + q.Encode()
}

func (s *Server) authorizePage(w http.ResponseWriter, r *http.Request) {
	ar, fail := s.parseAuthRequest(r, r.URL.Query())
	if fail != nil {
		s.refuse(w, r, ar, fail)
		return
	}
	csrf := randomToken()
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: csrf, Path: AuthorizePath, HttpOnly: true,
		Secure: s.cfg.TLS, SameSite: http.SameSiteStrictMode, MaxAge: int(time.Hour.Seconds())})
	s.consentPage(w, r, ar, csrf, http.StatusOK, "", "", "")
}

func (s *Server) refuse(w http.ResponseWriter, r *http.Request, ar authRequest, fail *authFailure) {
	if fail.redirect {
		s.redirectError(w, r, ar, fail.code, fail.desc)
		return
	}
	status := http.StatusBadRequest
	if fail.code == "temporarily_unavailable" {
		status = http.StatusServiceUnavailable
	}
	s.errorPage(w, status, fail.code, fail.desc)
}

func (s *Server) consentPage(w http.ResponseWriter, r *http.Request, ar authRequest, csrf string, status int, msg, user, org string) {
	d := pageData{
		ClientName: ar.client.Name, Action: AuthorizePath, CSRF: csrf, Message: msg, User: user, Org: org,
		Hidden: map[string]string{
			"client_id": ar.client.ID, "redirect_uri": ar.redirectURI, "response_type": "code",
			"code_challenge": ar.challenge, "code_challenge_method": "S256", "scope": joinScopes(ar.scopes),
			"state": ar.state, "resource": ar.resource,
		},
	}
	if d.ClientName == "" {
		d.ClientName = "An unnamed application"
	}
	if u, err := url.Parse(ar.redirectURI); err == nil {
		d.RedirectHost = u.Host
	}
	for _, sc := range ar.scopes {
		d.Scopes = append(d.Scopes, scopeLine{Name: string(sc), Desc: scopeDescriptions[string(sc)]})
	}
	if t, ok := s.sessionOf(r); ok {
		d.SignedIn = string(t.UserID) + " (" + string(t.OrgID) + ")"
	} else {
		if d.User == "" {
			d.User = "local"
		}
		if d.Org == "" {
			d.Org = "local"
		}
	}
	s.renderPage(w, status, d, ar.redirectURI)
}

func joinScopes(scopes []domain.Scope) string {
	names := make([]string, len(scopes))
	for i, sc := range scopes {
		names[i] = string(sc)
	}
	return strings.Join(names, " ")
}

// maxFormBytes bounds the consent form.
const maxFormBytes = 64 << 10

func (s *Server) authorizeSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, http.StatusBadRequest, "invalid_request", "the form could not be read")
		return
	}
	// Double-submit CSRF check: the form's token must equal the cookie set
	// with the page (SameSite=Strict, so a cross-site post carries none).
	c, err := r.Cookie(csrfCookie)
	form := r.PostForm
	if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(form.Get("csrf"))) != 1 {
		s.errorPage(w, http.StatusForbidden, "access_denied", "the form was not sent from this server's page (CSRF check failed); start again")
		return
	}
	ar, fail := s.parseAuthRequest(r, form)
	if fail != nil {
		s.refuse(w, r, ar, fail)
		return
	}
	if form.Get("action") != "allow" {
		s.redirectError(w, r, ar, "access_denied", "the user denied the request")
		return
	}
	t, ok := s.sessionOf(r)
	if !ok {
		var msg string
		var status int
		t, status, msg = s.signIn(r, form.Get("org"), form.Get("user"), form.Get("secret"))
		if msg != "" {
			s.consentPage(w, r, ar, c.Value, status, msg, form.Get("user"), form.Get("org"))
			return
		}
		s.startSession(w, t)
	}
	code := randomToken()
	now := s.deps.Clock.Now().UTC()
	g := domain.OAuthGrant{
		ID: domain.NewID(now), OrgID: t.OrgID, UserID: t.UserID, ClientID: ar.client.ID, Scopes: ar.scopes,
		RedirectURI: ar.redirectURI, CodeChallenge: ar.challenge, CreatedAt: now,
	}
	tok := domain.OAuthToken{Hash: HashSecret(code), Kind: domain.OAuthCode, CreatedAt: now, ExpiresAt: now.Add(s.cfg.CodeTTL)}
	if err := s.deps.Store.CreateGrant(r.Context(), g, tok); err != nil {
		s.deps.Logger.ErrorContext(r.Context(), "oauth: create grant", "err", err)
		s.redirectError(w, r, ar, "server_error", "the authorization could not be stored")
		return
	}
	q := url.Values{"code": {code}, "iss": {s.cfg.Issuer}}
	if ar.state != "" {
		q.Set("state", ar.state)
	}
	http.Redirect(w, r, withQuery(ar.redirectURI, q), http.StatusSeeOther)
}
