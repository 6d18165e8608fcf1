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
