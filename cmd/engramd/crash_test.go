package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/pgstore"
)

// The crash test: engramd in its own process, logged in as the runtime
// role of docs/postgres.md, on its own PostgreSQL cluster and redis-server
// (loopback only), under a steady load of keyed writes from two tenants
// that retry each write with its key until acknowledged. Valkey is killed,
// PostgreSQL stopped with -m immediate, frozen (SIGSTOP) for 5 s and for
// 15 s, and engramd killed with SIGKILL while keys are in flight. Then:
// no acknowledged write lost or duplicated, every memory indexed and
// searchable, /readyz answered within its bound and said "not ready"
// during each outage, writes worked soon after each backend returned, and
// the writes in flight at the SIGKILL completed soon after the restart.
func TestCrashesAndHangsLoseNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: starts private PostgreSQL and Redis servers")
	}
	ctx := context.Background()
	redis := startPrivateRedis(t)
	pg := startPrivatePostgres(t)
	t.Cleanup(func() {
		if pg.running {
			pg.signalAll(syscall.SIGCONT) // never leave a frozen cluster behind
		}
	})
	_, err := pgstore.Migrate(ctx, pg.URL(), pgstore.Up)
	require.NoError(t, err, "migrate as the owner")
	owner, err := sql.Open("postgres", pg.URL())
	require.NoError(t, err)
	t.Cleanup(func() { owner.Close() })
	_, err = owner.Exec(`CREATE ROLE engram LOGIN PASSWORD 'runtime' IN ROLE engram_app`)
	require.NoError(t, err)
	runtimeURL := strings.Replace(pg.URL(), "postgres://postgres@", "postgres://engram:runtime@", 1)

	dir := t.TempDir()
	addr := freeAddr(t)
	base := "http://" + addr
	e := startEngramdProc(t, map[string]string{
		"ENGRAM_DATA_DIR": dir, "ENGRAM_ADDR": addr, "ENGRAM_PUBLIC_URL": base, "ENGRAM_ADMIN_ADDR": freeAddr(t),
		"ENGRAM_POSTGRES_URL": runtimeURL, "ENGRAM_NO_MIGRATE": "true",
		"ENGRAM_VALKEY_URL":  "redis://" + redis.addr(),
		"ENGRAM_RATE_WRITES": "1000000", "ENGRAM_RATE_READS": "1000000", "ENGRAM_RATE_SEARCH": "1000000",
	})
	waitReadyOr(t, e, base, 60*time.Second)
	raw, err := os.ReadFile(filepath.Join(dir, "local-token"))
	require.NoError(t, err)
	local := strings.TrimSpace(string(raw))
	other := mintBearer(t, dir, local, "crash-org-2", "crash-user-2")

	w := newKeyedWriter(base, []string{local, other})
	ready := probeReady(base)
	t.Cleanup(func() { close(ready.stop); <-ready.done })
	w.run(4)
	w.firstOKAfter(t, time.Now(), 30*time.Second)

	// outage runs one fault, then checks /readyz during it and measures
	// how soon after the backend's return a write was acknowledged.
	type figure struct {
		name                 string
		recover, readyMax    time.Duration
		readyAnswers, ready2 int
	}
	pgAnswers := func() error {
		db, err := sql.Open("postgres", pg.URL())
		if err != nil {
			return err
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		return db.PingContext(ctx)
	}
	answers := map[string]func() error{
		"valkey killed": func() error { return redisPing(redis.addr()) }, "postgres -m immediate": pgAnswers,
		"postgres frozen 5s": pgAnswers, "postgres frozen 15s": pgAnswers,
	}
	outage := func(name string, down, up func()) {
		t.Helper()
		start := time.Now()
		down()
		end := time.Now()
		// Writes are measured from the moment the backend answers a new
		// client again (probed every 10 ms on a fresh connection: a thawed
		// PostgreSQL first works through its backlog), by a prober that
		// writes every 25 ms (the keyed writers pause 200 ms between
		// retries, which would blur the figure).
		up()
		back := waitAnswers(t, answers[name], 30*time.Second)
		rec := probeWrite(t, base, local, back, 30*time.Second)
		waitReadyOr(t, e, base, 30*time.Second)
		f := figure{name: name, recover: rec}
		// Probes started a second into the outage, and early enough to end
		// before the backend's return, must say "not ready", within the
		// 2 s bound (plus 0.5 s for the client on a loaded machine).
		for _, a := range ready.between(start.Add(time.Second), end.Add(-2500*time.Millisecond)) {
			f.readyAnswers++
			f.readyMax = max(f.readyMax, a.latency)
			if a.code == http.StatusOK {
				f.ready2++
			}
		}
		// Every memory committed before the return, acknowledged or not,
		// is in the store's text index within seconds.
		indexed := waitIndexed(t, owner, back, 15*time.Second)
		t.Logf("%s: outage %s, first write acknowledged %s after the return, /readyz %d answers during it (%d said ready), slowest %s; every earlier commit indexed %s after the return",
			name, end.Sub(start).Round(10*time.Millisecond), rec.Round(time.Millisecond), f.readyAnswers, f.ready2, f.readyMax.Round(time.Millisecond), indexed.Round(time.Millisecond))
		require.Positive(t, f.readyAnswers, "%s: /readyz answered during the outage", name)
		require.Zero(t, f.ready2, "%s: /readyz said ready while the backend was down", name)
		require.Less(t, f.readyMax, 2500*time.Millisecond, "%s: /readyz within its 2 s bound", name)
		require.Less(t, rec, time.Second, "%s: writes work again within 1 s of the backend's return", name)
		time.Sleep(2 * time.Second) // steady load between faults
	}
	pause := func(d time.Duration) func() { return func() { time.Sleep(d) } }

	outage("valkey killed", func() { redis.kill(); time.Sleep(5 * time.Second) }, redis.start)
	outage("postgres -m immediate", func() { pg.stopImmediate(); time.Sleep(5 * time.Second) }, pg.start)
	for _, d := range []time.Duration{5 * time.Second, 15 * time.Second} {
		outage(fmt.Sprintf("postgres frozen %s", d), func() { pg.signalAll(syscall.SIGSTOP); pause(d)() }, func() { pg.signalAll(syscall.SIGCONT) })
	}

	// engramd SIGKILLed with keyed writes in flight, restarted on the
	// same port: each of those writes completes soon after the restart.
	// PostgreSQL is frozen for a moment first, so that every worker's
	// write is inside engramd, its key claimed in Valkey, when it dies.
	pg.signalAll(syscall.SIGSTOP)
	time.Sleep(time.Second)
	killed := time.Now()
	e.kill()
	pg.signalAll(syscall.SIGCONT)
	restarted := time.Now()
	e.start()
	waitReadyOr(t, e, base, 60*time.Second)
	time.Sleep(2 * time.Second)
	w.halt()

	w.mu.Lock()
	defer w.mu.Unlock()
	t.Logf("statuses %v; %d writes tried, %d acknowledged", w.codes, len(w.tried), len(w.acked))
	require.Empty(t, w.probs)
	require.Len(t, w.acked, len(w.tried), "every write was acknowledged in the end")
	var inFlight int
	var slowest time.Duration
	for _, a := range w.acked {
		if a.started.Before(killed) && a.at.After(killed) {
			inFlight++
			slowest = max(slowest, a.at.Sub(restarted))
		}
	}
	t.Logf("engramd SIGKILL: %d keyed writes in flight, the last acknowledged %s after the restart", inFlight, slowest.Round(time.Millisecond))
	require.Positive(t, inFlight, "writes were in flight at the SIGKILL")
	require.Less(t, slowest, 10*time.Second, "keyed retries complete within 10 s of the restart")

	// Nothing lost, nothing twice, as the owner sees the table.
	for _, text := range w.tried {
		var n int
		var id string
		require.NoError(t, owner.QueryRow(`SELECT count(*), coalesce(min(id::text), '') FROM memories WHERE text = $1 AND state = 'active'`, text).Scan(&n, &id))
		require.Equal(t, 1, n, "%q stored exactly once", text)
		require.Equal(t, w.acked[text].id, id, "%q: the acknowledged id", text)
	}
	// Every committed memory reaches the text index within seconds.
	waitIndexed(t, owner, time.Now(), 20*time.Second)
	// And is found by search through the API (a sample: the last ones).
	checked := 0
	for i := len(w.tried) - 1; i >= 0 && checked < 40; i-- {
		text := w.tried[i]
		a := w.acked[text]
		word := text[strings.LastIndex(text, " ")+1:]
		code, body := do(t, http.MethodPost, base+"/api/v1/search", a.token, `{"query":"`+word+`","limit":5}`)
		require.Equal(t, http.StatusOK, code, body)
		require.Contains(t, body, a.id, "%s searchable", word)
		checked++
	}
}

