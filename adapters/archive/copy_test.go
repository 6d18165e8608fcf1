package archive_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/archive"
	"github.com/engram-memory/engram/domain"
)

func TestCopyThenCompareNamesTheTableAndOrgThatDiffer(t *testing.T) {
	ctx := context.Background()
	src, dst := openStore(t), openStore(t)
	seed(t, src, alice, 12)
	seed(t, src, domain.Tenant{OrgID: "globex", UserID: "carol"}, 5)
	_, err := archive.Copy(ctx, src, dst, archive.CopyOptions{BatchSize: 4})
	require.NoError(t, err)
	want, err := archive.Digests(ctx, src)
	require.NoError(t, err)
	got, err := archive.Digests(ctx, dst)
	require.NoError(t, err)
	require.Empty(t, archive.Compare(want, got))

	_, err = dst.Update(ctx, alice, mustFirstID(t, dst), "notes", func(m *domain.Memory) error { m.Text = "drifted"; return nil })
	require.NoError(t, err)
	got, err = archive.Digests(ctx, dst)
	require.NoError(t, err)
	bad := archive.Compare(want, got)
	require.Len(t, bad, 2, "the memory and its history")
	require.Equal(t, "memories", bad[0].Table)
	require.Equal(t, "acme", bad[0].Org)
	require.Equal(t, "memory_history", bad[1].Table)
}

func mustFirstID(t *testing.T, s interface {
	List(context.Context, domain.Tenant, domain.ListQuery) (domain.Page, error)
}) domain.MemoryID {
	t.Helper()
	p, err := s.List(context.Background(), alice, domain.ListQuery{Limit: 1})
	require.NoError(t, err)
	return p.Items[0].ID
}
