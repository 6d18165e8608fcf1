package pgstore_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/domain"
)

// freezer is a loopback TCP relay in front of the real PostgreSQL that can
// stop passing bytes while keeping every connection open: what a server
// stopped with SIGSTOP looks like from the client (the kernel still
// accepts and acknowledges, nothing answers).
type freezer struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	frozen bool
	thaw   chan struct{}
}

func startFreezer(t *testing.T, target string) *freezer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f := &freezer{ln: ln, target: target, thaw: make(chan struct{})}
	t.Cleanup(func() { f.unfreeze(); _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	return f
}

func (f *freezer) serve(c net.Conn) {
	defer c.Close()
	up, err := net.Dial("tcp", f.target)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(f.gate(up), c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(f.gate(c), up); done <- struct{}{} }()
	<-done
}

// gate blocks writes while frozen.
func (f *freezer) gate(w io.Writer) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		f.mu.Lock()
		frozen, thaw := f.frozen, f.thaw
		f.mu.Unlock()
		if frozen {
			<-thaw
		}
		return w.Write(p)
	})
}

type writerFunc func([]byte) (int, error)

func (w writerFunc) Write(p []byte) (int, error) { return w(p) }

func (f *freezer) freeze() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.frozen, f.thaw = true, make(chan struct{})
}

func (f *freezer) unfreeze() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.frozen {
		f.frozen = false
		close(f.thaw)
	}
}

