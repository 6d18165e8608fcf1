package oauthserver

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// The endpoints, at the root of the issuer (RFC 8414 §3: the metadata of
// an issuer without a path is at /.well-known/oauth-authorization-server).
const (
	MetadataPath  = "/.well-known/oauth-authorization-server"
	RegisterPath  = "/register"
	AuthorizePath = "/authorize"
	TokenPath     = "/token"
	RevokePath    = "/revoke"
)

// Paths lists every path Handler serves, for mounting.
func Paths() []string {
	return []string{MetadataPath, RegisterPath, AuthorizePath, TokenPath, RevokePath}
}

// AccessToken is what Mint is asked to sign.
type AccessToken struct {
	Tenant domain.Tenant
	Scopes []domain.Scope
	JKT    string // bind to this DPoP key thumbprint; empty: a bearer token
	TTL    time.Duration
}

// Config tunes the server; zero fields take the defaults noted.
type Config struct {
	// Issuer is the public URL the server is reached at (no trailing
	// slash); it names every endpoint in the metadata.
	Issuer string
	// TLS marks cookies Secure.
	TLS bool
	// Scopes are the scopes a user may grant; DefaultScopes those granted
	// when a client asks for none.
	Scopes, DefaultScopes []domain.Scope
	// AccessTTL (10 min), RefreshTTL (30 days), CodeTTL (1 min),
	// SessionTTL (12 h): lifetimes.
	AccessTTL, RefreshTTL, CodeTTL, SessionTTL time.Duration
	// PasswordIterations is PBKDF2's work factor for new hashes.
	PasswordIterations int
	// RegisterLimit bounds registrations per IP (20 per hour);
	// SignInIPLimit and SignInUserLimit bound sign-in attempts per IP
	// (20 per 15 min) and per user (10 per 15 min).
	RegisterLimit, SignInIPLimit, SignInUserLimit ports.RateLimit
	// DPoPAlgs are advertised in the metadata when ProofKey is set.
	DPoPAlgs []string
}

// Deps are the ports and functions the server needs.
type Deps struct {
	Store   ports.OAuthStore
	Limiter ports.RateLimiter
	// Mint signs an access token exactly as local tokens are signed.
	Mint func(AccessToken) (string, error)
	// ProofKey verifies the DPoP proof of a token request (RFC 9449 §5)
	// and returns its key's thumbprint; nil when DPoP is not offered.
	ProofKey func(ctx context.Context, proof, method, url string) (string, error)
	Clock    ports.Clock
	Logger   *slog.Logger
}

// Server is the authorization server.
type Server struct {
	cfg  Config
	deps Deps
	mux  *http.ServeMux

	mu       sync.Mutex
	sessions map[string]session // by hash of the cookie value
}

// New validates cfg and returns a server.
func New(cfg Config, deps Deps) (*Server, error) {
	if cfg.Issuer == "" || deps.Store == nil || deps.Limiter == nil || deps.Mint == nil {
		return nil, errors.New("oauthserver: Issuer, Store, Limiter and Mint are required")
	}
	cfg.Issuer = strings.TrimRight(cfg.Issuer, "/")
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.AccessTTL, 10*time.Minute)
	def(&cfg.RefreshTTL, 30*24*time.Hour)
	def(&cfg.CodeTTL, time.Minute)
	def(&cfg.SessionTTL, 12*time.Hour)
	lim := func(l *ports.RateLimit, burst int, per time.Duration) {
		if l.Burst < 1 || l.Period <= 0 {
			*l = ports.RateLimit{Burst: burst, Period: per}
		}
	}
	lim(&cfg.RegisterLimit, 20, time.Hour)
	lim(&cfg.SignInIPLimit, 20, 15*time.Minute)
	lim(&cfg.SignInUserLimit, 10, 15*time.Minute)
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = domain.LocalOwnerScopes
	}
	if len(cfg.DefaultScopes) == 0 {
		cfg.DefaultScopes = domain.DefaultUserScopes
	}
	if deps.Clock == nil {
		deps.Clock = systemClock{}
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, deps: deps, sessions: map[string]session{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+MetadataPath, s.metadata)
	mux.HandleFunc("POST "+RegisterPath, s.register)
	mux.HandleFunc("GET "+AuthorizePath, s.authorizePage)
	mux.HandleFunc("POST "+AuthorizePath, s.authorizeSubmit)
	mux.HandleFunc("POST "+TokenPath, s.token)
	mux.HandleFunc("POST "+RevokePath, s.revoke)
	s.mux = mux
	return s, nil
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Handler serves every endpoint in Paths.
func (s *Server) Handler() http.Handler { return s.mux }

// Issuer is the issuer identifier the metadata names.
func (s *Server) Issuer() string { return s.cfg.Issuer }

func (s *Server) metadata(w http.ResponseWriter, _ *http.Request) {
	scopes := make([]string, len(s.cfg.Scopes))
	for i, sc := range s.cfg.Scopes {
		scopes[i] = string(sc)
	}
	md := map[string]any{
		"issuer":                                         s.cfg.Issuer,
		"authorization_endpoint":                         s.cfg.Issuer + AuthorizePath,
		"token_endpoint":                                 s.cfg.Issuer + TokenPath,
		"registration_endpoint":                          s.cfg.Issuer + RegisterPath,
		"revocation_endpoint":                            s.cfg.Issuer + RevokePath,
		"response_types_supported":                       []string{"code"},
		"response_modes_supported":                       []string{"query"},
		"grant_types_supported":                          []string{"authorization_code", "refresh_token"},
		"code_challenge_methods_supported":               []string{"S256"},
		"token_endpoint_auth_methods_supported":          []string{"none"},
		"revocation_endpoint_auth_methods_supported":     []string{"none"},
		"scopes_supported":                               scopes,
		"authorization_response_iss_parameter_supported": true,
	}
	if s.deps.ProofKey != nil && len(s.cfg.DPoPAlgs) > 0 {
		md["dpop_signing_alg_values_supported"] = s.cfg.DPoPAlgs
	}
	w.Header().Set("Cache-Control", "max-age=300")
	writeJSON(w, http.StatusOK, md)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// oauthError writes an RFC 6749 §5.2 / RFC 7591 §3.2.2 error response.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer error="`+code+`"`)
	}
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// clientIP is the peer address: the attempt limits count what the server
// sees, not a header a client may set.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// allow takes one token from the bucket key; a limiter failure admits (the
// limits protect against guessing, and the slow hash still does).
func (s *Server) allow(ctx context.Context, key string, l ports.RateLimit) (bool, time.Duration) {
	d, err := s.deps.Limiter.Allow(ctx, key, l, 1)
	if err != nil {
		s.deps.Logger.WarnContext(ctx, "oauth: rate limiter unavailable; admitting", "err", err)
		return true, 0
	}
	return d.Allowed, d.RetryAfter
}
