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
