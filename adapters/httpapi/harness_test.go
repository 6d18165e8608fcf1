package httpapi_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/httpapi"
	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// The tests drive the real router with tokens from a test issuer whose key
// is served by an httptest JWKS, verified by the real jwtauth verifier.
const (
	publicURL    = "https://api.engram.test"
	testIssuer   = "https://issuer.engram.test"
	testAudience = "engram-api"
	testKID      = "test-ed25519"
)

// issuer signs access tokens with an Ed25519 key published in its JWKS.
type issuer struct {
	priv ed25519.PrivateKey
	jwks *httptest.Server
}

func newIssuer(t testing.TB) *issuer {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	set, err := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString(pub),
		"kid": testKID, "alg": "EdDSA", "use": "sig",
	}}})
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(set)
	}))
	t.Cleanup(srv.Close)
	return &issuer{priv: priv, jwks: srv}
}

// claims returns a valid claim set for org/user with scopes; tests edit it.
func claims(org, user string, scopes ...domain.Scope) jwt.MapClaims {
	if len(scopes) == 0 {
		scopes = domain.DefaultUserScopes
	}
	names := make([]string, len(scopes))
	for i, s := range scopes {
		names[i] = string(s)
	}
	now := time.Now()
	return jwt.MapClaims{
		"iss": testIssuer, "aud": testAudience, "sub": user, "org_id": org,
		"scope": strings.Join(names, " "), "client_id": "test-agent",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"jti": rand.Text(),
	}
}

// sign signs c with the issuer's key under the JWKS kid.
func (i *issuer) sign(t testing.TB, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	tok.Header["kid"] = testKID
	s, err := tok.SignedString(i.priv)
	require.NoError(t, err)
	return s
}

// lockedBuffer collects log output written from handler goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type env struct {
	t      testing.TB
	iss    *issuer
	server *httpapi.Server
	deps   httpapi.Deps // what server was built with, for tests of New
	logs   *lockedBuffer
	// skipConformance turns off the OpenAPI check of each exchange, for
	// benchmarks, which measure the server and not the validator.
	skipConformance bool
}

type envOptions struct {
	cfg   httpapi.Config
	ready []httpapi.Check
	// limiter, when set, rate-limits by limits (zero: the defaults)
	// through an app.RateLimitService logging to the env's log.
	limiter ports.RateLimiter
	limits  app.RateLimits
	store   func(testing.TB) store // default SQLite
	// search, when set, indexes every memory the env's service writes and
	// enables search (see searchStack); the store must be SQLite.
	search bool
	// archive, when set, enables export and import over the env's store.
	archive *httpapi.ArchiveDeps
	// replay, when set, wraps the env's DPoP replay cache.
	replay func(ports.ReplayCache) ports.ReplayCache
	// guard is the per-address guard ahead of authentication.
	guard *app.AddressGuard
	// graph, when set, links every memory the env's service writes to its
	// entities and serves the entity and graph routes (the store must be
	// a ports.EntityStore).
	graph bool
	// positions, when set, stamps writes with Engram-Consistency.
	positions ports.CommitPositions
}

