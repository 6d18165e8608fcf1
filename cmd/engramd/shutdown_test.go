package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// SIGTERM under load: the request in flight completes (201), new
// connections are refused, run returns nil, and every acknowledged write
// is there when engramd starts again on the same data.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	addr := freeAddr(t)
	dir := t.TempDir()
	env := func() map[string]string {
		return map[string]string{"ENGRAM_DATA_DIR": dir, "ENGRAM_ADDR": addr, "ENGRAM_PUBLIC_URL": "http://" + addr,
			"ENGRAM_RATE_WRITES": "1000000", "ENGRAM_RATE_READS": "1000000", "ENGRAM_RATE_SEARCH": "1000000"}
	}
	e := startLogged(t, env())
	load := newLoadGen(e.base, e.base, e.token, "", nil)
	load.run(3, 10*time.Millisecond)
	time.Sleep(time.Second)

	// A request whose body is still arriving when SIGTERM comes.
	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, e.base+"/api/v1/memories", pr)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/json")
	type answer struct {
		code int
		body string
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		res, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		answered <- answer{code: res.StatusCode, body: string(b)}
	}()
	_, err = pw.Write([]byte(`{"text":"in flight during the drain`))
	require.NoError(t, err)
	time.Sleep(300 * time.Millisecond) // the server has the headers: the request is active

	load.draining.Store(true)
	stopped := make(chan error, 1)
	go func() { stopped <- e.stop() }()

	// New connections are refused once the drain starts.
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err != nil
	}, 5*time.Second, 20*time.Millisecond, "the listener closes at SIGTERM")
	select {
	case err := <-stopped:
		t.Fatalf("run returned with a request in flight: %v", err)
	default:
	}

	// The in-flight request finishes and is answered.
	_, err = pw.Write([]byte(`"}`))
	require.NoError(t, err)
	require.NoError(t, pw.Close())
	a := <-answered
	require.NoError(t, a.err)
	require.Equal(t, http.StatusCreated, a.code, a.body)
	select {
	case err := <-stopped:
		require.NoError(t, err, "run returns nil after a clean drain (exit 0)")
	case <-time.After(30 * time.Second):
		t.Fatal("engramd did not finish draining")
	}
	load.halt()

	load.mu.Lock()
	problems, acked := load.problems, load.acked
	load.mu.Unlock()
	require.Empty(t, problems, "no 5xx or error answers while draining")
	t.Logf("acknowledged writes: %d, refused after SIGTERM: %d", len(acked), load.refused.Load())

	// Start again on the same data: everything acknowledged is there.
	e2 := startLogged(t, env())
	for id, text := range acked {
		code, body := do(t, http.MethodGet, fmt.Sprintf("%s/api/v1/memories/%s", e2.base, id), e2.token, "")
		require.Equal(t, http.StatusOK, code, "acknowledged write %s lost", id)
		require.Contains(t, body, text)
	}
	code, body := do(t, http.MethodGet, e2.base+"/api/v1/memories?limit=200", e2.token, "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "in flight during the drain")
}
