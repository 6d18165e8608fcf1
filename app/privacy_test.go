package app_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

type privacyEnv struct {
	*searchEnv
	sessions *inproc.SessionStore
	idem     *inproc.IdempotencyStore
	feedback *app.FeedbackService
	privacy  *app.PrivacyService
}

// flakySessions fails EraseSessions while down is set, as a Valkey outage
// would.
type flakySessions struct {
	ports.SessionEraser
	down bool
}

func (f *flakySessions) EraseSessions(ctx context.Context, s domain.Subject) (int64, error) {
	if f.down {
		return 0, &domain.UnavailableError{Dependency: "valkey", Err: errors.New("connection refused")}
	}
	return f.SessionEraser.EraseSessions(ctx, s)
}

func newPrivacyEnv(t *testing.T, sessions ports.SessionEraser) *privacyEnv {
	t.Helper()
	e := &privacyEnv{searchEnv: newSearchEnv(t)}
	e.sessions = inproc.NewSessionStore(inproc.SessionOptions{})
	e.idem = inproc.NewIdempotencyStore(inproc.IdempotencyOptions{})
	t.Cleanup(func() { _ = e.sessions.Close(); _ = e.idem.Close() })
	if sessions == nil {
		sessions = e.sessions
	}
	var err error
	e.privacy, err = app.NewPrivacyService(app.PrivacyDeps{
		Jobs: e.store, Store: e.store, Audit: e.store, Text: e.store.TextIndex(), Vectors: e.vectors,
		Sessions: sessions, Idempotency: e.idem, HashKey: make([]byte, 32), Grace: 200 * time.Millisecond, Batch: 3,
		Export:    app.ExportDeps{Memories: e.store, Apps: e.store, Access: e.store, Feedback: e.store, Queries: e.store, Sessions: e.sessions},
		Retention: e.store,
	})
	require.NoError(t, err)
	e.feedback = app.NewFeedbackService(app.FeedbackDeps{Feedback: e.store, Queries: e.store, Experiments: e.store, Guard: e.privacy})
	return e
}

// fill writes through every store a user reaches: memories (with an
// update, so history holds the old text), a read (access log), a search
// (query log) with feedback, a session, an idempotency record.
func (e *privacyEnv) fill(t *testing.T, p domain.Principal, secret string) {
	t.Helper()
	ctx := context.Background()
	for i := range 4 {
		m := e.add(t, p, fmt.Sprintf("%s note %d", secret, i))
		newText := fmt.Sprintf("%s note %d, revised", secret, i)
		_, err := e.mem.Update(ctx, p, m.ID, app.UpdateInput{Text: &newText}, "")
		require.NoError(t, err)
		_, err = e.mem.Get(ctx, p, m.ID, "")
		require.NoError(t, err)
	}
	qid := domain.NewQueryID(time.Now())
	require.NoError(t, e.feedback.LogQuery(ctx, p, domain.QueryLog{ID: qid, Query: secret + " query", Params: domain.SearchParams{}}))
	_, err := e.feedback.Submit(ctx, p, []app.FeedbackInput{{QueryID: string(qid), Outcome: "accepted"}})
	require.NoError(t, err)
	ev, err := domain.NewSessionEvent(domain.RoleUser, secret+" said", nil, time.Now())
	require.NoError(t, err)
	_, err = e.sessions.Append(ctx, p.Tenant(), "s1", ev)
	require.NoError(t, err)
	_, _, err = e.idem.Begin(ctx, ports.IdempotencyScope(p.Tenant()), "k", "fp", time.Minute)
	require.NoError(t, err)
}

// held counts what is left of p in every store.
func (e *privacyEnv) held(t *testing.T, p domain.Principal) int {
	t.Helper()
	ctx := context.Background()
	n := 0
	refs, err := e.store.SubjectMemories(ctx, domain.Subject{OrgID: p.OrgID, UserID: p.UserID}, 100)
	require.NoError(t, err)
	n += len(refs)
	page, err := e.feedback.List(ctx, p, app.FeedbackQuery{})
	require.NoError(t, err)
	n += len(page.Events)
	evs, err := e.sessions.Recent(ctx, p.Tenant(), "s1", 10)
	require.NoError(t, err)
	n += len(evs)
	if _, claimed, err := e.idem.Begin(ctx, ports.IdempotencyScope(p.Tenant()), "k", "fp", time.Minute); err == nil && !claimed {
		n++
	}
	res, err := e.search.Search(ctx, p, app.SearchRequest{Query: "note"}, "")
	require.NoError(t, err)
	return n + len(res.Results)
}

