package app_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// relayEnv is a store with its outbox and, in a separate SQLite file, a
// durable text index the relay feeds: the stand-in for Elasticsearch that
// runs here, written through the same TextIndex port and relay code.
type relayEnv struct {
	store, index *sqlitestore.Store
	storePath    string
	indexPath    string
	mem          *app.MemoryService
	indexClosed  bool
}

const relayIndex = "elasticsearch"

func newRelayEnv(t testing.TB, dir string) *relayEnv {
	t.Helper()
	ctx := context.Background()
	e := &relayEnv{storePath: filepath.Join(dir, "engram.db"), indexPath: filepath.Join(dir, "index.db")}
	var err error
	e.store, err = sqlitestore.Open(ctx, sqlitestore.Config{Path: e.storePath})
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.store.Close() })
	e.index, err = sqlitestore.Open(ctx, sqlitestore.Config{Path: e.indexPath})
	require.NoError(t, err)
	t.Cleanup(func() {
		if !e.indexClosed {
			_ = e.index.Close()
		}
	})
	require.NoError(t, e.store.Outbox().Register(ctx, relayIndex))
	e.mem = app.NewMemoryService(app.MemoryDeps{Memories: e.store, Apps: e.store, Access: e.store})
	return e
}

func (e *relayEnv) relay(target app.RelayTarget, o app.RelayOptions) *app.IndexRelay {
	if target == nil {
		target = app.TextTarget{Index: e.index.TextIndex()}
	}
	return app.NewIndexRelay(relayIndex, e.store.Outbox(), e.store, target, o, nil)
}

