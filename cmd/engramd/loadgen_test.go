package main

// The load generator and readiness watcher the fault and shutdown tests
// drive engramd with.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/engram-memory/engram/adapters/jwtauth"
)

// loadGen is a steady mixed load of adds and reads, Bearer and DPoP, that
// remembers every acknowledged write and every failure.
type loadGen struct {
	base, public string
	bearer       string
	dpop         string
	prover       *jwtauth.DPoPProver
	client       *http.Client

	mu        sync.Mutex
	acked     map[string]string // id -> text, for writes answered 2xx
	statuses  map[int]int
	problems  []string // 5xx other than 503 with Retry-After, transport errors
	seq       atomic.Int64
	stop      chan struct{}
	wg        sync.WaitGroup
	unavail   atomic.Int64 // 503s seen
	succeeded atomic.Int64
	// draining: engramd is shutting down, so a refused connection is the
	// expected answer, counted in refused rather than as a problem.
	draining atomic.Bool
	refused  atomic.Int64
}

func newLoadGen(base, public, bearer, dpop string, prover *jwtauth.DPoPProver) *loadGen {
	return &loadGen{
		base: base, public: public, bearer: bearer, dpop: dpop, prover: prover,
		client: &http.Client{Timeout: 45 * time.Second},
		acked:  map[string]string{}, statuses: map[int]int{}, stop: make(chan struct{}),
	}
}

// run starts workers, each pacing itself so the total stays at a few
// hundred requests per second at most.
func (g *loadGen) run(workers int, pace time.Duration) {
	for w := range workers {
		g.wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-g.stop:
					return
				case <-time.After(pace):
				}
				useDPoP := w%2 == 1 && g.prover != nil
				if i%3 == 2 {
					g.read(useDPoP)
				} else {
					g.write(useDPoP)
				}
			}
		})
	}
}

func (g *loadGen) halt() {
	close(g.stop)
	g.wg.Wait()
}

func (g *loadGen) request(method, path, body string, useDPoP bool) (*http.Request, error) {
	req, err := http.NewRequest(method, g.base+path, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if !useDPoP {
		req.Header.Set("Authorization", "Bearer "+g.bearer)
		return req, nil
	}
	proof, err := g.prover.Proof(method, g.public+path, g.dpop)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "DPoP "+g.dpop)
	req.Header.Set("DPoP", proof)
	return req, nil
}

// do sends a request and checks the outage rule: a 5xx is a 503 with
// Retry-After and a problem document, and the server always answers.
func (g *loadGen) do(req *http.Request) (int, []byte) {
	res, err := g.client.Do(req)
	if err != nil {
		if g.draining.Load() {
			g.refused.Add(1)
			return 0, nil
		}
		g.fail("%s %s: transport error (engramd must keep answering): %v", req.Method, req.URL.Path, err)
		return 0, nil
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	g.mu.Lock()
	g.statuses[res.StatusCode]++
	g.mu.Unlock()
	switch {
	case res.StatusCode == http.StatusServiceUnavailable:
		g.unavail.Add(1)
		if res.Header.Get("Retry-After") == "" || res.Header.Get("Content-Type") != "application/problem+json" {
			g.fail("%s %s: 503 without Retry-After or problem document: %v %s", req.Method, req.URL.Path, res.Header, body)
		}
	case res.StatusCode >= 500:
		g.fail("%s %s: %d (only 503 is allowed during an outage): %s", req.Method, req.URL.Path, res.StatusCode, body)
	case res.StatusCode >= 400:
		g.fail("%s %s: %d: %s", req.Method, req.URL.Path, res.StatusCode, body)
	default:
		g.succeeded.Add(1)
	}
	return res.StatusCode, body
}

func (g *loadGen) fail(format string, args ...any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.problems) < 50 {
		g.problems = append(g.problems, fmt.Sprintf(format, args...))
	}
}

func (g *loadGen) write(useDPoP bool) {
	text := fmt.Sprintf("fault-test memory %d written with dpop=%v", g.seq.Add(1), useDPoP)
	req, err := g.request(http.MethodPost, "/api/v1/memories", `{"text":"`+text+`"}`, useDPoP)
	if err != nil {
		g.fail("build request: %v", err)
		return
	}
	code, body := g.do(req)
	if code != http.StatusCreated && code != http.StatusOK {
		return
	}
	var m struct {
		ID   string `json:"id"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(body, &m); err != nil || m.ID == "" || m.Text != text {
		g.fail("acknowledged write with a bad body: %s", body)
		return
	}
	g.mu.Lock()
	g.acked[m.ID] = text
	g.mu.Unlock()
}

func (g *loadGen) read(useDPoP bool) {
	req, err := g.request(http.MethodGet, "/api/v1/memories?limit=5", "", useDPoP)
	if err != nil {
		g.fail("build request: %v", err)
		return
	}
	g.do(req)
}

// readyWatch polls /readyz and records every status it sees.
type readyWatch struct {
	mu   sync.Mutex
	seen []int
	stop chan struct{}
	done chan struct{}
}

func watchReady(base string) *readyWatch {
	w := &readyWatch{stop: make(chan struct{}), done: make(chan struct{})}
	client := &http.Client{Timeout: 5 * time.Second}
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			code := 0
			if res, err := client.Get(base + "/readyz"); err == nil {
				code = res.StatusCode
				res.Body.Close()
			}
			w.mu.Lock()
			w.seen = append(w.seen, code)
			w.mu.Unlock()
		}
	}()
	return w
}

// mark returns the index of the next status, so a phase can look at its own.
func (w *readyWatch) mark() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.seen)
}

func (w *readyWatch) since(i int) []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]int(nil), w.seen[i:]...)
}

// waitReady waits until /readyz answers 200 again.
func waitReady(t *testing.T, base string, within time.Duration) {
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
	t.Fatalf("engramd not ready again within %s", within)
}

// waitWrites waits until a write goes through again (the breaker let a
// trial call through and closed).
func (g *loadGen) waitWrites(t *testing.T, within time.Duration) {
	t.Helper()
	start := g.succeeded.Load()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if g.succeeded.Load() > start+5 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no request succeeded within %s of the backend's return", within)
}

var errStillRunning = errors.New("still running")

func (e *engramd) exited() error {
	select {
	case err := <-e.done:
		return fmt.Errorf("engramd exited: %v", err)
	default:
		return errStillRunning
	}
}