func TestEraseMeReachesEveryStoreAndOnlyTheCaller(t *testing.T) {
	e := newPrivacyEnv(t, nil)
	ctx := context.Background()
	e.fill(t, sAlice, "alice-secret")
	e.fill(t, sBob, "bob-secret")
	bobBefore := e.held(t, sBob)

	job, joined, err := e.privacy.EraseMe(ctx, sAlice)
	require.NoError(t, err)
	require.False(t, joined)
	require.Equal(t, domain.ErasurePending, job.Status)
	require.NoError(t, e.privacy.RunPending(ctx))

	got, err := e.privacy.Erasure(ctx, sAlice, job.ID)
	require.NoError(t, err)
	require.Equal(t, domain.ErasureDone, got.Status)
	require.Empty(t, got.UserID, "a finished job no longer names its subject")
	require.EqualValues(t, 4, got.Counts[domain.StoreMemories])
	require.EqualValues(t, 8, got.Counts[domain.StoreHistory], "add and update entries")
	// Access-log rows are written behind the read, so whether they land
	// before the erasure varies; one arriving after is skipped by the
	// store (its memory is gone), so nothing is left either way.
	require.EqualValues(t, 4, got.Counts[domain.StoreTextIndex])
	require.EqualValues(t, 1, got.Counts[domain.StoreFeedback])
	require.EqualValues(t, 1, got.Counts[domain.StoreQueryLog])
	require.EqualValues(t, 1, got.Counts[domain.StoreSessions])
	require.EqualValues(t, 1, got.Counts[domain.StoreIdempotency])

	require.Zero(t, e.held(t, sAlice))
	require.Equal(t, bobBefore, e.held(t, sBob), "bob keeps everything")

	_, err = e.privacy.Erasure(ctx, sBob, job.ID)
	require.ErrorIs(t, err, domain.ErrNotFound, "another user cannot see the job")
	other := domain.Principal{OrgID: "org-2", UserID: "alice", Scopes: []domain.Scope{domain.ScopePrivacyAdmin}}
	_, err = e.privacy.Erasure(ctx, other, job.ID)
	require.ErrorIs(t, err, domain.ErrNotFound, "nor an admin of another org")
}

func TestEraseSecondRequestJoinsAndNobodyErasesToZero(t *testing.T) {
	e := newPrivacyEnv(t, nil)
	ctx := context.Background()
	first, joined, err := e.privacy.EraseMe(ctx, sAlice)
	require.NoError(t, err)
	require.False(t, joined)
	second, joined, err := e.privacy.EraseMe(ctx, sAlice)
	require.NoError(t, err)
	require.True(t, joined)
	require.Equal(t, first.ID, second.ID)

	require.NoError(t, e.privacy.RunPending(ctx))
	got, err := e.privacy.Erasure(ctx, sAlice, first.ID)
	require.NoError(t, err)
	require.Equal(t, domain.ErasureDone, got.Status)
	for store, n := range got.Counts {
		require.Zero(t, n, store)
	}
	third, joined, err := e.privacy.EraseMe(ctx, sAlice)
	require.NoError(t, err)
	require.False(t, joined, "a finished job is not joined")
	require.NotEqual(t, first.ID, third.ID)
}

func TestEraseWaitsForAStoreThatIsDown(t *testing.T) {
	down := &flakySessions{down: true}
	e := newPrivacyEnv(t, down)
	down.SessionEraser = e.sessions
	ctx := context.Background()
	e.fill(t, sAlice, "alice-secret")
	job, _, err := e.privacy.EraseMe(ctx, sAlice)
	require.NoError(t, err)

	require.ErrorIs(t, e.privacy.RunPending(ctx), domain.ErrUnavailable)
	got, err := e.privacy.Erasure(ctx, sAlice, job.ID)
	require.NoError(t, err)
	require.Equal(t, domain.ErasureRunning, got.Status, "never done while a store is down")
	require.Equal(t, 1, got.Attempts)
	require.Equal(t, "unavailable: valkey", got.LastError, "the kind, not the text")
	_, _, err = e.mem.Add(ctx, sAlice, app.AddInput{Text: "written after the erasure started"})
	require.NoError(t, err, "the memory service of this env has no guard")

	down.down = false
	require.NoError(t, e.privacy.RunPending(ctx))
	got, err = e.privacy.Erasure(ctx, sAlice, job.ID)
	require.NoError(t, err)
	require.Equal(t, domain.ErasureDone, got.Status)
	require.Empty(t, got.LastError)
	require.EqualValues(t, 5, got.Counts[domain.StoreMemories], "the late write is erased too, counted once")
	require.Zero(t, e.held(t, sAlice))
}

