package valkeystore_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/valkeystore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// serverBinary finds valkey-server or redis-server. Without one the test
// skips, unless Valkey is required (ENGRAM_TEST_REQUIRE), then it fails.
func serverBinary(t *testing.T) string {
	for _, name := range []string{"valkey-server", "redis-server"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if contracttest.Required(contracttest.Valkey) {
		t.Fatal("valkey is required but neither valkey-server nor redis-server is on PATH (apt-get install redis-server)")
	}
	t.Skip("SKIP outage test: install redis-server or valkey-server to run it")
	return ""
}

// startServer runs a throwaway server without persistence on port and waits
// until it answers. The returned func kills it (SIGKILL: an outage, not a
// shutdown) and waits for the process to be gone.
func startServer(t *testing.T, bin string, port int) (kill func()) {
	kill, _ = startServerProc(t, bin, port)
	return kill
}

func startServerProc(t *testing.T, bin string, port int) (kill func(), proc *os.Process) {
	t.Helper()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction")
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	kill = func() {
		_ = cmd.Process.Kill()
		<-done
	}
	t.Cleanup(kill)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			return false
		}
		defer c.Close()
		_, _ = c.Write([]byte("PING\r\n"))
		buf := make([]byte, 7)
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, _ := c.Read(buf)
		return string(buf[:n]) == "+PONG\r\n"
	}, 10*time.Second, 50*time.Millisecond, "server on %s did not come up", addr)
	return kill, cmd.Process
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestOutageFailsPromptlyAndRecovers kills the server under a live Store,
// checks every operation fails fast with domain.ErrUnavailable (the replay
// check thus fails closed), restarts the server on the same port and checks
// the same Store serves again without being re-created.
func TestOutageFailsPromptlyAndRecovers(t *testing.T) {
	bin := serverBinary(t)
	port := freePort(t)
	kill := startServer(t, bin, port)
	s, err := valkeystore.Open(context.Background(), valkeystore.Config{
		URL:         fmt.Sprintf("redis://127.0.0.1:%d", port),
		DialTimeout: 500 * time.Millisecond,
		Options:     valkeystore.Options{Prefix: "outage", OpTimeout: time.Second},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })

	tn := domain.Tenant{OrgID: "o", UserID: "u"}
	lim := ports.RateLimit{Burst: 100, Period: time.Minute}
	ops := map[string]func(ctx context.Context) error{
		"ping": s.Ping,
		"remember": func(ctx context.Context) error {
			_, err := s.Remember(ctx, domain.NewID(time.Now()), time.Now().Add(time.Minute))
			return err
		},
		"allow": func(ctx context.Context) error { _, err := s.Allow(ctx, "k", lim, 1); return err },
		"append": func(ctx context.Context) error {
			e, err := domain.NewSessionEvent(domain.RoleUser, "hello", nil, time.Now())
			require.NoError(t, err)
			_, err = s.Append(ctx, tn, "chat", e)
			return err
		},
		"recent": func(ctx context.Context) error { _, err := s.Recent(ctx, tn, "chat", 10); return err },
	}
	for name, op := range ops {
		require.NoError(t, op(context.Background()), "%s before the outage", name)
	}
	// The rate-limit use case over this store: it must fail open, loudly.
	var logs bytes.Buffer
	var failOpenMetric atomic.Int32
	gate, err := app.NewRateLimitService(app.RateLimitDeps{
		Limiter:    s,
		Logger:     slog.New(slog.NewTextHandler(&logs, nil)),
		OnFailOpen: func(app.RouteClass) { failOpenMetric.Add(1) },
	})
	require.NoError(t, err)
	p := domain.Principal{OrgID: "o", UserID: "u"}
	res, err := gate.Check(context.Background(), p, app.ClassReads)
	require.NoError(t, err)
	require.False(t, res.FailedOpen)

	kill()
	for name, op := range ops {
		start := time.Now()
		err := op(context.Background())
		took := time.Since(start)
		require.ErrorIs(t, err, domain.ErrUnavailable, "%s during the outage", name)
		var ue *domain.UnavailableError
		require.ErrorAs(t, err, &ue, name)
		require.Positive(t, ue.RetryAfter, "%s: the edge needs a Retry-After", name)
		require.Less(t, took, 2*time.Second, "%s must fail within its deadline, took %s", name, took)
	}

	for range 3 {
		res, err := gate.Check(context.Background(), p, app.ClassWrites)
		require.NoError(t, err, "the rate limiter fails open")
		require.True(t, res.FailedOpen)
		require.True(t, res.Decision.Allowed)
	}
	require.EqualValues(t, 3, failOpenMetric.Load(), "every unchecked admission is counted")
	require.Equal(t, 1, strings.Count(logs.String(), "fail open"), "one warning, not one per request: %s", logs.String())

	startServer(t, bin, port)
	require.Eventually(t, func() bool { return s.Ping(context.Background()) == nil }, 10*time.Second, 50*time.Millisecond,
		"the same client reconnects once the server is back")
	for name, op := range ops {
		require.NoError(t, op(context.Background()), "%s after recovery", name)
	}
	res, err = gate.Check(context.Background(), p, app.ClassWrites)
	require.NoError(t, err)
	require.False(t, res.FailedOpen, "limiting resumes with the server")
	// The restarted server has no persistence: scripts were reloaded (EVALSHA
	// fell back to EVAL) and a replay key written now works as before.
	key := domain.NewID(time.Now())
	fresh, err := s.Remember(context.Background(), key, time.Now().Add(time.Minute))
	require.NoError(t, err)
	require.True(t, fresh)
	fresh, err = s.Remember(context.Background(), key, time.Now().Add(time.Minute))
	require.NoError(t, err)
	require.False(t, fresh)
}

// TestFrozenServerTimesOut stops (SIGSTOP) the server so that it accepts
// nothing and answers nothing: calls must end at their deadline with
// domain.ErrUnavailable instead of hanging, and work again after SIGCONT.
func TestFrozenServerTimesOut(t *testing.T) {
	bin := serverBinary(t)
	port := freePort(t)
	_, proc := startServerProc(t, bin, port)
	s, err := valkeystore.Open(context.Background(), valkeystore.Config{
		URL:     fmt.Sprintf("redis://127.0.0.1:%d", port),
		Options: valkeystore.Options{Prefix: "frozen", OpTimeout: 300 * time.Millisecond},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	_, err = s.Remember(ctx, "before", time.Now().Add(time.Minute))
	require.NoError(t, err)

	require.NoError(t, proc.Signal(syscall.SIGSTOP))
	t.Cleanup(func() { _ = proc.Signal(syscall.SIGCONT) })
	start := time.Now()
	_, err = s.Remember(ctx, "during", time.Now().Add(time.Minute))
	require.ErrorIs(t, err, domain.ErrUnavailable)
	require.Less(t, time.Since(start), 1500*time.Millisecond, "bounded by OpTimeout, not hung")
	start = time.Now()
	_, err = s.Allow(ctx, "k", ports.RateLimit{Burst: 1, Period: time.Second}, 1)
	require.ErrorIs(t, err, domain.ErrUnavailable)
	require.Less(t, time.Since(start), 1500*time.Millisecond)

	require.NoError(t, proc.Signal(syscall.SIGCONT))
	require.Eventually(t, func() bool { return s.Ping(ctx) == nil }, 10*time.Second, 50*time.Millisecond)
	fresh, err := s.Remember(ctx, "before", time.Now().Add(time.Minute))
	require.NoError(t, err)
	require.False(t, fresh, "the server kept its keys while frozen")
}
