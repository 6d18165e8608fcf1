package contracttest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func runSessionBasics(t *testing.T, newStore func(t *testing.T, s SessionSetup) ports.SessionStore) {
	t.Run("Append/RoundTripsNewestFirst", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, SessionSetup{})
		ctx := context.Background()
		now := time.Now()
		in := []domain.SessionEvent{
			event(t, domain.RoleSystem, "be brief", now.Add(-3*time.Second)),
			event(t, domain.RoleUser, "my dog is called Rex", now.Add(-2*time.Second)),
			event(t, domain.RoleAssistant, "Nice name! 🐕", now.Add(-time.Second)),
		}
		in[2].Metadata = domain.Metadata{"nested": map[string]any{"k": []any{"v", 2.0, true, nil}}}
		for _, e := range in {
			stored, err := s.Append(ctx, tenantA, "chat", e)
			require.NoError(t, err)
			requireSameEvent(t, e, stored)
		}
		got, err := s.Recent(ctx, tenantA, "chat", 10)
		require.NoError(t, err)
		require.Len(t, got, 3)
		for i, e := range got {
			requireSameEvent(t, in[2-i], e)
		}
		got, err = s.Recent(ctx, tenantA, "chat", 2)
		require.NoError(t, err)
		require.Len(t, got, 2)
		require.Equal(t, in[2].ID, got[0].ID)
		require.Equal(t, in[1].ID, got[1].ID)
	})

	t.Run("Append/OrdersByCreatedAtNotArrival", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, SessionSetup{})
		ctx := context.Background()
		now := time.Now()
		late := event(t, domain.RoleTool, "late result", now)
		early := event(t, domain.RoleUser, "early question", now.Add(-time.Minute))
		_, err := s.Append(ctx, tenantA, "chat", late)
		require.NoError(t, err)
		_, err = s.Append(ctx, tenantA, "chat", early)
		require.NoError(t, err)
		got, err := s.Recent(ctx, tenantA, "chat", 10)
		require.NoError(t, err)
		require.Equal(t, []string{late.ID, early.ID}, []string{got[0].ID, got[1].ID})
	})

	t.Run("Append/InvalidWritesNothing", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, SessionSetup{})
		ctx := context.Background()
		good := event(t, domain.RoleUser, "hello", time.Now())
		for name, mutate := range map[string]func(*domain.SessionEvent){
			"empty text": func(e *domain.SessionEvent) { e.Text = "  " },
			"bad role":   func(e *domain.SessionEvent) { e.Role = "robot" },
			"bad id":     func(e *domain.SessionEvent) { e.ID = "x" },
			"no time":    func(e *domain.SessionEvent) { e.CreatedAt = time.Time{} },
		} {
			e := good
			mutate(&e)
			_, err := s.Append(ctx, tenantA, "chat", e)
			require.ErrorIs(t, err, domain.ErrInvalid, name)
		}
		got, err := s.Recent(ctx, tenantA, "chat", 10)
		require.NoError(t, err)
		require.Empty(t, got)
	})

	t.Run("Append/DuplicateIDIsAlreadyExists", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, SessionSetup{})
		ctx := context.Background()
		e := event(t, domain.RoleUser, "once", time.Now())
		_, err := s.Append(ctx, tenantA, "chat", e)
		require.NoError(t, err)
		e2 := e
		e2.Text = "twice"
		_, err = s.Append(ctx, tenantA, "chat", e2)
		require.ErrorIs(t, err, domain.ErrAlreadyExists)
		got, err := s.Events(ctx, tenantA, "chat", []string{e.ID})
		require.NoError(t, err)
		require.Equal(t, "once", got[0].Text, "the duplicate changed nothing")
	})

	t.Run("Append/ConcurrentWritesAllLand", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, SessionSetup{})
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make(chan error, 50)
		for i := range 50 {
			wg.Go(func() {
				_, err := s.Append(ctx, tenantA, "busy", event(t, domain.RoleUser, fmt.Sprintf("m%d", i), time.Now()))
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		got, err := s.Recent(ctx, tenantA, "busy", 100)
		require.NoError(t, err)
		require.Len(t, got, 50)
	})

	t.Run("Recent/ScoresDecayWithAge", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, SessionSetup{HalfLife: time.Hour})
		ctx := context.Background()
		now := time.Now()
		for _, age := range []time.Duration{2 * time.Hour, time.Hour, 0} {
			_, err := s.Append(ctx, tenantA, "chat", event(t, domain.RoleUser, "aged "+age.String(), now.Add(-age)))
			require.NoError(t, err)
		}
		got, err := s.Recent(ctx, tenantA, "chat", 10)
		require.NoError(t, err)
		require.Len(t, got, 3)
		require.InDelta(t, 1.0, got[0].Score, 0.01)
		require.InDelta(t, 0.5, got[1].Score, 0.01)
		require.InDelta(t, 0.25, got[2].Score, 0.01)
	})

	t.Run("Recent/EmptyAndInvalid", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, SessionSetup{})
		ctx := context.Background()
		got, err := s.Recent(ctx, tenantA, "nobody-wrote-here", 10)
		require.NoError(t, err)
		require.Empty(t, got)
		for _, n := range []int{0, -1, domain.MaxRecentEvents + 1} {
			_, err = s.Recent(ctx, tenantA, "chat", n)
			require.ErrorIs(t, err, domain.ErrInvalid, "n=%d", n)
		}
	})

	t.Run("Events/InAskedOrderAllOrNothing", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, SessionSetup{})
		ctx := context.Background()
		evs := appendN(t, s, tenantA, "chat", 4)
		got, err := s.Events(ctx, tenantA, "chat", []string{evs[3].ID, evs[0].ID, evs[2].ID})
		require.NoError(t, err)
		require.Len(t, got, 3)
		requireSameEvent(t, evs[3], got[0])
		requireSameEvent(t, evs[0], got[1])
		requireSameEvent(t, evs[2], got[2])
		missing := domain.NewID(time.Now())
		_, err = s.Events(ctx, tenantA, "chat", []string{evs[1].ID, missing})
		require.ErrorIs(t, err, domain.ErrNotFound)
		require.Contains(t, err.Error(), missing, "the error names the missing id")
	})

	t.Run("FindMention/MostRecentCaseInsensitive", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, SessionSetup{})
		ctx := context.Background()
		now := time.Now()
		texts := []string{"I moved to Berlin", "the weather is nice", "Berlin has good coffee", "Ich gehe zur ÉCOLE", "what about it?"}
		var evs []domain.SessionEvent
		for i, txt := range texts {
			e, err := s.Append(ctx, tenantA, "chat", event(t, domain.RoleUser, txt, now.Add(time.Duration(i-len(texts))*time.Second)))
			require.NoError(t, err)
			evs = append(evs, e)
		}
		got, err := s.FindMention(ctx, tenantA, "chat", "berlin")
		require.NoError(t, err)
		requireSameEvent(t, evs[2], got)
		got, err = s.FindMention(ctx, tenantA, "chat", "école")
		require.NoError(t, err, "case folding is Unicode-aware")
		requireSameEvent(t, evs[3], got)
		_, err = s.FindMention(ctx, tenantA, "chat", "paris")
		require.ErrorIs(t, err, domain.ErrNotFound)
		_, err = s.FindMention(ctx, tenantA, "chat", "")
		require.ErrorIs(t, err, domain.ErrInvalid)
	})
}
