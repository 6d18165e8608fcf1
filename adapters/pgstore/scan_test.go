package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/domain"
)

// TestScanVisitsEveryOrgUnderRLS runs as the non-owner login role: the scan
// must still see each org's active memories, through memory_orgs and a
// per-org scope.
func TestScanVisitsEveryOrgUnderRLS(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t, pgstore.Options{})
	now := time.Now()
	var want []domain.MemoryID
	for _, tn := range []domain.Tenant{{OrgID: "org-b", UserID: "u1"}, {OrgID: "org-a", UserID: "u1"}, {OrgID: "org-a", UserID: "u2"}} {
		for i := range 3 {
			m, err := domain.NewMemory(tn, "app", string(tn.OrgID)+" "+string(tn.UserID)+" note "+string(rune('a'+i)), nil, nil, now)
			require.NoError(t, err)
			_, _, err = s.Create(ctx, tn, m)
			require.NoError(t, err)
			want = append(want, m.ID)
		}
	}
	// A deleted memory is not scanned.
	require.NoError(t, s.Delete(ctx, domain.Tenant{OrgID: "org-b", UserID: "u1"}, want[:1], "app"))
	want = want[1:]

	orgs, err := s.Orgs(ctx)
	require.NoError(t, err)
	require.Equal(t, []domain.OrgID{"org-a", "org-b"}, orgs)
	var got []domain.MemoryID
	for _, org := range orgs {
		var after domain.MemoryID
		for {
			page, err := s.ScanActive(ctx, org, after, 2)
			require.NoError(t, err)
			if len(page) == 0 {
				break
			}
			for _, m := range page {
				require.Equal(t, org, m.OrgID)
				require.Greater(t, m.ID, after)
				got = append(got, m.ID)
				after = m.ID
			}
		}
	}
	require.ElementsMatch(t, want, got)
}
