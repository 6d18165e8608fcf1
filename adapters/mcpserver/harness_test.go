package mcpserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/adapters/mcpserver"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// harness is a running MCP endpoint over a real SQLite store, verified by the
// real local-key JWT verifier, behind a real HTTP listener.
type harness struct {
	t        testing.TB
	public   string
	key      *jwtauth.LocalKey
	mem      *app.MemoryService
	searcher mcpserver.Searcher // nil unless a test wired one
	srv      *mcpserver.Server
}

const org = "acme"

// setup is what a test may change before the server is built.
type setup struct {
	Config mcpserver.Config
	Deps   mcpserver.Deps
	Store  *sqlitestore.Store
}

func newHarness(t testing.TB, mutate ...func(*setup)) *harness {
	t.Helper()
	ctx := context.Background()
	store, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: t.TempDir() + "/engram.db"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	mem := app.NewMemoryService(app.MemoryDeps{Memories: store, Apps: store, Access: store})
	t.Cleanup(mem.Close) // before the store closes: flushes queued access-log writes

	key, _, err := jwtauth.LoadOrCreateLocalKey(t.TempDir())
	require.NoError(t, err)
	replay := inproc.NewReplayCache(inproc.ReplayOptions{})
	t.Cleanup(func() { _ = replay.Close() })

	ts := httptest.NewUnstartedServer(nil)
	public := "http://" + ts.Listener.Addr().String()
	ver, err := jwtauth.NewLocal(key, jwtauth.Config{PublicURL: public, ReplayCache: replay})
	require.NoError(t, err)

	su := setup{
		Config: mcpserver.Config{PublicURL: public, AuthorizationServers: []string{"https://auth.example.com"}},
		Deps:   mcpserver.Deps{Memories: mem, Verifier: ver},
		Store:  store,
	}
	for _, m := range mutate {
		m(&su)
	}
	mem = su.Deps.Memories
	srv := mcpserver.New(su.Config, su.Deps)
	mux := http.NewServeMux()
	mux.Handle("/mcp", srv.Handler())
	mux.Handle("/mcp/", srv.Handler())
	mux.Handle(mcpserver.MetadataPath, srv.MetadataHandler())
	ts.Config.Handler = mux
	ts.Start()
	t.Cleanup(ts.Close)
	return &harness{t: t, public: public, key: key, mem: mem, searcher: su.Deps.Searcher, srv: srv}
}

// token mints a token for user of org acme with the given scopes (the
// default user scopes when none).
func (h *harness) token(user string, scopes ...domain.Scope) string {
	return h.mint(jwtauth.Claims{Subject: user, OrgID: org, Scopes: scopes})
}

func (h *harness) mint(c jwtauth.Claims) string {
	h.t.Helper()
	tok, err := h.key.Mint(c)
	require.NoError(h.t, err)
	return tok
}

// authTransport signs every request: Bearer, or DPoP with a fresh proof
// whose htu is the public URL of the request.
type authTransport struct {
	token  string
	prover *jwtauth.DPoPProver
	next   http.RoundTripper
}

func (a authTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if a.prover == nil {
		r.Header.Set("Authorization", "Bearer "+a.token)
		return a.next.RoundTrip(r)
	}
	proof, err := a.prover.Proof(r.Method, "http://"+r.URL.Host+r.URL.Path, a.token)
	if err != nil {
		return nil, err
	}
	r.Header.Set("Authorization", "DPoP "+a.token)
	r.Header.Set("DPoP", proof)
	return a.next.RoundTrip(r)
}

func (h *harness) client(token string, prover *jwtauth.DPoPProver) *http.Client {
	return &http.Client{Transport: authTransport{token: token, prover: prover, next: http.DefaultTransport}}
}

// connect opens an MCP session over Streamable HTTP as clientName.
func (h *harness) connect(path, token, clientName string) *mcp.ClientSession {
	return h.connectWith(&mcp.StreamableClientTransport{Endpoint: h.public + path, HTTPClient: h.client(token, nil), MaxRetries: -1}, clientName)
}

func (h *harness) connectWith(tr mcp.Transport, clientName string) *mcp.ClientSession {
	h.t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: clientName, Version: "1.0"}, nil)
	cs, err := c.Connect(context.Background(), tr, nil)
	require.NoError(h.t, err)
	h.t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// call runs a tool and fails the test on a protocol error; tool errors come
// back as results with IsError set.
func call(t testing.TB, cs *mcp.ClientSession, name string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	require.NoError(t, err)
	return res
}

// callOK runs a tool that must succeed and decodes its structured output.
func callOK[T any](t testing.TB, cs *mcp.ClientSession, name string, args map[string]any) T {
	t.Helper()
	res := call(t, cs, name, args)
	require.False(t, res.IsError, "tool %s failed: %s", name, text(res))
	raw, err := json.Marshal(res.StructuredContent)
	require.NoError(t, err)
	var out T
	require.NoError(t, json.Unmarshal(raw, &out))
	return out
}

// text joins a result's text content.
func text(res *mcp.CallToolResult) string {
	s := ""
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			s += tc.Text
		}
	}
	return s
}

type memoryJSON struct {
	ID         string         `json:"id"`
	Text       string         `json:"text"`
	App        string         `json:"app"`
	Metadata   map[string]any `json:"metadata"`
	Categories []string       `json:"categories"`
	State      string         `json:"state"`
}

type addJSON struct {
	Memory  memoryJSON `json:"memory"`
	Created bool       `json:"created"`
}

type listJSON struct {
	Items      []memoryJSON `json:"items"`
	NextCursor string       `json:"next_cursor"`
}

type searchJSON struct {
	Results []struct {
		memoryJSON
		Score float64 `json:"score"`
	} `json:"results"`
	QueryID string `json:"query_id"`
}

type deletedJSON struct {
	Deleted int `json:"deleted"`
}

var _ ports.TokenVerifier = (*jwtauth.Verifier)(nil)
