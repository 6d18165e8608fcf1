package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/contracttest"
)

// roundRobin is the simplest load balancer: each request goes to the next
// backend; a backend that refuses the connection answers 502 through the
// proxy's error handler (no health checks, no retries: the clients retry).
type roundRobin struct {
	next    atomic.Uint64
	proxies []*httputil.ReverseProxy
}

func newRoundRobin(t *testing.T, bases []string) *httptest.Server {
	lb := &roundRobin{}
	for _, b := range bases {
		u, err := url.Parse(b)
		require.NoError(t, err)
		p := httputil.NewSingleHostReverseProxy(u)
		p.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, "backend down: "+err.Error(), http.StatusBadGateway)
		}
		lb.proxies = append(lb.proxies, p)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lb.proxies[lb.next.Add(1)%uint64(len(lb.proxies))].ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestFleetSurvivesLosingAnInstance runs three engramd processes on one
// PostgreSQL schema (reading from the streaming replica when the test
// environment has one) and one Valkey prefix, behind a round-robin load
// balancer. Clients write through the balancer, each write with its own
// Idempotency-Key, retrying 502 (the balancer found the instance dead),
// 409 (a claim held by a request in flight, or by the dead instance until
// its lease ends) and 503 with the same key. One instance is killed with
// SIGKILL mid-load. Afterwards every acknowledged write exists exactly
// once in the store, and vector search through each surviving instance
// finds it. The p50/p99/max of a logical write (retries included) during
// the run are logged for docs/scaling.md.
func TestFleetSurvivesLosingAnInstance(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the fleet test runs three engramd processes")
	}
	pg := pgSchemaURL(t)
	valkey := contracttest.BackendAddr(t, contracttest.Valkey)
	if !strings.Contains(valkey, "://") {
		valkey = "redis://" + valkey
	}
	replicas := ""
	if os.Getenv("ENGRAM_TEST_POSTGRES_REPLICA_URL") != "" || contracttest.Required(contracttest.Replica) {
		replicas = replicaOf(t, pg)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	dir := t.TempDir()
	env := func(i int) map[string]string {
		logDir := filepath.Join(t.TempDir(), fmt.Sprint(i))
		require.NoError(t, os.MkdirAll(logDir, 0o700))
		return map[string]string{
			"ENGRAM_DATA_DIR": dir, "ENGRAM_POSTGRES_URL": pg, "ENGRAM_VALKEY_URL": valkey,
			"ENGRAM_POSTGRES_REPLICA_URLS": replicas,
			"ENGRAM_VALKEY_PREFIX":         "engram-kill-" + hex.EncodeToString(b[:]),
			"ENGRAM_ADDR":                  "127.0.0.1:0", "ENGRAM_ADMIN_ADDR": "off", "ENGRAM_LOG_FORMAT": "json",
			"ENGRAM_RATE_WRITES": "1000000", "ENGRAM_RATE_READS": "1000000", "ENGRAM_RATE_SEARCH": "1000000",
			"engram_test_log_dir": logDir,
		}
	}
	var procs []*engramdProc
	var bases []string
	for i := range 3 {
		p := startEngramdProcLogAt(t, env(i))
		base := "http://" + listeningAddr(t, p, 60*time.Second)
		waitReadyOr(t, p, base, 60*time.Second)
		procs, bases = append(procs, p), append(bases, base)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "local-token"))
	require.NoError(t, err)
	token := strings.TrimSpace(string(raw))
	lb := newRoundRobin(t, bases)

	const clients, perClient, killAfter = 4, 15, 20
	var (
		mu       sync.Mutex
		acked    = map[string]string{} // text -> id
		lat      []time.Duration
		retries  int
		statuses = map[int]int{}
		done     atomic.Int64
		killed   = make(chan struct{})
	)
	write := func(text, key string) (string, error) {
		start := time.Now()
		deadline := start.Add(30 * time.Second)
		for attempt := 0; ; attempt++ {
			req, _ := http.NewRequest(http.MethodPost, lb.URL+"/api/v1/memories", strings.NewReader(fmt.Sprintf(`{"text":%q}`, text)))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", key)
			res, err := http.DefaultClient.Do(req)
			code := 0
			var body []byte
			if err == nil {
				body, _ = io.ReadAll(res.Body)
				res.Body.Close()
				code = res.StatusCode
			}
			mu.Lock()
			statuses[code]++
			if attempt > 0 {
				retries++
			}
			mu.Unlock()
			switch {
			case code == http.StatusCreated || code == http.StatusOK:
				var m struct {
					ID string `json:"id"`
				}
				if err := json.Unmarshal(body, &m); err != nil || m.ID == "" {
					return "", fmt.Errorf("answer without an id: %d %s", code, body)
				}
				mu.Lock()
				lat = append(lat, time.Since(start))
				mu.Unlock()
				return m.ID, nil
			case err != nil, code == http.StatusBadGateway, code == http.StatusServiceUnavailable, code == http.StatusConflict:
				if time.Now().After(deadline) {
					return "", fmt.Errorf("gave up after %d attempts: %d %v %s", attempt+1, code, err, body)
				}
				wait := 50 * time.Millisecond
				if res != nil {
					if s, perr := strconv.Atoi(res.Header.Get("Retry-After")); perr == nil && s > 0 {
						wait = time.Duration(s) * time.Second / 4 // poll a held claim a few times a lease
					}
				}
				time.Sleep(wait)
			default:
				return "", fmt.Errorf("unexpected answer %d: %s", code, body)
			}
		}
	}
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for n := range perClient {
				text := fmt.Sprintf("client %d write %d: %s", c, n, fleetTopics[(c+n)%len(fleetTopics)])
				id, err := write(text, fmt.Sprintf("kill-%s-%d-%d", hex.EncodeToString(b[:]), c, n))
				if err != nil {
					t.Errorf("%s: %v", text, err)
					continue
				}
				mu.Lock()
				acked[text] = id
				mu.Unlock()
				if done.Add(1) == killAfter {
					close(killed)
				}
			}
		})
	}
	<-killed
	victim := procs[1]
	pid := victim.cmd.Process.Pid
	victim.kill() // SIGKILL, mid-load
	killedAt := time.Now()
	wg.Wait()
	t.Logf("killed engramd pid %d after %d acknowledged writes; the rest took %s", pid, killAfter, time.Since(killedAt).Round(time.Millisecond))
	require.Len(t, acked, clients*perClient, "every write was acknowledged in the end")

	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	t.Logf("%d writes through a round-robin balancer over 3 engramd (one SIGKILLed after %d): per write incl. retries p50 %s, p99 %s, max %s; %d retries; answers %v",
		len(lat), killAfter, pct(0.5).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond), retries, statuses)

	// Exactly once in the store: the store itself, not an API that could
	// hide a duplicate.
	db := openSchemaDB(t, pg)
	for text, id := range acked {
		var n int
		require.NoError(t, db.QueryRow(`SELECT count(*) FROM memories WHERE text = $1 AND erased_at IS NULL`, text).Scan(&n))
		require.Equal(t, 1, n, "%q stored %d times", text, n)
		var got string
		require.NoError(t, db.QueryRow(`SELECT id::text FROM memories WHERE text = $1`, text).Scan(&got))
		require.Equal(t, id, got, "the acknowledged id is the stored one")
	}
	// Found by vector search through every survivor.
	for i, base := range bases {
		if i == 1 {
			continue
		}
		for text, id := range acked {
			require.Eventually(t, func() bool { return slices.Contains(vectorHits(t, base, token, text), id) },
				10*time.Second, 20*time.Millisecond, "engramd %d does not find %q", i, text)
		}
	}
}
