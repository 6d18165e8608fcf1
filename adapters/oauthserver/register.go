package oauthserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/engram-memory/engram/domain"
)

// maxRegistrationBytes bounds a registration body: a client with the
// maximum of redirect URIs fits many times over.
const maxRegistrationBytes = 16 << 10

type registration struct {
	RedirectURIs            []string `json:"redirect_uris"`
	ClientName              string   `json:"client_name"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	Scope                   string   `json:"scope"`
}

// register implements RFC 7591 for public clients.
func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	if ok, retry := s.allow(r.Context(), "oauth:register:"+clientIP(r), s.cfg.RegisterLimit); !ok {
		w.Header().Set("Retry-After", fmt.Sprint(int(retry.Seconds())+1))
		oauthError(w, http.StatusTooManyRequests, "invalid_request", "too many registrations from this address; try again later")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRegistrationBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		oauthError(w, http.StatusRequestEntityTooLarge, "invalid_client_metadata", fmt.Sprintf("registration body exceeds %d bytes", maxRegistrationBytes))
		return
	}
	var reg registration
	if err != nil || json.Unmarshal(body, &reg) != nil {
		oauthError(w, http.StatusBadRequest, "invalid_client_metadata", "body must be a JSON object of client metadata")
		return
	}
	if code, desc := checkRegistration(reg); code != "" {
		oauthError(w, http.StatusBadRequest, code, desc)
		return
	}
	now := s.deps.Clock.Now().UTC()
	c := domain.OAuthClient{ID: "egc_" + randomToken()[:22], Name: reg.ClientName, RedirectURIs: reg.RedirectURIs, CreatedAt: now}
	if err := s.deps.Store.CreateClient(r.Context(), c); err != nil {
		s.deps.Logger.ErrorContext(r.Context(), "oauth: register client", "err", err)
		oauthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "the client could not be stored")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, map[string]any{
		"client_id": c.ID, "client_id_issued_at": now.Unix(), "client_name": c.Name,
		"redirect_uris": c.RedirectURIs, "token_endpoint_auth_method": "none",
		"grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"},
	})
}

// checkRegistration returns an RFC 7591 error code and description, or "".
func checkRegistration(reg registration) (string, string) {
	if len(reg.RedirectURIs) == 0 {
		return "invalid_redirect_uri", "redirect_uris is required"
	}
	if len(reg.RedirectURIs) > domain.MaxOAuthRedirectURIs {
		return "invalid_redirect_uri", fmt.Sprintf("at most %d redirect_uris", domain.MaxOAuthRedirectURIs)
	}
	for _, u := range reg.RedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return "invalid_redirect_uri", err.Error()
		}
	}
	if len(reg.ClientName) > domain.MaxOAuthClientNameLen {
		return "invalid_client_metadata", fmt.Sprintf("client_name must be at most %d bytes", domain.MaxOAuthClientNameLen)
	}
	if m := reg.TokenEndpointAuthMethod; m != "" && m != "none" {
		return "invalid_client_metadata", `token_endpoint_auth_method must be "none": only public clients with PKCE are registered`
	}
	for _, g := range reg.GrantTypes {
		if g != "authorization_code" && g != "refresh_token" {
			return "invalid_client_metadata", "grant_types may hold authorization_code and refresh_token only"
		}
	}
	for _, rt := range reg.ResponseTypes {
		if rt != "code" {
			return "invalid_client_metadata", `response_types may hold "code" only`
		}
	}
	return "", ""
}

// checkRedirectURI admits https anywhere and http on a loopback host only
// (RFC 8252 §7.3): a code sent over plain http elsewhere can be read on
// the way. Fragments are refused (RFC 6749 §3.1.2).
func checkRedirectURI(raw string) error {
	if len(raw) > domain.MaxOAuthRedirectURILen {
		return fmt.Errorf("redirect URI longer than %d bytes", domain.MaxOAuthRedirectURILen)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.User != nil {
		return fmt.Errorf("redirect URI %q is not an absolute URL", raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("redirect URI %q has a fragment", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("redirect URI %q uses http on a host that is not loopback: use https, or http://127.0.0.1", raw)
	default:
		return fmt.Errorf("redirect URI %q: only https, or http on loopback, is accepted", raw)
	}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redirectMatches compares a redirect_uri with a registered one: exactly,
// except that the port of a loopback http URI may differ (RFC 8252 §7.3:
// native apps pick a free port at each sign-in).
func redirectMatches(registered []string, got string) bool {
	if slices.Contains(registered, got) {
		return true
	}
	g, err := url.Parse(got)
	if err != nil || g.Scheme != "http" || !isLoopback(g.Hostname()) {
		return false
	}
	for _, r := range registered {
		u, err := url.Parse(r)
		if err == nil && u.Scheme == "http" && u.Hostname() == g.Hostname() && u.EscapedPath() == g.EscapedPath() && u.RawQuery == g.RawQuery {
			return true
		}
	}
	return false
}
