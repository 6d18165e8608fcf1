package mcpserver

import (
	"crypto/rand"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/engram-memory/engram/domain"
)

// The legacy HTTP+SSE transport (MCP 2024-11-05): a GET opens an event
// stream whose first event names the URL to POST messages to. The SDK's
// SSEHandler keeps its session table private, so sessions could not be bound
// to their owner; this handler keeps its own table around the SDK's exported
// SSEServerTransport.

type sseSession struct {
	transport *mcp.SSEServerTransport
	owner     string       // caller.bindingKey of the GET that opened it
	user      string       // org and user: the per-user cap's key
	lastPost  atomic.Int64 // unix nanos of the last message posted
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

// Why add refused a session.
var (
	errSSEFull    = errors.New("too many open SSE sessions")
	errSSEPerUser = errors.New("too many open SSE sessions for this user")
)

// add registers a session unless max are already open, or perUser of the
// same user.
func (t *sseSessions) add(id string, s *sseSession, max, perUser int) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.m) >= max {
		return errSSEFull
	}
	n := 0
	for _, o := range t.m {
		if o.user == s.user {
			n++
		}
	}
	if n >= perUser {
		return errSSEPerUser
	}
	t.m[id] = s
	return nil
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

// openSSE runs one session for as long as the GET stays open, at most
// SSEMaxLifetime, and closes it after SSEIdleTimeout without a message.
// Tool calls of the session act as the caller that opened it; every POST
// must still carry a valid token of the same owner, with the tool's scope.
func (s *Server) openSSE(w http.ResponseWriter, r *http.Request, c caller) {
	id := rand.Text()
	t := &mcp.SSEServerTransport{Endpoint: r.URL.EscapedPath() + "?sessionid=" + id, Response: w, MaxRequestBodyBytes: s.cfg.MaxBodyBytes}
	sess := &sseSession{transport: t, owner: c.bindingKey(), user: string(c.Principal.OrgID) + "\n" + string(c.Principal.UserID)}
	sess.lastPost.Store(time.Now().UnixNano())
	switch err := s.sse.add(id, sess, s.cfg.MaxSSESessions, s.cfg.MaxSSEPerUser); {
	case errors.Is(err, errSSEPerUser):
		w.Header().Set("Retry-After", "30")
		writeProblem(w, http.StatusTooManyRequests, fmt.Sprintf("at most %d open SSE sessions per user; close one or use Streamable HTTP at /mcp", s.cfg.MaxSSEPerUser))
		return
	case err != nil:
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
	life := time.NewTimer(s.cfg.SSEMaxLifetime)
	defer life.Stop()
	tick := time.NewTicker(min(s.cfg.SSEIdleTimeout/4, time.Minute))
	defer tick.Stop()
wait:
	for {
		select {
		case <-r.Context().Done():
			break wait
		case <-done:
			break wait
		case <-life.C:
			break wait
		case <-tick.C:
			if time.Since(time.Unix(0, sess.lastPost.Load())) > s.cfg.SSEIdleTimeout {
				break wait
			}
		}
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
	if err := s.authorizeSSEMessage(r, c); err != nil {
		var fe *domain.ForbiddenError
		if errors.As(err, &fe) {
			writeProblem(w, http.StatusForbidden, fe.Error())
			return
		}
		writeProblem(w, http.StatusRequestEntityTooLarge, err.Error())
		return
	}
	sess.lastPost.Store(time.Now().UnixNano())
	sess.transport.ServeHTTP(w, r)
}
