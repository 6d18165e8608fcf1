package mcpserver

import (
	"crypto/rand"
	"mime"
	"net/http"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The legacy HTTP+SSE transport (MCP 2024-11-05): a GET opens an event
// stream whose first event names the URL to POST messages to. The SDK's
// SSEHandler keeps its session table private, so sessions could not be bound
// to their owner; this handler keeps its own table around the SDK's exported
// SSEServerTransport.

type sseSession struct {
	transport *mcp.SSEServerTransport
	owner     string // caller.bindingKey of the GET that opened it
}

type sseSessions struct {
	mu sync.Mutex
	m  map[string]*sseSession
}

func (t *sseSessions) init() { t.m = map[string]*sseSession{} }

func (t *sseSessions) get(id string) *sseSession {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[id]
}

// add registers a session unless max are already open.
func (t *sseSessions) add(id string, s *sseSession, max int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.m) >= max {
		return false
	}
	t.m[id] = s
	return true
}

func (t *sseSessions) remove(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, id)
}

func (s *Server) serveSSE(w http.ResponseWriter, r *http.Request, c caller) {
	switch r.Method {
	case http.MethodGet:
		s.openSSE(w, r, c)
	case http.MethodPost:
		s.postSSE(w, r, c)
	default:
		w.Header().Set("Allow", "GET, POST")
		writeProblem(w, http.StatusMethodNotAllowed, "use GET to open a stream and POST to send messages")
	}
}

// openSSE runs one session for as long as the GET stays open. Tool calls of
// the session act as the caller that opened it; every POST must still carry
// a valid token of the same owner.
func (s *Server) openSSE(w http.ResponseWriter, r *http.Request, c caller) {
	id := rand.Text()
	t := &mcp.SSEServerTransport{Endpoint: r.URL.EscapedPath() + "?sessionid=" + id, Response: w, MaxRequestBodyBytes: s.cfg.MaxBodyBytes}
	if !s.sse.add(id, &sseSession{transport: t, owner: c.bindingKey()}, s.cfg.MaxSSESessions) {
		w.Header().Set("Retry-After", "30")
		writeProblem(w, http.StatusServiceUnavailable, "too many open SSE sessions; use Streamable HTTP at /mcp")
		return
	}
	defer s.sse.remove(id)

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	ss, err := s.mcp.Connect(withCaller(r.Context(), c), t, nil)
	if err != nil {
		s.log.WarnContext(r.Context(), "mcp: sse connect", "err", err)
		return
	}
	done := make(chan struct{})
	go func() {
		_ = ss.Wait()
		close(done)
	}()
	select {
	case <-r.Context().Done():
	case <-done:
	}
	_ = ss.Close()
}

func (s *Server) postSSE(w http.ResponseWriter, r *http.Request, c caller) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeProblem(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return
	}
	sess := s.sse.get(r.URL.Query().Get("sessionid"))
	if sess == nil {
		writeProblem(w, http.StatusNotFound, "no such session")
		return
	}
	if sess.owner != c.bindingKey() {
		writeProblem(w, http.StatusForbidden, "the session belongs to another principal")
		return
	}
	sess.transport.ServeHTTP(w, r)
}
