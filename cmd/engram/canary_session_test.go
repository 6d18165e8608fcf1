package main

import (
	"context"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/domain"
)

// TestCanarySessionEventsSealedInValkey is issue 16's "session event text
// stored encrypted with a per-user data key": with encryption at rest on,
// a session event's words (text and metadata) are in no Valkey key or
// value, only sealed, while the session API reads them back; after the
// user's erasure destroyed the data key, a copy of Valkey taken before it
// (an RDB snapshot) holds nothing that opens.
func TestCanarySessionEventsSealedInValkey(t *testing.T) {
	pg := canarySchemaURL(t)
	addr := contracttest.BackendAddr(t, contracttest.Valkey)
	prefix := "canary" + randomHex(4)
	args := []string{"--encryption", "on", "--data-dir", t.TempDir(), "--postgres-url", pg, "--valkey-url", "redis://" + addr, "--valkey-prefix", prefix}
	p, logs := canarySystem(t, args...)
	word, mdWord, other := "sealme"+randomHex(8), "mdseal"+randomHex(8), "keepme"+randomHex(8)
	alice, bob := p.token(t, "acme", "alice"), p.token(t, "acme", "bob")
	status, _, _ := p.do(t, alice, http.MethodPost, "/api/v1/sessions/s1/events",
		`{"role":"user","text":"in the session I said `+word+`","metadata":{"note":"`+mdWord+`"}}`)
	require.Equal(t, http.StatusCreated, status)
	status, _, _ = p.do(t, bob, http.MethodPost, "/api/v1/sessions/s1/events", `{"role":"user","text":"bob says `+other+`"}`)
	require.Equal(t, http.StatusCreated, status)

	status, res, _ := p.do(t, alice, http.MethodGet, "/api/v1/sessions/s1/events", "")
	require.Equal(t, http.StatusOK, status)
	evs := res["events"].([]any)
	require.Len(t, evs, 1)
	ev := evs[0].(map[string]any)
	require.Equal(t, "in the session I said "+word, ev["text"], "the session API reads the words")
	require.Equal(t, mdWord, ev["metadata"].(map[string]any)["note"])

	snapshot := valkeyDump(t, addr, prefix)
	require.Contains(t, snapshot, "engram:v1:", "the events are in Valkey, sealed")
	for _, w := range []string{word, mdWord, other} {
		require.NotContains(t, snapshot, w, "no Valkey key or value holds a session event's words")
	}

	eraseAndWait(t, p, alice)
	require.NotContains(t, valkeyDump(t, addr, prefix), "acme/alice}:s1", "alice's session is gone")
	require.NotContains(t, logs.String(), word)
	// The snapshot's sealed events need alice's data key, which is gone
	// from the store; bob's is still there.
	cfg, err := config.Load(args, noEnv)
	require.NoError(t, err)
	b, err := wiring.OpenStore(context.Background(), cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer b.Close()
	dk, err := b.SessionKeys.OpeningKey(context.Background(), domain.Tenant{OrgID: "acme", UserID: "alice"})
	require.NoError(t, err)
	require.Nil(t, dk, "alice's data key is destroyed: her sealed events open nowhere")
	dk, err = b.SessionKeys.OpeningKey(context.Background(), domain.Tenant{OrgID: "acme", UserID: "bob"})
	require.NoError(t, err)
	require.NotNil(t, dk)
	status, res, _ = p.do(t, bob, http.MethodGet, "/api/v1/sessions/s1/events", "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "bob says "+other, res["events"].([]any)[0].(map[string]any)["text"], "bob's session still reads")
}
