package pgstore_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// The replica tests share one streaming replica (scripts/test-services.sh,
// ENGRAM_TEST_POSTGRES_REPLICA_URL) and pause its replay to tell which
// server answered: they do not run in parallel. A paused replica only ever
// slows other users down (their reads fall back to the primary).

// onReplica returns appURL (user, schema) pointed at the replica.
func onReplica(t *testing.T, appURL string) string {
	t.Helper()
	return replicaURLFor(t, appURL, contracttest.BackendAddr(t, contracttest.Replica))
}

func replicaURLFor(t testing.TB, appURL, replica string) string {
	t.Helper()
	base, err := url.Parse(replica)
	require.NoError(t, err)
	u, err := url.Parse(appURL)
	require.NoError(t, err)
	u.Host = base.Host
	return u.String()
}

// replicaAdmin is a superuser connection to the replica, to pause and
// resume its replay.
func replicaAdmin(t *testing.T) *sqlx.DB {
	t.Helper()
	db, err := sqlx.Open("postgres", contracttest.BackendAddr(t, contracttest.Replica))
	require.NoError(t, err)
	db.SetMaxOpenConns(2)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.Ping())
	return db
}

// pauseReplay stops the replica replaying WAL until the test ends (or
// resume is called).
func pauseReplay(t *testing.T, db *sqlx.DB) (resume func()) {
	t.Helper()
	_, err := db.Exec(`SELECT pg_wal_replay_pause()`)
	require.NoError(t, err)
	resume = func() { _, _ = db.Exec(`SELECT pg_wal_replay_resume()`) }
	t.Cleanup(resume)
	return resume
}

func openWithReplicas(t *testing.T, appURL string, r pgstore.Replicas) *pgstore.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := pgstore.Open(ctx, pgstore.Config{URL: appURL, MaxOpenConns: 4, Replicas: r})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func waitReplicaUp(t *testing.T, s *pgstore.Store, up bool) {
	t.Helper()
	require.Eventually(t, func() bool { return s.Replicas()[0].Up == up }, 10*time.Second, 20*time.Millisecond,
		"replica up=%v: %+v", up, s.Replicas())
}

func listIDs(t *testing.T, ctx context.Context, s *pgstore.Store, tn domain.Tenant) map[domain.MemoryID]bool {
	t.Helper()
	page, err := s.List(ctx, tn, domain.ListQuery{Limit: 100})
	require.NoError(t, err)
	out := map[domain.MemoryID]bool{}
	for _, m := range page.Items {
		out[m.ID] = true
	}
	return out
}

func addMemory(t *testing.T, s *pgstore.Store, tn domain.Tenant, text string) domain.Memory {
	t.Helper()
	m, _, err := s.Create(context.Background(), tn, domain.Memory{ID: domain.NewMemoryID(time.Now()), OrgID: tn.OrgID, UserID: tn.UserID, AppID: "app", Text: text, State: domain.StateActive})
	require.NoError(t, err)
	return m
}

func TestReplicaServesReadsAndReadsYourWrites(t *testing.T) {
	_, appURL := testSchema(t)
	admin := replicaAdmin(t)
	wait := 300 * time.Millisecond
	s := openWithReplicas(t, appURL, pgstore.Replicas{URLs: []string{onReplica(t, appURL)}, Wait: wait, Interval: 50 * time.Millisecond})
	waitReplicaUp(t, s, true)
	tn := domain.Tenant{OrgID: "org-a", UserID: "alice"}
	ctx := context.Background()

	m1 := addMemory(t, s, tn, "first")
	tok1, err := s.CommitPosition(ctx)
	require.NoError(t, err)
	require.True(t, listIDs(t, ports.WithReadAfter(ctx, tok1), s, tn)[m1.ID], "a read after the write's position sees it")

	resume := pauseReplay(t, admin)
	m2 := addMemory(t, s, tn, "second")
	tok2, err := s.CommitPosition(ctx)
	require.NoError(t, err)
	require.Greater(t, tok2, tok1)

	// Without a position the paused replica answers: m2 is not there yet.
	// That is what proves the read went to the replica.
	ids := listIDs(t, ctx, s, tn)
	require.True(t, ids[m1.ID])
	require.False(t, ids[m2.ID], "an unconditioned list is served by the (paused) replica")
	st, err := s.Stats(ctx, tn)
	require.NoError(t, err)
	require.Equal(t, 1, st.ByState[domain.StateActive], "stats come from the replica too")

	// With the write's position the store waits for the replica, then
	// reads the primary.
	start := time.Now()
	require.True(t, listIDs(t, ports.WithReadAfter(ctx, tok2), s, tn)[m2.ID], "read-your-writes through the primary")
	require.GreaterOrEqual(t, time.Since(start), wait, "the store waited for the replica first")
	_, err = s.History(ports.WithReadAfter(ctx, tok2), tn, m2.ID)
	require.NoError(t, err)
	require.True(t, listIDs(t, ports.WithPrimaryReads(ctx), s, tn)[m2.ID], "primary reads see it at once")

	// A position the primary has not reached is a client error.
	_, err = s.List(ports.WithReadAfter(ctx, tok2+1<<40), tn, domain.ListQuery{Limit: 1})
	require.ErrorIs(t, err, domain.ErrInvalid)

	resume()
	require.Eventually(t, func() bool {
		return listIDs(t, ctx, s, tn)[m2.ID]
	}, 10*time.Second, 20*time.Millisecond, "the replica catches up once replay resumes")
}