// waitAnswers calls answers every 10 ms until it succeeds, and returns
// when it did.
func waitAnswers(t *testing.T, answers func() error, within time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := answers()
		if err == nil {
			return time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("the backend does not answer within %s: %v", within, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// redisPing sends PING on a fresh connection and wants +PONG.
func redisPing(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	b := make([]byte, 7)
	if _, err := io.ReadFull(c, b); err != nil {
		return err
	}
	if string(b) != "+PONG\r\n" {
		return fmt.Errorf("redis answered %q", b)
	}
	return nil
}

// probeWrite writes a fresh memory every 25 ms from now until one is
// acknowledged, and returns how long after from that was.
func probeWrite(t *testing.T, base, token string, from time.Time, within time.Duration) time.Duration {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(within)
	for i := 0; time.Now().Before(deadline); i++ {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/memories",
			strings.NewReader(fmt.Sprintf(`{"text":"recovery probe %d at %d"}`, i, time.Now().UnixNano())))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		if res, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusCreated || res.StatusCode == http.StatusOK {
				return time.Since(from)
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("no write acknowledged within %s", within)
	return 0
}

// waitIndexed waits until every active memory created before at is in the
// store's text index, and returns how long after at that was.
func waitIndexed(t *testing.T, owner *sql.DB, at time.Time, within time.Duration) time.Duration {
	t.Helper()
	var lag int
	deadline := time.Now().Add(within)
	for {
		require.NoError(t, owner.QueryRow(`SELECT count(*) FROM memories m WHERE m.state = 'active' AND m.created_at < $1 AND NOT EXISTS (
			SELECT 1 FROM memory_search s WHERE s.memory_id = m.id AND s.content_hash = m.content_hash)`, at).Scan(&lag))
		if lag == 0 {
			return time.Since(at)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d committed memories not indexed %s after %s", lag, within, at.Format(time.RFC3339Nano))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitReadyOr waits for /readyz 200, or fails with engramd's log.
func waitReadyOr(t *testing.T, e *engramdProc, base string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("engramd not ready within %s:\n%s", within, e.logTail())
}
