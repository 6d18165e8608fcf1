package dashboard

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// A dashboard session carries the Engram-Consistency position its writes
// were answered with into its later API calls (the newest one, never
// going back), other sessions carry nothing of it, and a position the API
// refuses is dropped. The API here speaks the header protocol of
// adapters/httpapi's consistency middleware: a write's answer carries the
// position its test sets, and every request's header is recorded.
func TestSessionReadsItsOwnWrites(t *testing.T) {
	var (
		mu      sync.Mutex
		seen    []string // the header of each request, in order
		answer  = "0/2000"
		refused bool
	)
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, r.Header.Get(consistencyHeader))
		if refused && r.Header.Get(consistencyHeader) != "" {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"title":"Invalid request","status":400,"errors":[{"field":"consistency","reason":"ahead of the primary"}]}`))
			return
		}
		if r.Method != http.MethodGet {
			w.Header().Set(consistencyHeader, answer)
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{}`))
	})
	x, err := New(Config{PublicURL: "http://127.0.0.1:8765", ClientID: "c"}, Deps{API: api, OAuth: http.NotFoundHandler(), Sessions: tempSessions(t)})
	require.NoError(t, err)
	outer := httptest.NewRequest(http.MethodGet, "/ui/", nil)
	alice, bob := &session{access: "a", reads: &readAfter{}}, &session{access: "b", reads: &readAfter{}}
	call := func(s *session, method string) string {
		t.Helper()
		_ = x.api(outer, s, method, "/memories", nil, nil)
		mu.Lock()
		defer mu.Unlock()
		return seen[len(seen)-1]
	}

	require.Empty(t, call(alice, http.MethodGet), "nothing written yet: nothing carried")
	require.Empty(t, call(alice, http.MethodPatch), "the write itself carries nothing yet")
	require.Equal(t, "0/2000", call(alice, http.MethodGet), "the next read carries the write's position")
	require.Empty(t, call(bob, http.MethodGet), "another session does not wait for alice's writes")

	answer = "0/1000" // an answer from an instance that read an older position
	call(alice, http.MethodDelete)
	require.Equal(t, "0/2000", call(alice, http.MethodGet), "the newest position is kept")
	answer = "1/0"
	call(alice, http.MethodPost)
	require.Equal(t, "1/0", call(alice, http.MethodGet))

	refused = true // the database was restored to an earlier point
	require.Equal(t, "1/0", call(alice, http.MethodGet))
	require.Empty(t, call(alice, http.MethodGet), "a refused position is dropped, not repeated")
}
