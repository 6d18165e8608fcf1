package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/contracttest"
)

// convergeWithin is the promise: a write through one engramd is found by
// vector search through every other within a second (docs/benchmarks.md,
// "Write-to-visible latency across processes").
const convergeWithin = time.Second

// TestFleetOnOnePostgresConverges runs three engramd processes on one
// PostgreSQL schema and one Valkey prefix, as a fleet behind a load balancer
// would: each is this test binary re-run as engramd (TestMain), listening
// on a port the OS picks. Each keeps its own in-process vector index; a
// memory written through any of them must be found by vector search through
// every one within convergeWithin, which only the store's change feed
// (LISTEN/NOTIFY, with polling behind it) can bring about. Every write is
// timed from its 201 to the first search answer that holds it, per reader;
// the test logs the p50, p99 and max of those and fails when the p99
// exceeds the promise (a reader that never sees a write fails it outright).
func TestFleetOnOnePostgresConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the fleet test runs three engramd processes")
	}
	pg := pgSchemaURL(t)
	valkey := contracttest.BackendAddr(t, contracttest.Valkey)
	if !strings.Contains(valkey, "://") {
		valkey = "redis://" + valkey
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	dir := t.TempDir() // shared: the local signing key, so one token serves all three
	env := func(i int) map[string]string {
		logDir := filepath.Join(t.TempDir(), fmt.Sprint(i))
		require.NoError(t, os.MkdirAll(logDir, 0o700))
		return map[string]string{
			"ENGRAM_DATA_DIR": dir, "ENGRAM_POSTGRES_URL": pg, "ENGRAM_VALKEY_URL": valkey,
			"ENGRAM_VALKEY_PREFIX": "engram-fleet-" + hex.EncodeToString(b[:]),
			"ENGRAM_ADDR":          "127.0.0.1:0", "ENGRAM_ADMIN_ADDR": "off", "ENGRAM_LOG_FORMAT": "json",
			"ENGRAM_RATE_WRITES": "1000000", "ENGRAM_RATE_READS": "1000000", "ENGRAM_RATE_SEARCH": "1000000",
			"engram_test_log_dir": logDir,
		}
	}
	var bases []string
	var pids []int
	for i := range 3 {
		// One at a time: the first migrates the schema.
		p := startEngramdProcLogAt(t, env(i))
		base := "http://" + listeningAddr(t, p, 60*time.Second)
		waitReadyOr(t, p, base, 60*time.Second)
		bases = append(bases, base)
		pids = append(pids, p.cmd.Process.Pid)
	}
	require.NotEqual(t, pids[0], pids[1])
	require.NotEqual(t, pids[1], pids[2])
	raw, err := os.ReadFile(filepath.Join(dir, "local-token"))
	require.NoError(t, err)
	token := strings.TrimSpace(string(raw))

	const writes = 30
	var lat []time.Duration
	for n := range writes {
		writer := n % len(bases)
		text := fmt.Sprintf("fleet memory %d: %s", n, fleetTopics[n%len(fleetTopics)])
		code, body := do(t, http.MethodPost, bases[writer]+"/api/v1/memories", token, fmt.Sprintf(`{"text":%q}`, text))
		require.Equal(t, http.StatusCreated, code, body)
		acked := time.Now()
		var added struct {
			ID string `json:"id"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &added))
		var mu sync.Mutex
		var wg sync.WaitGroup
		for reader, base := range bases {
			wg.Go(func() {
				for {
					found := slices.Contains(vectorHits(t, base, token, text), added.ID)
					took := time.Since(acked)
					if found {
						mu.Lock()
						lat = append(lat, took)
						mu.Unlock()
						return
					}
					if took > 10*convergeWithin {
						t.Errorf("engramd %d never found (by vector search) what engramd %d wrote, %s after it was acknowledged", reader, writer, took)
						return
					}
					time.Sleep(5 * time.Millisecond)
				}
			})
		}
		wg.Wait()
	}
	require.Len(t, lat, writes*len(bases))
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	t.Logf("three engramd processes (pids %v), %d writes, %d write-to-visible samples: p50 %s, p99 %s, max %s",
		pids, writes, len(lat), pct(0.5).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
	require.LessOrEqual(t, pct(0.99), convergeWithin, "p99 write-to-visible across processes")
}

var fleetTopics = []string{
	"the lighthouse keeper feeds seagulls at dawn", "quantum chess tournament in Reykjavik",
	"a sourdough starter named Gerald", "allergic to hazelnuts since childhood", "prefers aisle seats on trains",
}

// startEngramdProcLogAt starts engramd in its own process with its log in
// env["engram_test_log_dir"] (the processes share a data directory).
func startEngramdProcLogAt(t *testing.T, env map[string]string) *engramdProc {
	t.Helper()
	logDir := env["engram_test_log_dir"]
	delete(env, "engram_test_log_dir")
	p := &engramdProc{t: t, log: filepath.Join(logDir, "engramd.log")}
	p.env = append(os.Environ(), asEngramd+"=1")
	for k, v := range env {
		p.env = append(p.env, k+"="+v)
	}
	p.start()
	t.Cleanup(func() { p.kill() })
	return p
}

var listeningLine = regexp.MustCompile(`"msg":"engramd listening","addr":"([^"]+)"`)

// listeningAddr reads the address the OS gave engramd's listener from its
// log.
func listeningAddr(t *testing.T, p *engramdProc, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		raw, _ := os.ReadFile(p.log)
		if m := listeningLine.FindSubmatch(raw); m != nil {
			return string(m[1])
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("engramd did not log its address within %s:\n%s", within, p.logTail())
	return ""
}

// vectorHits runs a vector search through base and returns the ids found.
func vectorHits(t *testing.T, base, token, query string) []string {
	t.Helper()
	code, body := do(t, http.MethodPost, base+"/api/v1/search", token, fmt.Sprintf(`{"query":%q,"mode":"vector","limit":5}`, query))
	if code != http.StatusOK {
		t.Errorf("search through %s: %d %s", base, code, body)
		return nil
	}
	var res struct {
		Results []struct {
			Memory struct {
				ID string `json:"id"`
			} `json:"memory"`
		} `json:"results"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &res))
	ids := make([]string, len(res.Results))
	for i, r := range res.Results {
		ids[i] = r.Memory.ID
	}
	return ids
}