func TestReplicaTooFarBehindIsSkipped(t *testing.T) {
	_, appURL := testSchema(t)
	admin := replicaAdmin(t)
	s := openWithReplicas(t, appURL, pgstore.Replicas{URLs: []string{onReplica(t, appURL)}, MaxLag: 300 * time.Millisecond, Interval: 50 * time.Millisecond})
	waitReplicaUp(t, s, true)
	tn := domain.Tenant{OrgID: "org-a", UserID: "alice"}
	resume := pauseReplay(t, admin)
	m := addMemory(t, s, tn, "while the replica is paused")
	require.Eventually(t, func() bool {
		addMemory(t, s, tn, "more WAL "+string(domain.NewMemoryID(time.Now())))
		return !s.Replicas()[0].Up
	}, 10*time.Second, 50*time.Millisecond)
	st := s.Replicas()[0]
	require.Greater(t, st.Lag, 300*time.Millisecond)
	require.NotZero(t, st.LagBytes)
	require.ErrorContains(t, st.Err, "behind the primary")
	require.True(t, listIDs(t, context.Background(), s, tn)[m.ID], "a replica too far behind is skipped: the primary answers")
	resume()
	waitReplicaUp(t, s, true)
	require.LessOrEqual(t, s.Replicas()[0].Lag, 300*time.Millisecond, "back in rotation once caught up")
}

func TestReplicaUnreachableAtStartRoutesToThePrimary(t *testing.T) {
	_, appURL := testSchema(t)
	contracttest.BackendAddr(t, contracttest.Replica)
	u, err := url.Parse(appURL)
	require.NoError(t, err)
	u.Host = "127.0.0.1:1" // nothing listens
	s := openWithReplicas(t, appURL, pgstore.Replicas{URLs: []string{u.String()}})
	st := s.Replicas()
	require.Len(t, st, 1)
	require.False(t, st[0].Up)
	require.Error(t, st[0].Err)
	require.Equal(t, "replica0", st[0].Name)
	tn := domain.Tenant{OrgID: "org-a", UserID: "alice"}
	m := addMemory(t, s, tn, "served by the primary")
	require.True(t, listIDs(t, context.Background(), s, tn)[m.ID])
}

func TestReplicaThatIsAPrimaryIsNeverRead(t *testing.T) {
	_, appURL := testSchema(t)
	contracttest.BackendAddr(t, contracttest.Replica)
	s := openWithReplicas(t, appURL, pgstore.Replicas{URLs: []string{appURL}, Interval: 50 * time.Millisecond})
	st := s.Replicas()[0]
	require.False(t, st.Up)
	require.ErrorContains(t, st.Err, "not in recovery")
}

// RLS and the runtime role hold on the replica exactly as on the primary:
// the same login role, switched to engram_app, sees only the org set in
// engram.org_id, both through the store and on a bare connection.
func TestReplicaEnforcesRowLevelSecurity(t *testing.T) {
	_, appURL := testSchema(t)
	s := openWithReplicas(t, appURL, pgstore.Replicas{URLs: []string{onReplica(t, appURL)}, Interval: 50 * time.Millisecond})
	waitReplicaUp(t, s, true)
	ctx := context.Background()
	a := domain.Tenant{OrgID: "org-a", UserID: "alice"}
	b := domain.Tenant{OrgID: "org-b", UserID: "alice"}
	m := addMemory(t, s, a, "org a's secret")
	tok, err := s.CommitPosition(ctx)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return listIDs(t, ctx, s, a)[m.ID] }, 10*time.Second, 20*time.Millisecond)
	require.Empty(t, listIDs(t, ports.WithReadAfter(ctx, tok), s, b), "another org reads nothing on the replica")

	rep, err := sqlx.Open("postgres", onReplica(t, appURL))
	require.NoError(t, err)
	defer func() { _ = rep.Close() }()
	count := func(org string) (int, error) {
		tx, err := rep.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return 0, err
		}
		defer func() { _ = tx.Rollback() }()
		if _, err := tx.Exec(`SELECT set_config('role', 'engram_app', true), set_config('engram.org_id', $1, true)`, org); err != nil {
			return 0, err
		}
		var n int
		err = tx.Get(&n, `SELECT count(*) FROM memories`)
		return n, err
	}
	n, err := count("org-a")
	require.NoError(t, err)
	require.Equal(t, 1, n)
	n, err = count("org-b")
	require.NoError(t, err)
	require.Zero(t, n, "the runtime role on the replica cannot read another tenant")
	n, err = count("")
	require.NoError(t, err)
	require.Zero(t, n, "nor any tenant without an org set")
	// The login role itself (without the switch) is not the table owner:
	// RLS is forced, so it reads nothing either.
	var direct int
	err = rep.Get(&direct, `SELECT count(*) FROM memories`)
	if err == nil {
		require.Zero(t, direct)
	} else {
		require.False(t, errors.Is(err, context.Canceled))
	}
}