// indexed reads the separate index file: memory id → content hash.
func indexed(t testing.TB, path string) map[domain.MemoryID]string {
	t.Helper()
	// A busy timeout: the relay process may hold the write lock (a commit,
	// a checkpoint) at the moment this reads; without one that is
	// SQLITE_BUSY at once, which failed the crash test under load.
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.Query(`SELECT memory_id, content_hash FROM search_docs`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[domain.MemoryID]string{}
	for rows.Next() {
		var id, hash string
		require.NoError(t, rows.Scan(&id, &hash))
		out[domain.MemoryID(id)] = hash
	}
	require.NoError(t, rows.Err())
	return out
}

// active reads the store: every active memory's id → content hash.
func active(t testing.TB, s *sqlitestore.Store) map[domain.MemoryID]string {
	t.Helper()
	ctx := context.Background()
	orgs, err := s.Orgs(ctx)
	require.NoError(t, err)
	out := map[domain.MemoryID]string{}
	for _, org := range orgs {
		var after domain.MemoryID
		for {
			page, err := s.ScanActive(ctx, org, after, 500)
			require.NoError(t, err)
			if len(page) == 0 {
				break
			}
			for _, m := range page {
				out[m.ID] = m.ContentHash
			}
			after = page[len(page)-1].ID
		}
	}
	return out
}

func outboxOf(t testing.TB, s *sqlitestore.Store) ports.OutboxStats {
	t.Helper()
	st, err := s.Outbox().Stats(context.Background(), relayIndex)
	require.NoError(t, err)
	return st
}

var relayUser = domain.Principal{OrgID: "org-relay", UserID: "u1", Scopes: []domain.Scope{domain.ScopeMemoriesRead, domain.ScopeMemoriesWrite}}

// writeMix adds n memories, then updates, pauses and deletes some.
func writeMix(t testing.TB, mem *app.MemoryService, p domain.Principal, n int, tag string) {
	t.Helper()
	ctx := context.Background()
	ids := make([]domain.MemoryID, 0, n)
	for i := range n {
		m, _, err := mem.Add(ctx, p, app.AddInput{Text: fmt.Sprintf("%s memory number %d about kayaks and tea", tag, i)})
		require.NoError(t, err)
		ids = append(ids, m.ID)
	}
	for i, id := range ids {
		switch i % 10 {
		case 1:
			text := fmt.Sprintf("%s memory number %d, changed", tag, i)
			_, err := mem.Update(ctx, p, id, app.UpdateInput{Text: &text}, "")
			require.NoError(t, err)
		case 2:
			_, err := mem.SetState(ctx, p, []domain.MemoryID{id}, domain.StatePaused, "")
			require.NoError(t, err)
		case 3:
			require.NoError(t, mem.Delete(ctx, p, []domain.MemoryID{id}, ""))
		}
	}
}

func TestRelayMakesTheIndexMatchTheStore(t *testing.T) {
	e := newRelayEnv(t, t.TempDir())
	writeMix(t, e.mem, relayUser, 40, "plain")
	require.Equal(t, 40, outboxOf(t, e.store).Backlog, "one row per memory, however many changes")
	r := e.relay(nil, app.RelayOptions{Batch: 7})
	n, err := r.Drain(context.Background())
	require.NoError(t, err)
	require.Equal(t, 40, n)
	require.Equal(t, ports.OutboxStats{}, outboxOf(t, e.store))
	want := active(t, e.store)
	require.Len(t, want, 32, "40 written, 4 paused, 4 deleted (and 4 changed)")
	require.Equal(t, want, indexed(t, e.indexPath))

	// A reactivation and a change later: applied, and applying twice is harmless.
	page, err := e.mem.List(context.Background(), relayUser, domain.ListQuery{States: []domain.State{domain.StatePaused}, Limit: 1}, "")
	require.NoError(t, err)
	_, err = e.mem.SetState(context.Background(), relayUser, []domain.MemoryID{page.Items[0].ID}, domain.StateActive, "")
	require.NoError(t, err)
	_, err = r.Drain(context.Background())
	require.NoError(t, err)
	require.Equal(t, active(t, e.store), indexed(t, e.indexPath))
}

// refusing is the real index with one memory it rejects, as Elasticsearch
// rejects a document its mapping cannot take.
type refusing struct {
	app.RelayTarget
	bad   domain.MemoryID
	down  atomic.Bool
	calls atomic.Int64
}

func (x *refusing) Apply(ctx context.Context, t domain.Tenant, act []domain.Memory, v map[domain.MemoryID]int64, gone []domain.MemoryID) error {
	x.calls.Add(1)
	if x.down.Load() {
		return fmt.Errorf("connection refused: %w", domain.ErrUnavailable)
	}
	for _, m := range act {
		if m.ID == x.bad {
			return errors.New("mapper_parsing_exception: failed to parse field [metadata.x]")
		}
	}
	return x.RelayTarget.Apply(ctx, t, act, v, gone)
}

func TestRelayParksARefusedRowWithoutBlockingTheOthers(t *testing.T) {
	e := newRelayEnv(t, t.TempDir())
	ctx := context.Background()
	writeMix(t, e.mem, relayUser, 20, "first")
	page, err := e.mem.List(ctx, relayUser, domain.ListQuery{Limit: 1}, "")
	require.NoError(t, err)
	target := &refusing{RelayTarget: app.TextTarget{Index: e.index.TextIndex()}, bad: page.Items[0].ID}
	r := e.relay(target, app.RelayOptions{MaxAttempts: 3, MaxBackoff: time.Millisecond})

	for range 3 {
		_, err := r.Drain(ctx)
		require.NoError(t, err)
		time.Sleep(5 * time.Millisecond) // the retry falls due
	}
	st := outboxOf(t, e.store)
	require.Equal(t, 1, st.Parked)
	require.Equal(t, 0, st.Backlog, "every other row was applied")
	parked, err := e.store.Outbox().Parked(ctx, relayIndex, 10)
	require.NoError(t, err)
	require.Len(t, parked, 1)
	require.Equal(t, target.bad, parked[0].ID)
	require.Contains(t, parked[0].Error, "mapper_parsing_exception")
	want := active(t, e.store)
	delete(want, target.bad)
	require.Equal(t, want, indexed(t, e.indexPath))
	_, refused, nParked := r.Counts()
	require.Equal(t, int64(3), refused)
	require.Equal(t, int64(1), nParked)

	// Writes behind the parked row go through.
	writeMix(t, e.mem, relayUser, 5, "second")
	_, err = r.Drain(ctx)
	require.NoError(t, err)
	require.Equal(t, 0, outboxOf(t, e.store).Backlog)

	// The cause fixed, the parked row is requeued and applied.
	target.bad = ""
	n, err := e.store.Outbox().Requeue(ctx, relayIndex)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, err = r.Drain(ctx)
	require.NoError(t, err)
	require.Equal(t, ports.OutboxStats{}, outboxOf(t, e.store))
	require.Equal(t, active(t, e.store), indexed(t, e.indexPath))
}

func TestRelayOutageKeepsRowsUncounted(t *testing.T) {
	e := newRelayEnv(t, t.TempDir())
	ctx := context.Background()
	writeMix(t, e.mem, relayUser, 10, "outage")
	target := &refusing{RelayTarget: app.TextTarget{Index: e.index.TextIndex()}}
	target.down.Store(true)
	r := e.relay(target, app.RelayOptions{MaxAttempts: 1})
	for range 3 {
		_, err := r.Drain(ctx)
		require.ErrorIs(t, err, domain.ErrUnavailable)
	}
	require.Equal(t, ports.OutboxStats{Backlog: 10, Oldest: outboxOf(t, e.store).Oldest}, outboxOf(t, e.store),
		"an outage parks nothing, even with MaxAttempts 1")
	require.Empty(t, indexed(t, e.indexPath))
	target.down.Store(false)
	_, err := r.Drain(ctx)
	require.NoError(t, err)
	require.Equal(t, ports.OutboxStats{}, outboxOf(t, e.store))
	require.Equal(t, active(t, e.store), indexed(t, e.indexPath))
}

// slow is the real index, slowed so a kill lands mid-batch.
type slow struct{ app.RelayTarget }

func (x slow) Apply(ctx context.Context, t domain.Tenant, act []domain.Memory, v map[domain.MemoryID]int64, gone []domain.MemoryID) error {
	time.Sleep(30 * time.Millisecond)
	return x.RelayTarget.Apply(ctx, t, act, v, gone)
}

// relayChildEnv, when set, makes this test binary the relay process of
// TestRelayKilledMidBatchLosesNothing: it drains the outbox of the store
// in that directory into the index file there, then exits 0.
const relayChildEnv = "ENGRAM_TEST_RELAY_CHILD_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(relayChildEnv); dir != "" {
		os.Exit(relayChild(dir))
	}
	os.Exit(m.Run())
}

