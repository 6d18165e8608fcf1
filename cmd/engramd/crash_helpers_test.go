package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// engramdProc is engramd in a child process (this test binary, re-run as
// engramd by TestMain), so that it can be killed with SIGKILL.
type engramdProc struct {
	t    *testing.T
	env  []string
	log  string
	bin  string // the binary to run; this test binary as engramd when empty
	cmd  *exec.Cmd
	done chan struct{}
}

func startEngramdProc(t *testing.T, env map[string]string) *engramdProc {
	t.Helper()
	p := &engramdProc{t: t, log: filepath.Join(env["ENGRAM_DATA_DIR"], "engramd.log")}
	p.env = append(os.Environ(), asEngramd+"=1")
	for k, v := range env {
		p.env = append(p.env, k+"="+v)
	}
	p.start()
	t.Cleanup(func() { p.kill() })
	return p
}

func (p *engramdProc) start() {
	p.t.Helper()
	out, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	require.NoError(p.t, err)
	p.cmd = exec.Command(cmp.Or(p.bin, os.Args[0]))
	p.cmd.Env, p.cmd.Stdout, p.cmd.Stderr = p.env, out, out
	require.NoError(p.t, p.cmd.Start())
	p.done = make(chan struct{})
	go func() { _ = p.cmd.Wait(); out.Close(); close(p.done) }()
}

// kill is SIGKILL: no drain, no cleanup, claims left behind.
func (p *engramdProc) kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p.cmd = nil
}

func (p *engramdProc) logTail() string {
	raw, _ := os.ReadFile(p.log)
	if len(raw) > 4000 {
		raw = raw[len(raw)-4000:]
	}
	return string(raw)
}

// stopImmediate is pg_ctl stop -m immediate: every server process quits
// at once, without a checkpoint (a crash, from the clients' view).
func (p *privatePostgres) stopImmediate() {
	p.pgRun("pg_ctl", "-D", p.data(), "-m", "immediate", "-w", "-t", "30", "stop")
	p.running = false
}

// freeze stops (SIGSTOP) or resumes (SIGCONT) the postmaster and every
// backend: connections stay open and the kernel still accepts new ones,
// but nothing answers.
func (p *privatePostgres) signalAll(sig syscall.Signal) {
	p.t.Helper()
	raw, err := os.ReadFile(filepath.Join(p.data(), "postmaster.pid"))
	require.NoError(p.t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(raw), "\n", 2)[0]))
	require.NoError(p.t, err)
	pids := []int{pid}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at ')'.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			pids = append(pids, n)
		}
	}
	for _, n := range pids {
		_ = syscall.Kill(n, sig)
	}
}

// keyedWriter is a client that writes unique memories with an
// Idempotency-Key each and retries every write with its key until it is
// acknowledged: 409 and 503 and transport errors are retried after 200 ms
// (faster than Retry-After, to measure when writes work again).
type keyedWriter struct {
	base    string
	tokens  []string
	client  *http.Client
	seq     atomic.Int64
	stop    chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	acked   map[string]ackedWrite // text -> answer
	tried   []string              // every text sent at least once
	okTimes []time.Time           // when each 2xx arrived
	probs   []string
	codes   map[int]int
}

type ackedWrite struct {
	id, token string
	started   time.Time // first attempt
	at        time.Time // acknowledged
}

func newKeyedWriter(base string, tokens []string) *keyedWriter {
	return &keyedWriter{base: base, tokens: tokens, client: &http.Client{Timeout: 30 * time.Second},
		stop: make(chan struct{}), acked: map[string]ackedWrite{}, codes: map[int]int{}}
}

func (w *keyedWriter) run(workers int) {
	for i := range workers {
		w.wg.Go(func() {
			for {
				select {
				case <-w.stop:
					return
				case <-time.After(30 * time.Millisecond):
				}
				w.writeOnce(w.tokens[i%len(w.tokens)])
			}
		})
	}
}

// halt stops starting new writes and waits for those in flight to be
// acknowledged.
func (w *keyedWriter) halt() { close(w.stop); w.wg.Wait() }

