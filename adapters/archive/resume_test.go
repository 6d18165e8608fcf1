package archive_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/archive"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// crashingSink passes batches to a real store and fails the one after the
// first n, as a killed process or a lost connection would.
type crashingSink struct {
	ports.ArchiveSink
	n int
}

var errCrash = errors.New("connection lost")

func (c *crashingSink) Load(ctx context.Context, t ports.ArchiveTable, rows []ports.ArchiveRow, o ports.LoadOptions) (ports.LoadResult, error) {
	if c.n == 0 {
		return ports.LoadResult{}, errCrash
	}
	c.n--
	return c.ArchiveSink.Load(ctx, t, rows, o)
}

func TestInterruptedImportResumesWithoutDuplicates(t *testing.T) {
	src := openStore(t)
	seed(t, src, alice, 95)
	path, m1 := export(t, src, ports.ArchiveScope{})
	dst := openStore(t)
	cp := filepath.Join(t.TempDir(), "import.checkpoint")

	// Crash in the middle of the history member: memories are all in.
	_, err := archive.ImportFile(context.Background(), &crashingSink{ArchiveSink: dst, n: 12}, path,
		archive.ImportOptions{BatchSize: 10, Checkpoint: cp})
	require.ErrorIs(t, err, errCrash)
	require.FileExists(t, cp)

	rep, err := archive.ImportFile(context.Background(), dst, path, archive.ImportOptions{BatchSize: 10, Checkpoint: cp})
	require.NoError(t, err)
	require.True(t, rep.Resumed)
	require.NoFileExists(t, cp, "a finished import removes its checkpoint")
	_, m2 := export(t, dst, ports.ArchiveScope{})
	require.Equal(t, sums(m1), sums(m2), "every row once: same checksums as the source")
}

func TestCheckpointOfAnotherArchiveIsRefused(t *testing.T) {
	src := openStore(t)
	seed(t, src, alice, 5)
	path, _ := export(t, src, ports.ArchiveScope{})
	cp := filepath.Join(t.TempDir(), "import.checkpoint")
	require.NoError(t, os.WriteFile(cp, []byte(`{"archive":"other","table":"memories","line":3,"mode":"skip"}`), 0o600))
	_, err := archive.ImportFile(context.Background(), openStore(t), path, archive.ImportOptions{Checkpoint: cp})
	require.ErrorContains(t, err, "belongs to another archive")
}

func TestImportAsTenantRewritesOrgAndUser(t *testing.T) {
	src := openStore(t)
	seed(t, src, alice, 4)
	path, _ := export(t, src, ports.ArchiveScope{})
	dst := openStore(t)
	bob := domain.Tenant{OrgID: "other-org", UserID: "bob"}
	_, err := archive.ImportFile(context.Background(), dst, path, archive.ImportOptions{Tenant: &bob})
	require.NoError(t, err)
	page, err := dst.List(context.Background(), bob, domain.ListQuery{Limit: 10})
	require.NoError(t, err)
	require.Len(t, page.Items, 3, "four memories, one deleted (hidden from List)")
	stats, err := dst.Stats(context.Background(), alice)
	require.NoError(t, err)
	require.Zero(t, stats.Total, "nothing lands in the archive's own tenant")
}

func TestDryRunWritesNothing(t *testing.T) {
	src := openStore(t)
	seed(t, src, alice, 7)
	path, _ := export(t, src, ports.ArchiveScope{})
	dst := openStore(t)
	rep, err := archive.ImportFile(context.Background(), dst, path, archive.ImportOptions{LoadOptions: ports.LoadOptions{DryRun: true}})
	require.NoError(t, err)
	require.Equal(t, 7, rep.Tables[0].Inserted)
	require.Zero(t, countMemories(t, dst))
}
