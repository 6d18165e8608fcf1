package app

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// gatedLog holds each tenant's RecordAccess until its gate opens: a slow
// write (another tenant's, or a database under load) made visible.
type gatedLog struct {
	ports.AccessLog
	mu      sync.Mutex
	gates   map[domain.Tenant]chan struct{}
	written map[domain.Tenant]int
}

func (g *gatedLog) RecordAccess(_ context.Context, t domain.Tenant, entries []domain.Access) error {
	g.mu.Lock()
	gate := g.gates[t]
	g.mu.Unlock()
	if gate != nil {
		<-gate
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.written[t] += len(entries)
	return nil
}

type knownApps struct{ ports.AppStore }

func (knownApps) EnsureApp(_ context.Context, t domain.Tenant, id domain.AppID) (domain.App, error) {
	return domain.App{ID: id}, nil
}

// TestFlushWaitsOnlyForTheCallersOwnReads: Stats and the access views flush
// the queue for read-your-own-access; a flush that wrote every tenant's
// pending entries made one tenant's stats page wait for (and pay for)
// another's access-log writes.
func TestFlushWaitsOnlyForTheCallersOwnReads(t *testing.T) {
	alice := domain.Tenant{OrgID: "acme", UserID: "alice"}
	bob := domain.Tenant{OrgID: "acme", UserID: "bob"}
	gate := make(chan struct{})
	log := &gatedLog{gates: map[domain.Tenant]chan struct{}{bob: gate}, written: map[domain.Tenant]int{}}
	q := newAccessQueueEvery(log, knownApps{}, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Hour)
	defer q.close()
	defer close(gate)

	ctx := context.Background()
	entry := []domain.Access{{MemoryID: "m", AppID: "app", Kind: domain.AccessGet, AccessedAt: time.Now()}}
	q.enqueue(ctx, bob, entry)
	q.enqueue(ctx, alice, entry)

	done := make(chan struct{})
	go func() { q.flush(ctx, alice); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("alice's flush waited for bob's access-log write")
	}
	log.mu.Lock()
	require.Equal(t, 1, log.written[alice], "alice's own read is written before her flush returns")
	require.Zero(t, log.written[bob], "bob's write is still held")
	log.mu.Unlock()
}
