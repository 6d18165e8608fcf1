package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestFleetErasureForgetsCachedDataKeys runs two engramd processes on one
// PostgreSQL schema with one ENGRAM_KEK, as a fleet does. Each caches the
// users' unwrapped data keys. The user writes through B (B caches the key),
// erases themselves through A (the job destroys the key), and writes again
// through B once B accepts the user's writes. That write must be sealed
// with a key that exists: read through A, and through a third process
// started afterwards, it must come back as its text.
// A B that kept the destroyed key in its cache would seal the new memory
// with it, and no process that had not cached it could ever open it. B forgets the key in
// two ways: its own erasure passes (every server works every unfinished
// job) and its write guard's refresh, which forgets the subject's keys
// while the job runs and when it ends (app
// TestAnotherServerForgetsTheErasedSubjectsKeys covers that one alone: a
// server whose own passes fail or never reach the key).
func TestFleetErasureForgetsCachedDataKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the test runs two engramd processes")
	}
	pg := pgSchemaURL(t)
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	dir := t.TempDir() // shared: the local signing key, so one token serves both
	env := func(i int) map[string]string {
		logDir := filepath.Join(t.TempDir(), fmt.Sprint(i))
		require.NoError(t, os.MkdirAll(logDir, 0o700))
		return map[string]string{
			"ENGRAM_DATA_DIR": dir, "ENGRAM_POSTGRES_URL": pg, "ENGRAM_KEK": hex.EncodeToString(kek),
			"ENGRAM_ENCRYPTION": "on", "ENGRAM_ADDR": "127.0.0.1:0", "ENGRAM_ADMIN_ADDR": "off",
			"ENGRAM_LOG_FORMAT": "json", "engram_test_log_dir": logDir,
		}
	}
	var bases [2]string
	for i := range bases {
		p := startEngramdProcLogAt(t, env(i)) // one at a time: the first migrates
		bases[i] = "http://" + listeningAddr(t, p, 60*time.Second)
		waitReadyOr(t, p, bases[i], 60*time.Second)
	}
	a, b := bases[0], bases[1]
	raw, err := os.ReadFile(filepath.Join(dir, "local-token"))
	require.NoError(t, err)
	token := strings.TrimSpace(string(raw))

	code, body := do(t, http.MethodPost, b+"/api/v1/memories", token, `{"text":"walrus-7731 before the erasure"}`)
	require.Equal(t, http.StatusCreated, code, body)

	code, body = do(t, http.MethodDelete, a+"/api/v1/me", token, "")
	require.Equal(t, http.StatusAccepted, code, body)
	var job struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &job))
	// B reads while the job runs (and before it has destroyed the key): a
	// read may put the key back into B's cache.
	require.Eventually(t, func() bool {
		do(t, http.MethodGet, b+"/api/v1/memories", token, "")
		code, body := do(t, http.MethodGet, a+"/api/v1/erasures/"+job.ID, token, "")
		require.Contains(t, []int{http.StatusOK, http.StatusAccepted}, code, body)
		require.NoError(t, json.Unmarshal([]byte(body), &job))
		return job.Status == "done"
	}, 60*time.Second, 200*time.Millisecond, "the erasure job did not finish")

	// B refuses the user's writes until it has seen the job end.
	var id string
	require.Eventually(t, func() bool {
		code, body := do(t, http.MethodPost, b+"/api/v1/memories", token, `{"text":"narwhal-0419 after the erasure"}`)
		if code == http.StatusConflict {
			return false
		}
		require.Equal(t, http.StatusCreated, code, body)
		var m struct {
			ID string `json:"id"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &m))
		id = m.ID
		return true
	}, 30*time.Second, 100*time.Millisecond, "B never accepted the user's writes after the erasure")

	// A third process, whose cache is empty, must open it too (A may hold
	// the old key itself, cached by its change feed's read of the first
	// memory).
	p := startEngramdProcLogAt(t, env(2))
	c := "http://" + listeningAddr(t, p, 60*time.Second)
	waitReadyOr(t, p, c, 60*time.Second)
	for _, base := range []string{a, c} {
		code, body = do(t, http.MethodGet, base+"/api/v1/memories/"+id, token, "")
		require.Equal(t, http.StatusOK, code, "the memory written through B after the erasure must open through %s: %s", base, body)
		require.Contains(t, body, "narwhal-0419")
	}
}