func TestEraseGuardRefusesTheSubjectsWrites(t *testing.T) {
	e := newPrivacyEnv(t, nil)
	ctx := context.Background()
	guarded := app.NewMemoryService(app.MemoryDeps{Memories: e.store, Apps: e.store, Access: e.store, Guard: e.privacy})
	t.Cleanup(guarded.Close)
	_, _, err := e.privacy.EraseMe(ctx, sAlice)
	require.NoError(t, err)
	_, _, err = guarded.Add(ctx, sAlice, app.AddInput{Text: "too late"})
	var inProgress *domain.ErasureInProgressError
	require.ErrorAs(t, err, &inProgress)
	require.ErrorIs(t, err, domain.ErrConflict)
	_, err = e.feedback.Submit(ctx, sAlice, []app.FeedbackInput{{QueryID: string(domain.NewQueryID(time.Now())), Outcome: "accepted"}})
	require.ErrorIs(t, err, domain.ErrConflict)
	_, _, err = guarded.Add(ctx, sBob, app.AddInput{Text: "bob writes on"})
	require.NoError(t, err, "another user of the org is not refused")

	require.NoError(t, e.privacy.RunPending(ctx))
	_, _, err = guarded.Add(ctx, sAlice, app.AddInput{Text: "a new start"})
	require.NoError(t, err, "after the job is done the user may write again")
}

func TestEraseInOrgNeedsPrivacyAdminAndStaysInTheOrg(t *testing.T) {
	e := newPrivacyEnv(t, nil)
	ctx := context.Background()
	e.fill(t, sAlice, "alice-secret")
	e.fill(t, sBob, "bob-secret")
	outsider := domain.Principal{OrgID: "org-2", UserID: "mallory", Scopes: []domain.Scope{domain.ScopePrivacyAdmin}}
	outsider.Scopes = append(outsider.Scopes, domain.DefaultUserScopes...)
	e.fill(t, outsider, "org2-secret")

	_, _, err := e.privacy.EraseInOrg(ctx, sBob, "alice")
	require.ErrorIs(t, err, domain.ErrForbidden, "a user is not an admin")

	// org-2's admin erasing "alice" erases org-2's alice, never org-1's.
	_, _, err = e.privacy.EraseInOrg(ctx, outsider, "alice")
	require.NoError(t, err)
	// and org-wide erasure of org-2 leaves org-1 alone.
	job, _, err := e.privacy.EraseInOrg(ctx, outsider, "")
	require.NoError(t, err)
	require.True(t, job.OrgWide)
	require.NoError(t, e.privacy.RunPending(ctx))

	require.Zero(t, e.held(t, outsider))
	require.NotZero(t, e.held(t, sAlice))
	require.NotZero(t, e.held(t, sBob))
}

func TestEraseIsAuditedWithoutPersonalData(t *testing.T) {
	e := newPrivacyEnv(t, nil)
	ctx := context.Background()
	e.fill(t, sAlice, "alice-secret")
	job, _, err := e.privacy.EraseMe(ctx, sAlice)
	require.NoError(t, err)
	_, _, err = e.privacy.EraseMe(ctx, sAlice)
	require.NoError(t, err)
	require.NoError(t, e.privacy.RunPending(ctx))

	_, _, err = e.privacy.AuditTrail(ctx, sBob, 10, "")
	require.ErrorIs(t, err, domain.ErrForbidden)
	admin := domain.Principal{OrgID: sAlice.OrgID, UserID: "admin", Scopes: []domain.Scope{domain.ScopePrivacyAdmin}}
	events, _, err := e.privacy.AuditTrail(ctx, admin, 10, "")
	require.NoError(t, err)
	require.Len(t, events, 3)
	require.Equal(t, []string{domain.AuditErasureDone, domain.AuditErasureRequested, domain.AuditErasureRequested},
		[]string{events[0].Action, events[1].Action, events[2].Action})
	require.Equal(t, []string{"done", "joined", "accepted"}, []string{events[0].Outcome, events[1].Outcome, events[2].Outcome})
	require.EqualValues(t, 4, events[0].Counts[domain.StoreMemories])
	require.Equal(t, job.ID, events[0].ErasureID)
	require.Equal(t, e.privacy.Hash(sAlice.OrgID, sAlice.UserID), events[0].SubjectHash)
	raw := fmt.Sprintf("%+v", events)
	require.NotContains(t, raw, "alice", "no user id in the trail")

	other := domain.Principal{OrgID: "org-2", UserID: "admin", Scopes: []domain.Scope{domain.ScopePrivacyAdmin}}
	events, _, err = e.privacy.AuditTrail(ctx, other, 10, "")
	require.NoError(t, err)
	require.Empty(t, events, "another org's admin sees nothing")
}
