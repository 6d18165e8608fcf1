package app_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// scriptedDrift is an IndexDrift that walks a fixed number of steps per
// org and fails as told, recording every call's cursor.
type scriptedDrift struct {
	mu    sync.Mutex
	steps int // steps in a pass over the org
	// fail decides whether the call with cursor after fails.
	fail  func(call int, after ports.MemoryRef) bool
	calls []ports.MemoryRef
}

func (d *scriptedDrift) Drift(_ context.Context, org domain.OrgID, after ports.MemoryRef, _ int) (ports.DriftStep, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, after)
	if d.fail != nil && d.fail(len(d.calls), after) {
		// As PostgreSQL answers a statement that ran past its timeout.
		return ports.DriftStep{}, &domain.UnavailableError{Dependency: "postgres", Err: errors.New("canceling statement due to statement timeout")}
	}
	n := 0 // the steps done: the cursor after step k is "step-k"
	if after.ID != "" {
		k, err := strconv.Atoi(strings.TrimPrefix(string(after.ID), "step-"))
		if err != nil {
			return ports.DriftStep{}, err
		}
		n = k + 1
	}
	if n+1 >= d.steps {
		return ports.DriftStep{Done: true}, nil
	}
	return ports.DriftStep{Next: ports.MemoryRef{Tenant: domain.Tenant{OrgID: org, UserID: "u"}, ID: domain.MemoryID(fmt.Sprintf("step-%d", n))}}, nil
}

func (d *scriptedDrift) callCursors() []ports.MemoryRef {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]ports.MemoryRef(nil), d.calls...)
}

// tickLoop runs ix's repair loop on a manual clock; tick(n) delivers n
// ticks and returns once the passes of all but the last are over, and the
// cleanup waits for the last.
func tickLoop(t *testing.T, ix *app.Indexer) (tick func(n int)) {
	ctx, cancel := context.WithCancel(context.Background())
	ticks := make(chan time.Time)
	done := make(chan struct{})
	go func() { defer close(done); ix.KeepRepairedOn(ctx, ticks, time.Minute) }()
	t.Cleanup(func() { cancel(); <-done })
	return func(n int) {
		for range n {
			ticks <- time.Now()
		}
	}
}

// A full pass that fails every time without getting anywhere (on
// PostgreSQL at 100,000 memories the org-wide anti-join ran into the 5 s
// statement timeout) was retried from the start at every tick, so it ran
// back to back instead of once every FullRepairEvery ticks
// (docs/benchmarks.md, "Dashboard pages' server time"). Now its retries
// back off: 1, 2, 4, ... ticks, up to FullRepairEvery.
func TestKeepRepairedBacksOffAFullPassThatKeepsFailing(t *testing.T) {
	e := newSearchEnv(t)
	d := &scriptedDrift{steps: 3, fail: func(int, ports.MemoryRef) bool { return true }}
	ix := app.NewIndexer(app.IndexerDeps{Memories: e.store, Scanner: e.store, Text: e.store.TextIndex(), Drift: d, FullRepairEvery: 12})
	_, _, err := e.store.Create(context.Background(), sAlice.Tenant(), mustMemory(t, sAlice.Tenant(), "so that the store has an org"))
	require.NoError(t, err)
	tick := tickLoop(t, ix)
	tick(12*5 + 1) // 60 passes over
	// Full passes at ticks 12, 13, 15, 19, 27, 39 and 51; before, at every
	// tick from 12 to 60.
	require.Len(t, d.callCursors(), 7, "a failing full pass is retried with back-off, not at every tick")
}

// A full pass that runs out of time during a long catch-up keeps its
// place: the next tick resumes it where it stopped instead of starting
// the org over.
func TestKeepRepairedResumesAFullPassThatMadeProgress(t *testing.T) {
	e := newSearchEnv(t)
	d := &scriptedDrift{steps: 5, fail: func(call int, _ ports.MemoryRef) bool { return call == 3 }}
	ix := app.NewIndexer(app.IndexerDeps{Memories: e.store, Scanner: e.store, Text: e.store.TextIndex(), Drift: d, FullRepairEvery: 2})
	_, _, err := e.store.Create(context.Background(), sAlice.Tenant(), mustMemory(t, sAlice.Tenant(), "so that the store has an org"))
	require.NoError(t, err)
	tick := tickLoop(t, ix)
	tick(4) // passes at ticks 2 (fails at its third step) and 3 (resumes)
	calls := d.callCursors()
	require.Len(t, calls, 6, "two steps, the failed third, then the third again and the rest")
	require.Equal(t, ports.MemoryRef{}, calls[0])
	require.Equal(t, calls[2], calls[3], "the retry resumed at the failed step's cursor")
	require.NotEqual(t, ports.MemoryRef{}, calls[3])
}

func mustMemory(t *testing.T, tn domain.Tenant, text string) domain.Memory {
	t.Helper()
	m, err := domain.NewMemory(tn, "app", text, nil, nil, time.Now())
	require.NoError(t, err)
	return m
}
