package oauthserver

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/engram-memory/engram/domain"
)

// grantError is a refusal decided inside UseToken's check: the token is
// not spent and the client is told code and desc.
type grantError struct{ code, desc string }

func (e *grantError) Error() string { return e.code + ": " + e.desc }

// pkceMatches reports whether verifier hashes to challenge (RFC 7636 §4.6).
func pkceMatches(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
		return
	}
	f := r.PostForm
	clientID := f.Get("client_id")
	if clientID == "" {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client_id is required (public clients identify themselves with it)")
		return
	}
	if _, err := s.deps.Store.GetClient(r.Context(), clientID); err != nil {
		if errors.Is(err, domain.ErrNotFound) {
			oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client_id")
			return
		}
		s.unavailable(w, r, "get client", err)
		return
	}
	// A DPoP proof binds the new access token to the proof's key.
	var jkt string
	if proof := r.Header.Get("DPoP"); proof != "" {
		if s.deps.ProofKey == nil {
			oauthError(w, http.StatusBadRequest, "invalid_dpop_proof", "DPoP is not supported by this server")
			return
		}
		var err error
		jkt, err = s.deps.ProofKey(r.Context(), proof, http.MethodPost, s.cfg.Issuer+TokenPath)
		if err != nil {
			oauthError(w, http.StatusBadRequest, "invalid_dpop_proof", err.Error())
			return
		}
	}
	now := s.deps.Clock.Now().UTC()
	var (
		presented string
		check     func(domain.OAuthGrant, domain.OAuthToken) error
		narrow    []domain.Scope
	)
	switch f.Get("grant_type") {
	case "authorization_code":
		presented = f.Get("code")
		verifier, redirect := f.Get("code_verifier"), f.Get("redirect_uri")
		check = func(g domain.OAuthGrant, t domain.OAuthToken) error {
			switch {
			case t.Kind != domain.OAuthCode:
				return &grantError{"invalid_grant", "not an authorization code"}
			case now.After(t.ExpiresAt):
				return &grantError{"invalid_grant", "the authorization code has expired"}
			case g.ClientID != clientID:
				return &grantError{"invalid_grant", "the code was issued to another client"}
			case redirect != g.RedirectURI:
				return &grantError{"invalid_grant", "redirect_uri does not match the one the code was issued for"}
			case verifier == "":
				return &grantError{"invalid_grant", "code_verifier is missing (PKCE is required)"}
			case !pkceMatches(verifier, g.CodeChallenge):
				return &grantError{"invalid_grant", "code_verifier does not match the code_challenge"}
			}
			return nil
		}
	case "refresh_token":
		presented = f.Get("refresh_token")
		if sc := f.Get("scope"); sc != "" {
			narrow = domain.ParseScopes(sc)
		}
		check = func(g domain.OAuthGrant, t domain.OAuthToken) error {
			switch {
			case t.Kind != domain.OAuthRefresh:
				return &grantError{"invalid_grant", "not a refresh token"}
			case now.After(t.ExpiresAt):
				return &grantError{"invalid_grant", "the refresh token has expired; sign in again"}
			case g.ClientID != clientID:
				return &grantError{"invalid_grant", "the refresh token was issued to another client"}
			}
			for _, sc := range narrow {
				if !slices.Contains(g.Scopes, sc) {
					return &grantError{"invalid_scope", "scope " + string(sc) + " was not granted"}
				}
			}
			return nil
		}
	case "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "grant_type is required")
		return
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
		return
	}
	if presented == "" || len(presented) > 200 {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the code or refresh_token is missing")
		return
	}
	refresh := randomToken()
	next := domain.OAuthToken{Hash: HashSecret(refresh), Kind: domain.OAuthRefresh, CreatedAt: now, ExpiresAt: now.Add(s.cfg.RefreshTTL)}
	g, err := s.deps.Store.UseToken(r.Context(), HashSecret(presented), now, next, check)
	var ge *grantError
	switch {
	case errors.As(err, &ge):
		oauthError(w, http.StatusBadRequest, ge.code, ge.desc)
		return
	case errors.Is(err, domain.ErrConflict):
		s.deps.Logger.WarnContext(r.Context(), "oauth: a used code or refresh token was presented again; its grant is revoked", "client_id", clientID)
		oauthError(w, http.StatusBadRequest, "invalid_grant", "this code or refresh token was already used; every token of its grant is now revoked")
		return
	case errors.Is(err, domain.ErrNotFound):
		oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown, revoked or expired code or refresh token")
		return
	case err != nil:
		s.unavailable(w, r, "use token", err)
		return
	}
	scopes := g.Scopes
	if len(narrow) > 0 {
		scopes = narrow
	}
	access, err := s.deps.Mint(AccessToken{Tenant: domain.Tenant{OrgID: g.OrgID, UserID: g.UserID}, Scopes: scopes, JKT: jkt, TTL: s.cfg.AccessTTL})
	if err != nil {
		s.unavailable(w, r, "mint", err)
		return
	}
	tokenType := "Bearer"
	if jkt != "" {
		tokenType = "DPoP"
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": access, "token_type": tokenType, "expires_in": int(s.cfg.AccessTTL / time.Second),
		"refresh_token": refresh, "scope": joinScopes(scopes),
	})
}

func (s *Server) unavailable(w http.ResponseWriter, r *http.Request, what string, err error) {
	s.deps.Logger.ErrorContext(r.Context(), "oauth: "+what, "err", err)
	w.Header().Set("Retry-After", "5")
	oauthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "the authorization server cannot answer now; try again shortly")
}

// revoke implements RFC 7009. Revoking a refresh token or code ends its
// whole grant. Access tokens are self-contained JWTs that live AccessTTL;
// they cannot be revoked one by one, and (as for any unknown token) the
// answer is 200, which RFC 7009 §2.2 asks for.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
		return
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "token is required")
		return
	}
	if len(tok) <= 200 {
		err := s.deps.Store.RevokeByToken(r.Context(), HashSecret(tok), s.deps.Clock.Now().UTC())
		if err != nil && !errors.Is(err, domain.ErrNotFound) {
			s.unavailable(w, r, "revoke", err)
			return
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}
