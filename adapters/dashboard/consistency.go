package dashboard

import (
	"net/http"
	"strings"
	"sync"

	"github.com/engram-memory/engram/domain"
)

// consistencyHeader is the API's read-your-writes token
// (httpapi.ConsistencyHeader): on a write's answer, the commit position
// after it; on a request, the position its reads must see.
const consistencyHeader = "Engram-Consistency"

// readAfter is the newest commit position a session's writes were
// answered with. Every later API call of the session carries it, so a
// page shown after an edit never comes from a read replica that has not
// replayed the edit yet (the store waits for one that has, or reads the
// primary). Without replicas the API sends no position and nothing is
// carried. Per session, not per process: another user's writes do not
// slow this one's reads.
type readAfter struct {
	mu  sync.Mutex
	pos domain.Consistency
}

// stamp puts the position on an API request.
func (a *readAfter) stamp(req *http.Request) {
	a.mu.Lock()
	pos := a.pos
	a.mu.Unlock()
	if pos != 0 {
		req.Header.Set(consistencyHeader, pos.String())
	}
}

// observe keeps the position of a write's answer when it is newer, and
// forgets the position when the API refused it (a token from the future:
// the database was restored to an earlier point), so that one refusal
// does not stick to the session.
func (a *readAfter) observe(status int, h http.Header, body []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if status == http.StatusBadRequest && strings.Contains(string(body), `"consistency"`) {
		a.pos = 0
		return
	}
	if pos, err := domain.ParseConsistency(strings.TrimSpace(h.Get(consistencyHeader))); err == nil && pos > a.pos {
		a.pos = pos
	}
}
