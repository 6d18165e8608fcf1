package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// freeAddr is a loopback address nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// engramd is one in-process run() with its outputs and a token.
type engramd struct {
	base   string
	admin  string // the admin listener's address
	token  string
	stderr *syncBuffer
	done   chan error
	cancel context.CancelFunc
	once   sync.Once
	err    error
}

// startLogged is startEngramd keeping stderr (the logs) and the exit
// error, and with the admin listener on a free port unless env names one.
func startLogged(t *testing.T, env map[string]string) *engramd {
	t.Helper()
	addrs := make(chan string, 1)
	ready = addrs
	t.Cleanup(func() { ready = nil })
	if env["ENGRAM_DATA_DIR"] == "" {
		env["ENGRAM_DATA_DIR"] = t.TempDir()
	}
	if env["ENGRAM_ADMIN_ADDR"] == "" {
		env["ENGRAM_ADMIN_ADDR"] = freeAddr(t)
	}
	if env["ENGRAM_ADDR"] == "" {
		env["ENGRAM_ADDR"] = "127.0.0.1:0"
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &engramd{stderr: &syncBuffer{}, done: make(chan error, 1), cancel: cancel, admin: env["ENGRAM_ADMIN_ADDR"]}
	go func() { e.done <- run(ctx, nil, func(k string) string { return env[k] }, io.Discard, e.stderr) }()
	select {
	case addr := <-addrs:
		e.base = "http://" + addr
	case err := <-e.done:
		cancel()
		t.Fatalf("engramd exited before listening: %v\n%s", err, e.stderr.String())
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("engramd did not start")
	}
	raw, err := os.ReadFile(filepath.Join(env["ENGRAM_DATA_DIR"], "local-token"))
	require.NoError(t, err)
	e.token = strings.TrimSpace(string(raw))
	t.Cleanup(func() { _ = e.stop() })
	return e
}

// stop cancels run's context (what SIGTERM does) and returns run's error.
func (e *engramd) stop() error {
	e.once.Do(func() {
		e.cancel()
		select {
		case e.err = <-e.done:
		case <-time.After(60 * time.Second):
			e.err = fmt.Errorf("engramd did not stop")
		}
	})
	return e.err
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	return do(t, http.MethodGet, url, "", "")
}

func TestAdminServesMetricsPprofAndLogLevel(t *testing.T) {
	admin := freeAddr(t)
	e := startLogged(t, map[string]string{"ENGRAM_ADMIN_ADDR": admin})
	code, body := do(t, http.MethodPost, e.base+"/api/v1/memories", e.token, `{"text":"counted by the metrics"}`)
	require.Equal(t, http.StatusCreated, code, body)

	code, body = get(t, "http://"+admin+"/metrics")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `engram_dependency_duration_seconds_count{dependency="sqlite",operation="create",outcome="ok"} 1`)
	require.Contains(t, body, `engram_dependency_up{dependency="sqlite"} 1`)
	require.Contains(t, body, `engram_circuit_breaker_state{dependency="sqlite"} 0`)
	require.Contains(t, body, "go_goroutines")
	require.Contains(t, body, "process_resident_memory_bytes")

	code, body = get(t, "http://"+admin+"/debug/pprof/")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "goroutine")

	code, body = get(t, "http://"+admin+"/admin/loglevel")
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `{"level":"info"}`, body)
	code, body = do(t, http.MethodPut, "http://"+admin+"/admin/loglevel", "", `{"level":"debug"}`)
	require.Equal(t, http.StatusOK, code, body)
	require.JSONEq(t, `{"level":"debug"}`, body)
	code, _ = do(t, http.MethodPut, "http://"+admin+"/admin/loglevel", "", `{"level":"loud"}`)
	require.Equal(t, http.StatusBadRequest, code)
	code, body = get(t, "http://"+admin+"/admin/loglevel")
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `{"level":"debug"}`, body, "a refused level changes nothing")

	// The admin routes are not on the API listener.
	code, _ = get(t, e.base+"/metrics")
	require.Equal(t, http.StatusNotFound, code)
	require.NoError(t, e.stop())
	_, err := net.DialTimeout("tcp", admin, time.Second)
	require.Error(t, err, "the admin listener closes with the server")
}

func TestAdminLevelGatesLogging(t *testing.T) {
	var lv slog.LevelVar
	var out syncBuffer
	log := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: &lv}))
	h := adminHandler(prometheus.NewRegistry(), &lv, log)
	srv := &http.Server{Handler: h}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	log.Debug("hidden at info")
	code, _ := do(t, http.MethodPost, "http://"+ln.Addr().String()+"/admin/loglevel", "", `{"level":"DEBUG"}`)
	require.Equal(t, http.StatusOK, code)
	log.Debug("shown at debug")
	require.NotContains(t, out.String(), "hidden at info")
	require.Contains(t, out.String(), "shown at debug")
	code, _ = do(t, http.MethodDelete, "http://"+ln.Addr().String()+"/admin/loglevel", "", "")
	require.Equal(t, http.StatusMethodNotAllowed, code)
}

func TestAdminAddressTakenDoesNotStopTheAPI(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	e := startLogged(t, map[string]string{"ENGRAM_ADMIN_ADDR": ln.Addr().String()})
	code, _ := get(t, e.base+"/healthz")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, e.stderr.String(), "admin listener disabled")
}
