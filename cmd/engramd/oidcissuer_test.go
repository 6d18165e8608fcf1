package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

// testIssuer is a small OpenID Connect issuer: discovery, a JWKS with one
// ES256 key, an authorization endpoint that signs in whichever user the
// test names without a page, a token endpoint that checks the client and
// PKCE S256 and mints the JWT access tokens engramd's verifier expects
// (iss, aud engram, sub, org_id, scope), refresh tokens that rotate, and
// revocation.
type testIssuer struct {
	t      *testing.T
	srv    *httptest.Server
	key    *ecdsa.PrivateKey
	client string
	secret string // empty: a public client

	mu sync.Mutex
	// user signs in at the next authorization request ("sub@org");
	// deny answers it access_denied instead.
	user      string
	deny      bool
	refreshAs string        // renews refresh tokens as this user instead (a broken mapper)
	redirect  string        // the registered redirect URI
	ttl       time.Duration // access token lifetime
	authorize []url.Values  // every authorization request's query
	codes     map[string]issuedCode
	refreshes map[string]issuedCode // by refresh token: its user and scope
	grants    map[string]int        // grant_type → accepted count
	revoked   []string
}

type issuedCode struct {
	challenge, user, nonce, redirect, scope string
}

func newTestIssuer(t *testing.T, secret string) *testIssuer {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	iss := &testIssuer{t: t, key: key, client: "engram-dashboard", secret: secret, ttl: time.Hour,
		codes: map[string]issuedCode{}, refreshes: map[string]issuedCode{}, grants: map[string]int{}}
	m := http.NewServeMux()
	m.HandleFunc("GET /.well-known/openid-configuration", iss.discovery)
	m.HandleFunc("GET /jwks", iss.jwks)
	m.HandleFunc("GET /authorize", iss.authorizeEndpoint)
	m.HandleFunc("POST /token", iss.token)
	m.HandleFunc("POST /revoke", iss.revoke)
	iss.srv = httptest.NewServer(m)
	t.Cleanup(iss.srv.Close)
	return iss
}

func (iss *testIssuer) set(f func(*testIssuer)) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	f(iss)
}

func (iss *testIssuer) discovery(w http.ResponseWriter, _ *http.Request) {
	methods := []string{"none"}
	if iss.secret != "" {
		methods = []string{"client_secret_basic"}
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"issuer": iss.srv.URL, "authorization_endpoint": iss.srv.URL + "/authorize", "token_endpoint": iss.srv.URL + "/token",
		"revocation_endpoint": iss.srv.URL + "/revoke", "jwks_uri": iss.srv.URL + "/jwks",
		"code_challenge_methods_supported": []string{"S256"}, "token_endpoint_auth_methods_supported": methods,
	})
}

func (iss *testIssuer) jwks(w http.ResponseWriter, _ *http.Request) {
	pad := func(b []byte) string {
		out := make([]byte, 32)
		copy(out[32-len(b):], b)
		return base64.RawURLEncoding.EncodeToString(out)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
		"kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256", "use": "sig",
		"x": pad(iss.key.X.Bytes()), "y": pad(iss.key.Y.Bytes()),
	}}})
}

func (iss *testIssuer) authorizeEndpoint(w http.ResponseWriter, r *http.Request) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	q := r.URL.Query()
	iss.authorize = append(iss.authorize, q)
	if q.Get("client_id") != iss.client || q.Get("redirect_uri") != iss.redirect {
		http.Error(w, "unknown client or redirect URI", http.StatusBadRequest) // never redirect (RFC 6749 §4.1.2.1)
		return
	}
	back, _ := url.Parse(iss.redirect)
	v := url.Values{"state": {q.Get("state")}, "iss": {iss.srv.URL}}
	switch {
	case iss.deny:
		v.Set("error", "access_denied")
		v.Set("error_description", "The user declined.")
	case q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		v.Set("error", "invalid_request")
	default:
		code := rand.Text()
		iss.codes[code] = issuedCode{challenge: q.Get("code_challenge"), user: iss.user, nonce: q.Get("nonce"), redirect: q.Get("redirect_uri"), scope: q.Get("scope")}
		v.Set("code", code)
	}
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// clientOK checks the client: Basic for a confidential client, client_id
// in the form for a public one.
func (iss *testIssuer) clientOK(r *http.Request) bool {
	if iss.secret == "" {
		_, _, basic := r.BasicAuth()
		return !basic && r.PostForm.Get("client_id") == iss.client
	}
	id, secret, ok := r.BasicAuth()
	id, _ = url.QueryUnescape(id)
	secret, _ = url.QueryUnescape(secret)
	return ok && id == iss.client && secret == iss.secret
}

func (iss *testIssuer) token(w http.ResponseWriter, r *http.Request) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	_ = r.ParseForm()
	refuse := func(status int, code string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": "test issuer: " + code})
	}
	if !iss.clientOK(r) {
		refuse(http.StatusUnauthorized, "invalid_client")
		return
	}
	f := r.PostForm
	var user, nonce, scope string
	switch f.Get("grant_type") {
	case "authorization_code":
		c, ok := iss.codes[f.Get("code")]
		delete(iss.codes, f.Get("code"))
		sum := sha256.Sum256([]byte(f.Get("code_verifier")))
		if !ok || c.redirect != f.Get("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
			refuse(http.StatusBadRequest, "invalid_grant")
			return
		}
		user, nonce, scope = c.user, c.nonce, c.scope
	case "refresh_token":
		g, ok := iss.refreshes[f.Get("refresh_token")]
		delete(iss.refreshes, f.Get("refresh_token")) // rotation
		if !ok {
			refuse(http.StatusBadRequest, "invalid_grant")
			return
		}
		user, scope = g.user, g.scope
		if iss.refreshAs != "" {
			user = iss.refreshAs
		}
	default:
		refuse(http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	iss.grants[f.Get("grant_type")]++
	sub, org, _ := strings.Cut(user, "@")
	now := time.Now()
	access := iss.sign(jwt.MapClaims{"iss": iss.srv.URL, "aud": "engram", "sub": sub, "org_id": org, "scope": scope,
		"client_id": iss.client, "iat": now.Unix(), "exp": now.Add(iss.ttl).Unix(), "jti": rand.Text()})
	refresh := rand.Text()
	iss.refreshes[refresh] = issuedCode{user: user, scope: scope}
	out := map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": int(iss.ttl.Seconds()), "refresh_token": refresh}
	if nonce != "" {
		out["id_token"] = iss.sign(jwt.MapClaims{"iss": iss.srv.URL, "aud": iss.client, "sub": sub, "nonce": nonce,
			"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func (iss *testIssuer) revoke(w http.ResponseWriter, r *http.Request) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	_ = r.ParseForm()
	if !iss.clientOK(r) {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	iss.revoked = append(iss.revoked, r.PostForm.Get("token"))
	delete(iss.refreshes, r.PostForm.Get("token"))
}

func (iss *testIssuer) sign(c jwt.MapClaims) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(iss.key)
	require.NoError(iss.t, err)
	return s
}
