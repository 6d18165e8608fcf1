package httpapi_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/valkeystore"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/ports"
)

// sessionBackends are the session stores of the two profiles: in-process
// (embedded) and Valkey (single node and fleet), the latter on the shared
// test server under a fresh key prefix.
var sessionBackends = map[string]func(t *testing.T) ports.SessionStore{
	"inproc": func(t *testing.T) ports.SessionStore {
		st := inproc.NewSessionStore(inproc.SessionOptions{})
		t.Cleanup(func() { _ = st.Close() })
		return st
	},
	"valkey": func(t *testing.T) ports.SessionStore {
		addr := contracttest.BackendAddr(t, contracttest.Valkey)
		st, err := valkeystore.Open(context.Background(), valkeystore.Config{
			URL: "redis://" + addr, Options: valkeystore.Options{Prefix: "httpapi-order-" + rand.Text()},
		})
		require.NoError(t, err)
		t.Cleanup(func() { _ = st.Close() })
		return st
	},
}

// TestSessionEventsAreOldestFirst: the listing reads like a transcript
// (issue 11). After events 0, 1, 2, it is [0, 1, 2]; limit=2 is the newest
// two in order, [1, 2]; and a listed event carries no score, which belongs
// to context responses only.
func TestSessionEventsAreOldestFirst(t *testing.T) {
	for name, open := range sessionBackends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newSessionEnv(t, open(t))
			alice := e.user("acme", "alice")
			for i := range 3 {
				alice.appendEvent("chat", "user", fmt.Sprint(i))
			}
			texts := func(target string) []string {
				got := decode[struct {
					Events []map[string]any `json:"events"`
				}](t, alice.do(http.MethodGet, target, nil), http.StatusOK)
				var out []string
				for _, ev := range got.Events {
					require.NotContains(t, ev, "score", "a listed event has no score")
					out = append(out, ev["text"].(string))
				}
				return out
			}
			require.Equal(t, []string{"0", "1", "2"}, texts("/api/v1/sessions/chat/events"))
			require.Equal(t, []string{"1", "2"}, texts("/api/v1/sessions/chat/events?limit=2"))
		})
	}
}