func (w *keyedWriter) writeOnce(token string) {
	n := w.seq.Add(1)
	text := fmt.Sprintf("crash-test write %d word crashword%dz", n, n)
	key := fmt.Sprintf("crash-key-%d", n)
	w.mu.Lock()
	w.tried = append(w.tried, text)
	w.mu.Unlock()
	started := time.Now()
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			time.Sleep(200 * time.Millisecond)
		}
		if time.Since(started) > 3*time.Minute {
			w.problem("%q never acknowledged", text)
			return
		}
		req, _ := http.NewRequest(http.MethodPost, w.base+"/api/v1/memories", strings.NewReader(`{"text":"`+text+`"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		res, err := w.client.Do(req)
		if err != nil {
			continue // engramd killed or restarting: retry the key
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		w.mu.Lock()
		w.codes[res.StatusCode]++
		w.mu.Unlock()
		switch {
		case res.StatusCode == http.StatusCreated || res.StatusCode == http.StatusOK:
			var m struct{ ID, Text string }
			if err := json.Unmarshal(body, &m); err != nil || m.ID == "" || m.Text != text {
				w.problem("acknowledged %q with a bad body: %s", text, body)
				return
			}
			w.mu.Lock()
			w.acked[text] = ackedWrite{id: m.ID, token: token, started: started, at: time.Now()}
			w.okTimes = append(w.okTimes, time.Now())
			w.mu.Unlock()
			return
		case res.StatusCode == http.StatusConflict, res.StatusCode == http.StatusServiceUnavailable:
			if res.Header.Get("Retry-After") == "" {
				w.problem("%d without Retry-After: %s", res.StatusCode, body)
			}
		default:
			w.problem("%q: unexpected %d: %s", text, res.StatusCode, body)
			return
		}
	}
}

func (w *keyedWriter) problem(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.probs) < 50 {
		w.probs = append(w.probs, fmt.Sprintf(format, args...))
	}
}

// firstOKAfter is how long after t the first write was acknowledged.
func (w *keyedWriter) firstOKAfter(t *testing.T, at time.Time, within time.Duration) time.Duration {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		w.mu.Lock()
		for _, ok := range w.okTimes {
			if ok.After(at) {
				w.mu.Unlock()
				return ok.Sub(at)
			}
		}
		w.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no write acknowledged within %s", within)
	return 0
}

// readyProbe polls /readyz, recording each answer's status and latency.
type readyProbe struct {
	mu   sync.Mutex
	seen []readyAnswer
	stop chan struct{}
	done chan struct{}
}

type readyAnswer struct {
	at      time.Time
	code    int
	latency time.Duration
}

func probeReady(base string) *readyProbe {
	r := &readyProbe{stop: make(chan struct{}), done: make(chan struct{})}
	client := &http.Client{Timeout: 30 * time.Second}
	// A probe starts every 200 ms whether or not the last one has answered:
	// a serial prober stuck 2 s in one slow answer would start no probe in a
	// short window of the outage, and /readyz now shares one probe round
	// among the callers that arrive while it runs.
	go func() {
		var wg sync.WaitGroup
		defer close(r.done)
		defer wg.Wait()
		for {
			select {
			case <-r.stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			wg.Go(func() {
				start := time.Now()
				code := 0
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
				if res, err := client.Do(req); err == nil {
					code = res.StatusCode
					res.Body.Close()
				}
				r.mu.Lock()
				r.seen = append(r.seen, readyAnswer{at: start, code: code, latency: time.Since(start)})
				r.mu.Unlock()
			})
		}
	}()
	return r
}

// between returns the answers to probes started in [from, to).
func (r *readyProbe) between(from, to time.Time) []readyAnswer {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []readyAnswer
	for _, a := range r.seen {
		if !a.at.Before(from) && a.at.Before(to) {
			out = append(out, a)
		}
	}
	return out
}

// kill is SIGKILL: the server dies without saving or closing anything.
func (r *privateRedis) kill() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}
