package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// startEngramd runs run() in-process on a free loopback port with a fresh
// data dir and returns its base URL, stop function and outputs.
func startEngramd(t *testing.T, env map[string]string) (base string, stop func() error, stdout *syncBuffer) {
	t.Helper()
	addrs := make(chan string, 1)
	ready = addrs
	t.Cleanup(func() { ready = nil })
	if env == nil {
		env = map[string]string{}
	}
	if env["ENGRAM_DATA_DIR"] == "" {
		env["ENGRAM_DATA_DIR"] = t.TempDir()
	}
	if env["ENGRAM_ADDR"] == "" {
		env["ENGRAM_ADDR"] = "127.0.0.1:0"
	}
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return env[k] }, stdout, stderr) }()
	select {
	case addr := <-addrs:
		base = "http://" + addr
	case err := <-done:
		cancel()
		t.Fatalf("engramd exited before listening: %v\n%s", err, stderr.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("engramd did not start")
	}
	var once sync.Once
	var stopErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(30 * time.Second):
				stopErr = fmt.Errorf("engramd did not stop")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { _ = stop() })
	return base, stop, stdout
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func do(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// The zero-config start prints a token that works against the API, and the
// second start reuses the saved token.
func TestZeroConfigStartPrintsAWorkingToken(t *testing.T) {
	dir := t.TempDir()
	base, stop, out := startEngramd(t, map[string]string{"ENGRAM_DATA_DIR": dir})
	tokenFile := filepath.Join(dir, "local-token")
	require.Contains(t, out.String(), tokenFile)
	raw, err := os.ReadFile(tokenFile)
	require.NoError(t, err)
	token := strings.TrimSpace(string(raw))
	require.Contains(t, out.String(), token)

	code, body := do(t, http.MethodPost, base+"/api/v1/memories", token, `{"text":"prefers tea over coffee"}`)
	require.Equal(t, http.StatusCreated, code, body)
	code, body = do(t, http.MethodGet, base+"/api/v1/memories", token, "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "prefers tea over coffee")
	code, _ = do(t, http.MethodGet, base+"/api/v1/memories", "", "")
	require.Equal(t, http.StatusUnauthorized, code)
	code, _ = do(t, http.MethodGet, base+"/healthz", "", "")
	require.Equal(t, http.StatusOK, code)
	// Readiness lists the store and the search index with its lag.
	code, body = do(t, http.MethodGet, base+"/readyz", "", "")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"sqlite":{"status":"ok"`)
	require.Contains(t, body, `"search_index":{"status":"ok","required":false`)
	require.Contains(t, body, `"pending":0`)
	// The memory just added is found by search.
	code, body = do(t, http.MethodPost, base+"/api/v1/search", token, `{"query":"tea or coffee"}`)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, "prefers tea over coffee")
	require.NoError(t, stop())

	// A restart on the same data dir keeps the key, the token and the data.
	base, _, out = startEngramd(t, map[string]string{"ENGRAM_DATA_DIR": dir})
	require.NotContains(t, out.String(), token, "a saved token is not printed again")
	code, body = do(t, http.MethodGet, base+"/api/v1/memories", token, "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "prefers tea over coffee")
}

// SIGTERM (context cancellation) lets an in-flight request finish, refuses
// new connections, and returns nil (exit 0).
func TestDrainCompletesInFlightRequests(t *testing.T) {
	dir := t.TempDir()
	base, stop, _ := startEngramd(t, map[string]string{"ENGRAM_DATA_DIR": dir})
	raw, err := os.ReadFile(filepath.Join(dir, "local-token"))
	require.NoError(t, err)
	token := strings.TrimSpace(string(raw))

	// A slow upload keeps a request in flight while the drain starts.
	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/memories", pr)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	type result struct {
		code int
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			res <- result{err: err}
			return
		}
		resp.Body.Close()
		res <- result{code: resp.StatusCode}
	}()
	_, err = pw.Write([]byte(`{"text":"written during `))
	require.NoError(t, err)
	time.Sleep(200 * time.Millisecond)
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	time.Sleep(200 * time.Millisecond)
	_, err = http.Get(base + "/healthz")
	require.Error(t, err, "new connections are refused while draining")
	_, err = pw.Write([]byte(`the drain"}`))
	require.NoError(t, err)
	require.NoError(t, pw.Close())
	r := <-res
	require.NoError(t, r.err)
	require.Equal(t, http.StatusCreated, r.code)
	require.NoError(t, <-stopped)
}

func TestBadConfigFailsFastNamingTheKey(t *testing.T) {
	err := run(context.Background(), nil, func(k string) string {
		return map[string]string{"ENGRAM_ADDR": "0.0.0.0:8765"}[k]
	}, io.Discard, io.Discard)
	require.ErrorContains(t, err, "ENGRAM_ADDR")
}
