package app_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// TestEraseWhileTheSubjectWritesLeavesNothing erases a user who keeps
// writing: through this server, whose guard refuses at once, and through
// another server that has not yet seen the job (no guard), until the end
// of the grace period within which every server has. The job runs while
// the writes arrive; when it is done nothing of the user is left, however
// many writes got in.
func TestEraseWhileTheSubjectWritesLeavesNothing(t *testing.T) {
	e := newPrivacyEnv(t, nil)
	ctx := context.Background()
	e.fill(t, sAlice, "alice-secret")
	guarded := app.NewMemoryService(app.MemoryDeps{Memories: e.store, Apps: e.store, Access: e.store, Guard: e.privacy, Observers: []app.ChangeObserver{e.indexer}})
	t.Cleanup(guarded.Close)
	unaware := app.NewMemoryService(app.MemoryDeps{Memories: e.store, Apps: e.store, Access: e.store, Observers: []app.ChangeObserver{e.indexer}})
	t.Cleanup(unaware.Close)

	job, _, err := e.privacy.EraseMe(ctx, sAlice)
	require.NoError(t, err)
	until := job.CreatedAt.Add(200*time.Millisecond - 20*time.Millisecond) // the env's grace, with a margin

	var wg sync.WaitGroup
	var mu sync.Mutex
	landed, refused := 0, 0
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(until); i++ {
				text := fmt.Sprintf("alice-secret note %d from writer %d", i, w)
				if _, _, err := unaware.Add(ctx, sAlice, app.AddInput{Text: text}); err == nil {
					mu.Lock()
					landed++
					mu.Unlock()
				}
				_, _, err := guarded.Add(ctx, sAlice, app.AddInput{Text: text + " (guarded)"})
				mu.Lock()
				if err != nil {
					require.ErrorIs(t, err, domain.ErrConflict)
					refused++
				}
				mu.Unlock()
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}
	// The job runs while the writers write.
	done := make(chan error, 1)
	go func() { done <- e.privacy.RunPending(ctx) }()
	wg.Wait()
	require.NoError(t, <-done)

	got, err := e.privacy.Erasure(ctx, sAlice, job.ID)
	require.NoError(t, err)
	require.Equal(t, domain.ErasureDone, got.Status)
	require.Positive(t, landed, "writes got in while the job ran")
	require.Positive(t, refused)
	require.EqualValues(t, 4+landed, got.Counts[domain.StoreMemories], "the four filled and every write that landed")
	require.Zero(t, e.held(t, sAlice), "nothing of the subject is left")
	res, err := e.search.Search(ctx, sAlice, app.SearchRequest{Query: "alice-secret writer"}, "")
	require.NoError(t, err)
	require.Empty(t, res.Results)
}

// forgotten records the subjects a PrivacyService told its key cache to
// forget.
type forgotten struct {
	mu   sync.Mutex
	subj []domain.Subject
}

func (f *forgotten) ForgetDataKeys(s domain.Subject) {
	f.mu.Lock()
	f.subj = append(f.subj, s)
	f.mu.Unlock()
}

func (f *forgotten) take() []domain.Subject {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.subj
	f.subj = nil
	return s
}

// Another server's PrivacyService (same job table, its own key cache)
// forgets the subject's cached data keys when it sees the job running and
// again when it sees it end, and then no more: the erasing server's store
// forgets its own, but nothing else tells this process's cache that the
// key is gone (cmd/engramd TestFleetErasureForgetsCachedDataKeys is the
// end-to-end case).
func TestAnotherServerForgetsTheErasedSubjectsKeys(t *testing.T) {
	e := newPrivacyEnv(t, nil)
	ctx := context.Background()
	e.fill(t, sAlice, "alice-secret")
	cache := &forgotten{}
	other, err := app.NewPrivacyService(app.PrivacyDeps{Jobs: e.store, Store: e.store, Audit: e.store, HashKey: make([]byte, 32), KeyCache: cache})
	require.NoError(t, err)
	alice := domain.Subject{OrgID: sAlice.OrgID, UserID: sAlice.UserID}

	_, err = other.Refresh(ctx)
	require.NoError(t, err)
	require.Empty(t, cache.take(), "no job, nothing to forget")

	job, _, err := e.privacy.EraseMe(ctx, sAlice)
	require.NoError(t, err)
	_, err = other.Refresh(ctx)
	require.NoError(t, err)
	require.Equal(t, []domain.Subject{alice}, cache.take(), "a running job's subject is forgotten")

	_, err = e.privacy.RunJob(ctx, job)
	require.NoError(t, err)
	_, err = other.Refresh(ctx)
	require.NoError(t, err)
	require.Equal(t, []domain.Subject{alice}, cache.take(), "an ended job's subject is forgotten once more")
	_, err = other.Refresh(ctx)
	require.NoError(t, err)
	require.Empty(t, cache.take(), "and then left alone")
}
