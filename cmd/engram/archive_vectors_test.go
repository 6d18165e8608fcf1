package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/archive"
	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/localembed"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// countingEmbedder counts the texts it embeds.
type countingEmbedder struct {
	*localembed.Embedder
	texts atomic.Int64
}

func (c *countingEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	c.texts.Add(int64(len(texts)))
	return c.Embedder.Embed(ctx, texts)
}

func newCountingEmbedder(t *testing.T, dim int) *countingEmbedder {
	e, err := localembed.New(localembed.Options{Dimension: dim})
	require.NoError(t, err)
	return &countingEmbedder{Embedder: e}
}

type archivedVector struct {
	ID     domain.MemoryID `json:"id"`
	OrgID  domain.OrgID    `json:"org_id"`
	UserID domain.UserID   `json:"user_id"`
	Vector []float32       `json:"vector"`
}

func archivedVectors(t *testing.T, path string) []archivedVector {
	t.Helper()
	mr, ok, err := openArchive(t, path).OpenMember(archive.VectorsTable)
	require.NoError(t, err)
	require.True(t, ok)
	defer mr.Close()
	var out []archivedVector
	for {
		line, err := mr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		var v archivedVector
		require.NoError(t, json.Unmarshal(line, &v))
		out = append(out, v)
	}
}

// importWithIndex imports path into a fresh SQLite store whose in-process
// vector index is kept by an Indexer over emb, as engramd's import route
// does.
func importWithIndex(t *testing.T, path string, emb *countingEmbedder) (archive.Report, *sqlitestore.Store, *inproc.VectorIndex) {
	t.Helper()
	ctx := context.Background()
	dst, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: filepath.Join(t.TempDir(), "engram.db")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = dst.Close() })
	idx := inproc.NewVectorIndex()
	ix := app.NewIndexer(app.IndexerDeps{Memories: dst, Vectors: idx, Embedder: emb})
	rep, err := archive.ImportFile(ctx, dst, path, archive.ImportOptions{BatchSize: 7, Changed: ix.MemoriesChanged, Vectors: ix})
	require.NoError(t, err)
	return rep, dst, idx
}

// TestArchiveVectorsLoadWithoutEmbedding is issue 15's round trip: `engram
// export --with-vectors` writes every active memory's embedding; an import
// whose embedder has the same model and dimension puts exactly those
// vectors into the vector index and never calls the embedder, and one of
// another dimension embeds the memories as without vectors, saying so.
func TestArchiveVectorsLoadWithoutEmbedding(t *testing.T) {
	ctx := context.Background()
	dir := seedSQLite(t, 20)
	path := filepath.Join(t.TempDir(), "vec.engram")
	_, stderr, err := engramCmd(t, "export", "--data-dir", dir, "-o", path, "--with-vectors", "--embedder", "local")
	require.NoError(t, err, stderr)
	require.Contains(t, stderr, "vectors: local-hash-v1-384, 384 dimensions")
	m := readManifest(t, path)
	require.Equal(t, &archive.Vectors{Model: "local-hash-v1-384", Dimension: 384, Member: "vectors.jsonl.gz"}, m.Vectors)
	vecs := archivedVectors(t, path)
	require.Len(t, vecs, 3*17, "20 memories per user, less a paused, a deleted and an erased one")

	out, stderr, err := engramCmd(t, "backup", "verify", path)
	require.NoError(t, err, stderr)
	require.Contains(t, out, "OK")

	emb := newCountingEmbedder(t, 384)
	rep, dst, idx := importWithIndex(t, path, emb)
	require.Zero(t, emb.texts.Load(), "the embedder is not called")
	require.Equal(t, "loaded", rep.Vectors.Outcome)
	require.Equal(t, len(vecs), rep.Vectors.Loaded)
	require.Zero(t, rep.Vectors.Embedded)
	for _, v := range vecs {
		tn := domain.Tenant{OrgID: v.OrgID, UserID: v.UserID}
		got, err := dst.Get(ctx, tn, v.ID)
		require.NoError(t, err)
		require.Equal(t, domain.StateActive, got.State)
		hits, err := idx.Search(ctx, tn, v.Vector, 1, domain.SearchFilter{})
		require.NoError(t, err)
		require.Equal(t, v.ID, hits[0].ID)
		require.InDelta(t, 1, hits[0].Score, 1e-5, "the index holds the archived vector")
		require.Equal(t, 17, idx.Len(tn))
	}

	other := newCountingEmbedder(t, 64)
	rep, _, idx = importWithIndex(t, path, other)
	require.Equal(t, "re-embedded", rep.Vectors.Outcome)
	require.Contains(t, rep.Vectors.Reason, "local-hash-v1-64 with 64")
	require.EqualValues(t, len(vecs), other.texts.Load(), "every active memory embedded")
	require.Equal(t, 17, idx.Len(domain.Tenant{OrgID: "acme", UserID: "alice"}))

	// The CLI has no vector index of its own to load (engramd fills its
	// in-process one at start) and says so.
	out, stderr, err = engramCmd(t, "import", path, "--data-dir", t.TempDir())
	require.NoError(t, err, stderr)
	require.Contains(t, out, "vectors: the archive's 51 vectors (local-hash-v1-384, 384 dimensions) not loaded: this import writes no vector index")
}

