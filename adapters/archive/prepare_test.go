package archive_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/archive"
	"github.com/engram-memory/engram/ports"
)

// preparingSink is a ports.LoadPreparer over a real store. Loading its
// first batch of memories waits (up to a few seconds) for the next batch
// to be prepared: an import that prepares a batch only once the one
// before has loaded never lets it through.
type preparingSink struct {
	ports.ArchiveSink
	mu        sync.Mutex
	prepared  int
	loaded    int
	second    chan struct{}
	overlaps  bool
	failAfter int // PrepareLoad fails after this many calls; 0: never
}

type preparedBatch struct {
	t    ports.ArchiveTable
	rows []ports.ArchiveRow
}

var errPrepare = errors.New("cannot open a sealed value")

func (s *preparingSink) PrepareLoad(_ context.Context, t ports.ArchiveTable, rows []ports.ArchiveRow) (ports.PreparedLoad, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failAfter > 0 && s.prepared == s.failAfter {
		return nil, errPrepare
	}
	s.prepared++
	if s.prepared == 2 {
		close(s.second)
	}
	return preparedBatch{t: t, rows: rows}, nil
}

func (s *preparingSink) LoadPrepared(ctx context.Context, b ports.PreparedLoad, o ports.LoadOptions) (ports.LoadResult, error) {
	p := b.(preparedBatch)
	s.mu.Lock()
	s.loaded++
	first := s.loaded == 1
	s.mu.Unlock()
	if first {
		select {
		case <-s.second:
			s.overlaps = true
		case <-time.After(3 * time.Second):
		}
	}
	return s.ArchiveSink.Load(ctx, p.t, p.rows, o)
}

func (s *preparingSink) Load(context.Context, ports.ArchiveTable, []ports.ArchiveRow, ports.LoadOptions) (ports.LoadResult, error) {
	panic("an import into a LoadPreparer loads prepared batches")
}

func TestImportPreparesTheNextBatchWhileOneLoads(t *testing.T) {
	src := openStore(t)
	seed(t, src, alice, 35)
	path, m1 := export(t, src, ports.ArchiveScope{})
	dst := openStore(t)
	sink := &preparingSink{ArchiveSink: dst, second: make(chan struct{})}
	_, err := archive.ImportFile(context.Background(), sink, path, archive.ImportOptions{BatchSize: 10})
	require.NoError(t, err)
	require.True(t, sink.overlaps, "the second batch was prepared while the first loaded")
	require.Equal(t, sink.prepared, sink.loaded, "every batch prepared once and loaded once")
	_, m2 := export(t, dst, ports.ArchiveScope{})
	require.Equal(t, sums(m1), sums(m2))
}

func TestImportReportsAFailedPreparationAtItsBatch(t *testing.T) {
	src := openStore(t)
	seed(t, src, alice, 35)
	path, _ := export(t, src, ports.ArchiveScope{})
	sink := &preparingSink{ArchiveSink: openStore(t), second: make(chan struct{}), failAfter: 2}
	_, err := archive.ImportFile(context.Background(), sink, path, archive.ImportOptions{BatchSize: 10})
	require.ErrorIs(t, err, errPrepare)
	var ae *archive.Error
	require.ErrorAs(t, err, &ae)
	require.Equal(t, int64(21), ae.Line, "the first line of the third batch")
	require.Equal(t, 2, sink.loaded, "the batches prepared before it loaded")
}