func relayChild(dir string) int {
	ctx := context.Background()
	store, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: filepath.Join(dir, "engram.db")})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	index, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: filepath.Join(dir, "index.db")})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	lease, _ := strconv.Atoi(os.Getenv("ENGRAM_TEST_RELAY_LEASE_MS"))
	r := app.NewIndexRelay(relayIndex, store.Outbox(), store, slow{app.TextTarget{Index: index.TextIndex()}},
		app.RelayOptions{Batch: 25, Lease: time.Duration(lease) * time.Millisecond}, nil)
	for {
		if _, err := r.Drain(ctx); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		st, err := r.Stats(ctx)
		if err == nil && st.Backlog == 0 {
			return 0
		}
		time.Sleep(50 * time.Millisecond) // a lapsed claim of the killed relay
	}
}

// TestRelayKilledMidBatchLosesNothing runs the relay in its own process
// (this test binary, re-executed), kills it with SIGKILL while it is
// applying a batch, writes more, restarts it, and requires the separate
// index file to match the store exactly: nothing lost, nothing stale.
func TestRelayKilledMidBatchLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the crash test runs a relay process")
	}
	dir := t.TempDir()
	e := newRelayEnv(t, dir)
	writeMix(t, e.mem, relayUser, 400, "before")
	require.NoError(t, e.index.Close()) // the child owns it now
	e.indexClosed = true

	const leaseMS = 1500
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), relayChildEnv+"="+dir, "ENGRAM_TEST_RELAY_LEASE_MS="+strconv.Itoa(leaseMS))
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())
		return cmd
	}
	child := start()
	// Kill once part of the work is applied and a batch is in flight.
	require.Eventually(t, func() bool { return len(indexed(t, e.indexPath)) >= 60 }, 60*time.Second, 5*time.Millisecond)
	require.NoError(t, child.Process.Signal(syscall.SIGKILL))
	_ = child.Wait()
	before := outboxOf(t, e.store)
	got := len(indexed(t, e.indexPath))
	t.Logf("killed with %d memories indexed and %d outbox rows left", got, before.Backlog)
	require.Positive(t, before.Backlog, "killed after the relay finished: the test proves nothing")

	// Writes while the relay is down, some to memories it had applied.
	writeMix(t, e.mem, relayUser, 50, "while down")
	page, err := e.mem.List(context.Background(), relayUser, domain.ListQuery{Limit: 20}, "")
	require.NoError(t, err)
	for _, m := range page.Items {
		require.NoError(t, e.mem.Delete(context.Background(), relayUser, []domain.MemoryID{m.ID}, ""))
	}

	child = start()
	done := make(chan error, 1)
	go func() { done <- child.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "the restarted relay failed")
	case <-time.After(2 * time.Minute):
		_ = child.Process.Kill()
		t.Fatal("the restarted relay did not drain the outbox")
	}
	require.Equal(t, ports.OutboxStats{}, outboxOf(t, e.store))
	require.Equal(t, active(t, e.store), indexed(t, e.indexPath), "the index matches the store")
}