func newEnv(t testing.TB, opts ...func(*envOptions)) *env {
	t.Helper()
	o := envOptions{cfg: httpapi.Config{PublicURL: publicURL}, store: newSQLiteStore}
	for _, f := range opts {
		f(&o)
	}
	store := o.store(t)
	var stack *searchStack
	deps := app.MemoryDeps{Memories: store, Apps: store, Access: store}
	if o.search {
		stack = newSearchStack(t, store)
		deps.Observers = []app.ChangeObserver{stack.indexer}
	}
	var graph *app.GraphService
	if o.graph {
		es := store.(ports.EntityStore)
		deps.Observers = append(deps.Observers, &app.EntityLinker{Memories: store, Entities: es})
		graph = &app.GraphService{Memories: store, Entities: es}
	}
	svc := app.NewMemoryService(deps)
	t.Cleanup(svc.Close)
	replay := inproc.NewReplayCache(inproc.ReplayOptions{})
	t.Cleanup(func() { _ = replay.Close() })
	var replayCache ports.ReplayCache = replay
	if o.replay != nil {
		replayCache = o.replay(replay)
	}
	iss := newIssuer(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	v, err := jwtauth.NewJWKS(ctx, jwtauth.Config{
		JWKSURL: iss.jwks.URL, Issuer: testIssuer, Audience: testAudience,
		PublicURL: publicURL, ReplayCache: replayCache,
	})
	require.NoError(t, err)
	t.Cleanup(v.Close)
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	hdeps := httpapi.Deps{Memories: svc, Verifier: v, Ready: o.ready, Logger: logger, AddressGuard: o.guard, Positions: o.positions}
	if o.limiter != nil {
		hdeps.RateLimits, err = app.NewRateLimitService(app.RateLimitDeps{Limiter: o.limiter, Limits: o.limits, Logger: logger})
		require.NoError(t, err)
	}
	srv, err := httpapi.New(o.cfg, hdeps)
	require.NoError(t, err)
	if stack != nil {
		srv.EnableSearch(stack.searcher(svc))
	}
	srv.EnableGraph(graph)
	if o.archive != nil {
		as := store.(interface {
			ports.ArchiveSource
			ports.ArchiveSink
		})
		d := *o.archive
		d.Source, d.Sink = as, as
		if stack != nil {
			// As engramd: imports are indexed, and their vectors loaded,
			// by the serving Indexer; exports embed with its embedder.
			d.Changed, d.Vectors, d.Embedder = stack.indexer.MemoriesChanged, stack.indexer, stack.embed
		}
		srv.EnableArchive(d)
	}
	return &env{t: t, iss: iss, server: srv, deps: hdeps, logs: logs}
}

// newServer builds another server over e's dependencies.
func newServer(e *env) (*httpapi.Server, error) {
	return httpapi.New(httpapi.Config{PublicURL: publicURL}, e.deps)
}

// caller is one client: a bearer token, or a DPoP-bound token and its key.
type caller struct {
	e      *env
	token  string
	prover *jwtauth.DPoPProver
}

// user returns a Bearer caller for org/user with scopes (default: all user
// scopes).
func (e *env) user(org, user string, scopes ...domain.Scope) caller {
	return caller{e: e, token: e.iss.sign(e.t, claims(org, user, scopes...))}
}

// dpopUser returns a caller whose token is bound to a fresh P-256 key.
func (e *env) dpopUser(org, user string, scopes ...domain.Scope) caller {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(e.t, err)
	return e.dpopUserWithKey(key, org, user, scopes...)
}

// dpopUserWithKey returns a caller whose token is bound to key.
func (e *env) dpopUserWithKey(key crypto.Signer, org, user string, scopes ...domain.Scope) caller {
	prover, err := jwtauth.NewDPoPProver(key)
	require.NoError(e.t, err)
	c := claims(org, user, scopes...)
	c["cnf"] = map[string]string{"jkt": prover.JKT()}
	return caller{e: e, token: e.iss.sign(e.t, c), prover: prover}
}

// request builds an authenticated request; body is JSON-encoded unless it
// is a string (sent verbatim) or nil.
func (c caller) request(method, target string, body any) *http.Request {
	c.e.t.Helper()
	req := newRequest(c.e.t, method, target, body)
	if c.prover != nil {
		path, _, _ := strings.Cut(target, "?")
		proof, err := c.prover.Proof(method, publicURL+path, c.token)
		require.NoError(c.e.t, err)
		req.Header.Set("Authorization", "DPoP "+c.token)
		req.Header.Set("DPoP", proof)
	} else if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return req
}

func (c caller) do(method, target string, body any) *httptest.ResponseRecorder {
	c.e.t.Helper()
	return c.e.serve(c.request(method, target, body))
}

func newRequest(t testing.TB, method, target string, body any) *http.Request {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		r = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, target, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

func (e *env) serve(req *http.Request) *httptest.ResponseRecorder {
	if e.skipConformance {
		rec := httptest.NewRecorder()
		e.server.Handler().ServeHTTP(rec, req)
		return rec
	}
	// Keep the body so the request can be checked against the document
	// after the handler consumed it.
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		require.NoError(e.t, err)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	rec := httptest.NewRecorder()
	e.server.Handler().ServeHTTP(rec, req)
	conforms(e.t, req, body, rec)
	return rec
}

// decode unmarshals a response body, failing on a wrong status first so the
// problem document shows up in the failure.
func decode[T any](t testing.TB, rec *httptest.ResponseRecorder, status int) T {
	t.Helper()
	require.Equal(t, status, rec.Code, rec.Body.String())
	var v T
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v), rec.Body.String())
	return v
}

// problemDoc is the RFC 9457 document the API answers errors with.
type problemDoc struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Instance  string `json:"instance"`
	RequestID string `json:"request_id"`
	Errors    []struct {
		Field  string `json:"field"`
		Reason string `json:"reason"`
	} `json:"errors"`
}

// requireProblem checks status, content type and the problem's basic shape.
func requireProblem(t testing.TB, rec *httptest.ResponseRecorder, status int) problemDoc {
	t.Helper()
	require.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"), rec.Body.String())
	p := decode[problemDoc](t, rec, status)
	require.Equal(t, status, p.Status)
	require.NotEmpty(t, p.Type)
	require.NotEmpty(t, p.Title)
	require.NotEmpty(t, p.RequestID)
	require.Equal(t, rec.Header().Get("X-Request-Id"), p.RequestID)
	return p
}

type memoryJSON struct {
	ID         string         `json:"id"`
	Text       string         `json:"text"`
	App        string         `json:"app"`
	Metadata   map[string]any `json:"metadata"`
	Categories []string       `json:"categories"`
	State      string         `json:"state"`
	CreatedAt  time.Time      `json:"created_at"`
	UpdatedAt  time.Time      `json:"updated_at"`
}

type pageJSON struct {
	Items      []memoryJSON `json:"items"`
	NextCursor *string      `json:"next_cursor"`
}

// add creates a memory and returns it.
func (c caller) add(text string) memoryJSON {
	c.e.t.Helper()
	return decode[memoryJSON](c.e.t, c.do(http.MethodPost, "/api/v1/memories", map[string]any{"text": text}), http.StatusCreated)
}

// enableSessions serves session memory from an in-process store that lives
// as long as the test.
func (e *env) enableSessions(t testing.TB) {
	sessions := inproc.NewSessionStore(inproc.SessionOptions{})
	t.Cleanup(func() { _ = sessions.Close() })
	e.server.EnableSessions(app.NewSessionService(app.SessionDeps{Sessions: sessions, Memories: e.deps.Memories}))
}
