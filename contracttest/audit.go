package contracttest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// AuditBackend is a store with the audit trail and subject erasure, so the
// suite can check that erasure leaves the trail alone.
type AuditBackend interface {
	ports.AuditLog
	ports.SubjectStore
}

// RunAuditLog checks ports.AuditLog against stores made by newStore, one
// isolated store per parallel subtest.
func RunAuditLog(t *testing.T, newStore func(t *testing.T) AuditBackend) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	event := func(org domain.OrgID, i int) domain.AuditEvent {
		when := at.Add(time.Duration(i) * time.Second)
		return domain.AuditEvent{
			ID: domain.NewAuditID(when), OrgID: org, At: when, Action: domain.AuditErasureDone, ActorHash: "actor",
			SubjectHash: "subject", ErasureID: domain.NewErasureID(when), Counts: map[string]int64{"memories": int64(i)}, Outcome: "done",
		}
	}
	t.Run("List/NewestFirstInPagesAndOneOrg", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ctx := ctxFor(t)
		var want []domain.AuditEvent
		for i := range 5 {
			e := event("org-a", i)
			require.NoError(t, s.AppendAudit(ctx, e))
			want = append([]domain.AuditEvent{e}, want...)
			require.NoError(t, s.AppendAudit(ctx, event("org-b", i)))
		}
		var got []domain.AuditEvent
		cursor := ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, 10)
			page, next, err := s.ListAudit(ctx, "org-a", 2, cursor)
			require.NoError(t, err)
			got = append(got, page...)
			if next == "" {
				break
			}
			cursor = next
		}
		require.Len(t, got, 5)
		for i := range want {
			require.Equal(t, want[i].ID, got[i].ID)
			require.Equal(t, domain.OrgID("org-a"), got[i].OrgID)
			require.True(t, want[i].At.Equal(got[i].At))
			require.Equal(t, want[i].Counts, got[i].Counts)
			require.Equal(t, want[i].ErasureID, got[i].ErasureID)
			require.Equal(t, "subject", got[i].SubjectHash)
		}
	})
	t.Run("Append/Refuses", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ctx := ctxFor(t)
		e := event("org-a", 1)
		require.NoError(t, s.AppendAudit(ctx, e))
		requireKind(t, s.AppendAudit(ctx, e), domain.ErrAlreadyExists)
		bad := event("org-a", 2)
		bad.Action = ""
		requireKind(t, s.AppendAudit(ctx, bad), domain.ErrInvalid)
		_, _, err := s.ListAudit(ctx, "org-a", 2, "not-a-cursor")
		requireKind(t, err, domain.ErrInvalid)
	})
	t.Run("Erasure/LeavesTheTrail", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ctx := ctxFor(t)
		require.NoError(t, s.AppendAudit(ctx, event("org-a", 1)))
		_, err := s.EraseSubjectData(ctx, domain.Subject{OrgID: "org-a"})
		require.NoError(t, err)
		got, _, err := s.ListAudit(ctx, "org-a", 10, "")
		require.NoError(t, err)
		require.Len(t, got, 1, "an org-wide erasure keeps the record of itself")
	})
}