// BenchmarkArchiveVectors measures what vectors in an archive cost and
// save on SQLite with the local embedder: export with and without
// --with-vectors, and import into an in-process vector index loading the
// archived vectors or embedding every memory.
//
//	ENGRAM_BENCH_ARCHIVE_N=20000 go test -run '^$' -bench BenchmarkArchiveVectors -benchtime 1x ./cmd/engram/
func BenchmarkArchiveVectors(b *testing.B) {
	ctx := context.Background()
	n := benchN()
	src, err := openLocation(ctx, b.TempDir(), func(string) string { return "" })
	require.NoError(b, err)
	b.Cleanup(func() { _ = src.Close() })
	seedBench(b, src, n)
	emb, err := localembed.New(localembed.Options{})
	require.NoError(b, err)
	for _, with := range []bool{false, true} {
		name := "without-vectors"
		var o archive.ExportOptions
		if with {
			name, o.Embedder = "with-vectors", emb
		}
		b.Run(name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "bench.engram")
			var exportS, importS, importCPU float64
			for b.Loop() {
				f, err := os.Create(path)
				require.NoError(b, err)
				t0 := time.Now()
				_, err = archive.Export(ctx, src.Source, f, o)
				require.NoError(b, err)
				exportS += time.Since(t0).Seconds()
				require.NoError(b, f.Close())
				dst, err := openLocation(ctx, b.TempDir(), func(string) string { return "" })
				require.NoError(b, err)
				ix := app.NewIndexer(app.IndexerDeps{Memories: dst.Memories, Vectors: inproc.NewVectorIndex(), Embedder: emb})
				require.NoError(b, ix.Bind(ctx)) // as engramd does at start
				t0, c0 := time.Now(), cpuSeconds()
				rep, err := archive.ImportFile(ctx, dst.Sink, path, archive.ImportOptions{BatchSize: 1000, Changed: ix.MemoriesChanged, Vectors: ix})
				require.NoError(b, err)
				importS += time.Since(t0).Seconds()
				importCPU += cpuSeconds() - c0
				require.Equal(b, with, rep.Vectors != nil && rep.Vectors.Outcome == "loaded")
				require.NoError(b, dst.Close())
			}
			b.ReportMetric(float64(n*b.N)/exportS, "export-memories/s")
			b.ReportMetric(float64(n*b.N)/importS, "import-memories/s")
			// CPU time is what a machine busy with other work cannot
			// inflate: two idle cores give at most 2e6/this memories/s.
			b.ReportMetric(importCPU*1e6/float64(n*b.N), "import-cpu-µs/memory")
			st, _ := os.Stat(path)
			b.ReportMetric(float64(st.Size())/float64(n), "archive-bytes/memory")
		})
	}
}
