package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The fault test: engramd on its own PostgreSQL and Valkey under load,
// Valkey stopped and restarted, then PostgreSQL stopped and restarted.
// Every acknowledged write survives, engramd never exits, /readyz reports
// each outage and recovers, and every 5xx is a 503 with Retry-After.
func TestFaultOutagesLoseNoAcknowledgedWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: starts private PostgreSQL and Redis servers")
	}
	redis := startPrivateRedis(t)
	pg := startPrivatePostgres(t)
	addr := freeAddr(t)
	public := "http://" + addr
	dir := t.TempDir()
	e := startLogged(t, map[string]string{
		"ENGRAM_DATA_DIR": dir, "ENGRAM_ADDR": addr, "ENGRAM_PUBLIC_URL": public,
		"ENGRAM_POSTGRES_URL": pg.URL(), "ENGRAM_VALKEY_URL": "redis://" + redis.addr(),
		// Limits far above the load: the limiter still runs on Valkey
		// (and fails open while it is down) but never refuses.
		"ENGRAM_RATE_WRITES": "1000000", "ENGRAM_RATE_READS": "1000000", "ENGRAM_RATE_SEARCH": "1000000",
	})
	dpop, prover := mintDPoP(t, dir, e.token, "fault-org", "fault-user")
	load := newLoadGen(e.base, public, e.token, dpop, prover)
	ready := watchReady(e.base)
	defer func() { close(ready.stop); <-ready.done }()

	load.run(4, 20*time.Millisecond)
	time.Sleep(2 * time.Second)
	require.Greater(t, load.succeeded.Load(), int64(20), "the load runs")

	// Valkey outage: DPoP replay checks cannot be made, so DPoP requests
	// are refused with 503 (never accepted unchecked); Bearer ones go on.
	mark := ready.mark()
	redis.stop()
	time.Sleep(3 * time.Second)
	redis.start()
	waitReady(t, e.base, 20*time.Second)
	require.Contains(t, ready.since(mark), http.StatusServiceUnavailable, "/readyz reported the Valkey outage")
	load.waitWrites(t, 20*time.Second)
	require.ErrorIs(t, e.exited(), errStillRunning)

	// PostgreSQL outage: every store call fails; writes are 503.
	unavailBefore := load.unavail.Load()
	mark = ready.mark()
	pg.stop()
	breakerOpen := `engram_circuit_breaker_state{dependency="postgres"} 2`
	require.Eventually(t, func() bool {
		_, metrics := get(t, "http://"+e.admin+"/metrics")
		return strings.Contains(metrics, breakerOpen)
	}, 3*time.Second, 100*time.Millisecond, "the PostgreSQL breaker opens")
	time.Sleep(2 * time.Second)
	pg.start()
	waitReady(t, e.base, 20*time.Second)
	require.Contains(t, ready.since(mark), http.StatusServiceUnavailable, "/readyz reported the PostgreSQL outage")
	require.Greater(t, load.unavail.Load(), unavailBefore, "requests during the PostgreSQL outage were refused with 503")
	load.waitWrites(t, 20*time.Second)
	time.Sleep(time.Second)
	load.halt()
	_, metrics := get(t, "http://"+e.admin+"/metrics")
	require.Contains(t, metrics, `engram_circuit_breaker_state{dependency="postgres"} 0`, "the breaker closed again")
	require.Contains(t, metrics, `engram_dependency_up{dependency="postgres"} 1`)
	require.ErrorIs(t, e.exited(), errStillRunning, "engramd was never restarted")

	load.mu.Lock()
	problems, acked, statuses := load.problems, load.acked, load.statuses
	load.mu.Unlock()
	t.Logf("statuses: %v; acknowledged writes: %d", statuses, len(acked))
	require.Empty(t, problems, "answers that break the outage rules")

	// Every acknowledged write is there, readable, with its text.
	for id, text := range acked {
		useDPoP := strings.Contains(text, "dpop=true")
		req, err := load.request(http.MethodGet, "/api/v1/memories/"+id, "", useDPoP)
		require.NoError(t, err)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode, "acknowledged write %s lost: %s", id, body)
		require.Contains(t, string(body), text)
	}
	require.NoError(t, e.stop(), "a clean drain")
}