// A frozen server fails calls within the client-side bound: lib/pq's own
// cancellation needs the server to answer, and would block until it thaws.
func TestFrozenServerFailsCallsWithinTheIOTimeout(t *testing.T) {
	t.Parallel()
	_, appURL := testSchema(t)
	u, err := url.Parse(appURL)
	require.NoError(t, err)
	f := startFreezer(t, u.Host)
	u.Host = f.ln.Addr().String()
	ctx := context.Background()
	s, err := pgstore.Open(ctx, pgstore.Config{URL: u.String(), MaxOpenConns: 4, IOTimeout: time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	tn := domain.Tenant{OrgID: "frozen-org", UserID: "u"}
	m, err := domain.NewMemory(tn, "app", "written before the freeze", nil, nil, time.Now())
	require.NoError(t, err)
	_, _, err = s.Create(ctx, tn, m)
	require.NoError(t, err)

	f.freeze()
	for name, call := range map[string]func(context.Context) error{
		"get":  func(ctx context.Context) error { _, err := s.Get(ctx, tn, m.ID); return err },
		"ping": s.Ping,
	} {
		ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		start := time.Now()
		err := call(ctx)
		cancel()
		require.ErrorIs(t, err, domain.ErrUnavailable, name)
		// 1 s bound plus a loaded machine's slack; unbounded without it.
		require.Less(t, time.Since(start), 8*time.Second, name)
	}
	f.unfreeze()
	require.Eventually(t, func() bool {
		_, err := s.Get(ctx, tn, m.ID)
		return err == nil
	}, 15*time.Second, 50*time.Millisecond, "the pool recovers after the thaw")
}

// A call ends by its own deadline, not by the connection-wide IOTimeout: a
// request with 300 ms left fails after about 300 ms while the server is
// frozen, for a read, a write transaction and a ping.
func TestFrozenServerFailsACallByItsOwnDeadline(t *testing.T) {
	t.Parallel()
	_, appURL := testSchema(t)
	u, err := url.Parse(appURL)
	require.NoError(t, err)
	f := startFreezer(t, u.Host)
	u.Host = f.ln.Addr().String()
	ctx := context.Background()
	// An IOTimeout far above the bound asserted: only the call's deadline
	// can end these calls in time.
	s, err := pgstore.Open(ctx, pgstore.Config{URL: u.String(), MaxOpenConns: 4, IOTimeout: time.Minute})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	tn := domain.Tenant{OrgID: "frozen-deadline-org", UserID: "u"}
	m, err := domain.NewMemory(tn, "app", "written before the freeze", nil, nil, time.Now())
	require.NoError(t, err)
	_, _, err = s.Create(ctx, tn, m)
	require.NoError(t, err)

	f.freeze()
	for _, name := range []string{"get", "create", "ping"} {
		call := map[string]func(context.Context) error{
			"get": func(ctx context.Context) error { _, err := s.Get(ctx, tn, m.ID); return err },
			"create": func(ctx context.Context) error {
				m2, err := domain.NewMemory(tn, "app", "written during the freeze", nil, nil, time.Now())
				require.NoError(t, err)
				_, _, err = s.Create(ctx, tn, m2)
				return err
			},
			"ping": s.Ping,
		}[name]
		ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		start := time.Now()
		err := call(ctx)
		cancel()
		require.ErrorIs(t, err, domain.ErrUnavailable, name)
		// 300 ms plus a loaded machine's slack; a minute without the
		// call deadline on the socket.
		require.Less(t, time.Since(start), 10*time.Second, name)
	}
	f.unfreeze()
	require.Eventually(t, func() bool {
		_, err := s.Get(ctx, tn, m.ID)
		return err == nil
	}, 15*time.Second, 50*time.Millisecond, "the pool recovers after the thaw")
}

// golang-migrate's connections are bounded too: against a frozen server,
// Migrate, Force and Version return by their context's deadline (plus a
// 2 s grace) instead of hanging until the server thaws.
func TestFrozenServerFailsMigrationsByTheirDeadline(t *testing.T) {
	t.Parallel()
	ownerURL, _ := testSchema(t)
	u, err := url.Parse(ownerURL)
	require.NoError(t, err)
	f := startFreezer(t, u.Host)
	u.Host = f.ln.Addr().String()
	frozenURL := u.String()
	_, err = pgstore.Migrate(context.Background(), frozenURL, pgstore.Up)
	require.NoError(t, err, "through the thawed relay, a current schema needs nothing")

	f.freeze()
	for name, call := range map[string]func(context.Context) error{
		"migrate up": func(ctx context.Context) error { _, err := pgstore.Migrate(ctx, frozenURL, pgstore.Up); return err },
		"force":      func(ctx context.Context) error { return pgstore.Force(ctx, frozenURL, 1) },
		"version":    func(ctx context.Context) error { _, _, err := pgstore.Version(ctx, frozenURL); return err },
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		done := make(chan error, 1)
		start := time.Now()
		go func() { done <- call(ctx) }()
		select {
		case err := <-done:
			require.ErrorIs(t, err, domain.ErrUnavailable, name)
			t.Logf("%s: failed after %s", name, time.Since(start).Round(time.Millisecond))
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: still waiting on the frozen server after 30 s", name)
		}
		cancel()
	}
}

// The change feed's listener connection is bounded like the pool's: on a
// server that accepts the connection and then answers nothing, Feed gives
// up by its context, and closing the listener does not hang on its dial
// (lib/pq's default dialer has no timeout and no read deadline, and the
// listener holds its lock while it dials).
func TestFeedOnAFrozenServerGivesUp(t *testing.T) {
	t.Parallel()
	_, appURL := testSchema(t)
	u, err := url.Parse(appURL)
	require.NoError(t, err)
	s, err := pgstore.Open(context.Background(), pgstore.Config{URL: appURL, IOTimeout: time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	f := startFreezer(t, u.Host)
	f.freeze()
	u.Host = f.ln.Addr().String()

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		feed, err := s.Feed(ctx, u.String())
		if err == nil {
			_ = feed.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		require.ErrorIs(t, err, domain.ErrUnavailable)
		// 1 s context, 3 s read bound of the stuck handshake, slack for a
		// loaded machine.
		require.Less(t, time.Since(start), 10*time.Second)
	case <-time.After(30 * time.Second):
		t.Fatal("Feed on a frozen server did not return in 30 s")
	}
}
