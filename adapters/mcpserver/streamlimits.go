package mcpserver

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/engram-memory/engram/domain"
)

// sessionHeader names a Streamable HTTP session (MCP transport spec).
const sessionHeader = "Mcp-Session-Id"

// sweepEvery is how often a request may look for sessions past their
// lifetime; between sweeps they are caught when next used.
const sweepEvery = 5 * time.Second

// streamSessions tracks the Streamable HTTP sessions the SDK holds, by
// owner, so one user cannot hold more than MaxSessionsPerUser of them (each
// keeps a goroutine and buffers for SessionTimeout) and none lives past
// SessionMaxLifetime. The SDK closes idle sessions itself (SessionTimeout)
// and on DELETE; entries whose session it closed are pruned against its
// live list when an owner reaches the cap.
type streamSessions struct {
	mu        sync.Mutex
	byID      map[string]streamSession
	pending   map[string]int // owner → initializes in flight
	lastSweep time.Time
}

type streamSession struct {
	owner   string
	created time.Time
}

func (t *streamSessions) init() {
	t.byID = map[string]streamSession{}
	t.pending = map[string]int{}
}

// ownerOf is the per-user key of the cap: the tenant, whatever client path
// the session was opened through.
func ownerOf(p domain.Principal) string { return string(p.OrgID) + "\n" + string(p.UserID) }

// limitStreamable applies the per-user cap and the maximum lifetime around
// the SDK's Streamable HTTP handler.
func (s *Server) limitStreamable(w http.ResponseWriter, r *http.Request, c caller, next http.Handler) {
	now := time.Now()
	s.sweepSessions(now)
	if id := r.Header.Get(sessionHeader); id != "" {
		if s.expireIfOld(id, now) {
			// 404 is what the transport spec tells a client to answer
			// with a new initialize.
			writeProblem(w, http.StatusNotFound, "the MCP session reached its maximum lifetime; initialize a new one")
			return
		}
		next.ServeHTTP(w, r)
		return
	}
	if r.Method != http.MethodPost {
		next.ServeHTTP(w, r)
		return
	}
	// A POST without a session is an initialize: it creates one.
	owner := ownerOf(c.Principal)
	if !s.reserveSession(owner) {
		w.Header().Set("Retry-After", strconv.Itoa(int(min(s.cfg.SessionTimeout, time.Minute)/time.Second)))
		writeProblem(w, http.StatusTooManyRequests, "too many open MCP sessions for this user (at most "+
			strconv.Itoa(s.cfg.MaxSessionsPerUser)+"); close one (DELETE with its Mcp-Session-Id) or let it idle out")
		return
	}
	cw := &sessionIDWriter{ResponseWriter: w}
	defer func() { s.settleSession(owner, cw.id, now) }()
	next.ServeHTTP(cw, r)
}

// reserveSession counts one initialize in flight for owner, or reports
// false when owner already holds MaxSessionsPerUser sessions.
func (s *Server) reserveSession(owner string) bool {
	t := &s.streams
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.countLocked(owner) >= s.cfg.MaxSessionsPerUser {
		s.pruneLocked()
		if t.countLocked(owner) >= s.cfg.MaxSessionsPerUser {
			return false
		}
	}
	t.pending[owner]++
	return true
}

// settleSession ends an initialize: the session the SDK created (its id in
// the response) now counts for owner.
func (s *Server) settleSession(owner, id string, created time.Time) {
	t := &s.streams
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pending[owner]--; t.pending[owner] <= 0 {
		delete(t.pending, owner)
	}
	if id != "" {
		t.byID[id] = streamSession{owner: owner, created: created}
	}
}

// countLocked counts owner's registered sessions. Initializes in flight
// are not counted: the SDK may hold an initialize's POST open after the
// client has its answer, and counting it then refused the client's next
// initialize spuriously; a burst of concurrent initializes may pass the cap
// by the burst's size until they settle, after which the next is refused.
func (t *streamSessions) countLocked(owner string) int {
	n := 0
	for _, ss := range t.byID {
		if ss.owner == owner {
			n++
		}
	}
	return n
}

// pruneLocked forgets the sessions the SDK no longer holds (idled out,
// deleted by their client, closed).
func (s *Server) pruneLocked() {
	live := map[string]bool{}
	for ss := range s.mcp.Sessions() {
		live[ss.ID()] = true
	}
	for id := range s.streams.byID {
		if !live[id] {
			delete(s.streams.byID, id)
		}
	}
}

// expireIfOld closes session id when it is past SessionMaxLifetime.
func (s *Server) expireIfOld(id string, now time.Time) bool {
	s.streams.mu.Lock()
	ss, ok := s.streams.byID[id]
	old := ok && now.Sub(ss.created) >= s.cfg.SessionMaxLifetime
	if old {
		delete(s.streams.byID, id)
	}
	s.streams.mu.Unlock()
	if old {
		s.closeSessions(map[string]bool{id: true})
	}
	return old
}

// sweepSessions closes every session past SessionMaxLifetime, at most once
// per sweepEvery, so a session kept open without new requests (a held GET
// stream) still ends.
func (s *Server) sweepSessions(now time.Time) {
	t := &s.streams
	t.mu.Lock()
	if now.Sub(t.lastSweep) < min(sweepEvery, s.cfg.SessionMaxLifetime) {
		t.mu.Unlock()
		return
	}
	t.lastSweep = now
	old := map[string]bool{}
	for id, ss := range t.byID {
		if now.Sub(ss.created) >= s.cfg.SessionMaxLifetime {
			old[id] = true
			delete(t.byID, id)
		}
	}
	t.mu.Unlock()
	if len(old) > 0 {
		s.closeSessions(old)
	}
}

func (s *Server) closeSessions(ids map[string]bool) {
	for ss := range s.mcp.Sessions() {
		if ids[ss.ID()] {
			_ = ss.Close()
		}
	}
}

// sessionIDWriter notes the session id the SDK answers an initialize with.
// It passes flushes through (the answer may be an event stream).
type sessionIDWriter struct {
	http.ResponseWriter
	id string
}

func (w *sessionIDWriter) WriteHeader(code int) {
	if code < 300 {
		w.id = w.Header().Get(sessionHeader)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *sessionIDWriter) Write(b []byte) (int, error) {
	if w.id == "" {
		w.id = w.Header().Get(sessionHeader)
	}
	return w.ResponseWriter.Write(b)
}

func (w *sessionIDWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *sessionIDWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
