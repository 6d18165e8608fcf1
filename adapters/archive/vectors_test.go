package archive_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/archive"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// hashEmbedder is a deterministic embedder that counts the texts it embeds.
type hashEmbedder struct {
	model string
	dim   int
	texts atomic.Int64
}

func (e *hashEmbedder) Model() string  { return e.model }
func (e *hashEmbedder) Dimension() int { return e.dim }
func (e *hashEmbedder) Embed(_ context.Context, texts []string) ([][]float32, error) {
	e.texts.Add(int64(len(texts)))
	out := make([][]float32, len(texts))
	for i, s := range texts {
		out[i] = hashVector(s, e.dim)
	}
	return out, nil
}

func hashVector(s string, dim int) []float32 {
	sum := sha256.Sum256([]byte(s))
	v := make([]float32, dim)
	var n float64
	for i := range v {
		v[i] = float32(int(sum[i%len(sum)])-128) + 0.5
		n += float64(v[i]) * float64(v[i])
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(n))
	}
	return v
}

// vectorSink is a VectorTarget that keeps what it is given.
type vectorSink struct {
	space ports.VectorSpace
	got   map[domain.MemoryID][]float32
	ids   int
}

func (v *vectorSink) ArchiveVectorSpace(context.Context) (ports.VectorSpace, bool, error) {
	return v.space, true, nil
}

func (v *vectorSink) MemoriesChangedWithVectors(_ context.Context, _ domain.Tenant, ids []domain.MemoryID, vecs []ports.ArchivedVector) (ports.ArchivedVectorLoad, error) {
	v.ids += len(ids)
	for _, x := range vecs {
		v.got[x.ID] = x.Vector
	}
	return ports.ArchivedVectorLoad{Loaded: len(vecs)}, nil
}

func exportWithVectors(t *testing.T, s ports.ArchiveSource, emb ports.Embedder) (string, archive.Manifest) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vec.engram")
	f, err := os.Create(path)
	require.NoError(t, err)
	m, err := archive.Export(context.Background(), s, f, archive.ExportOptions{Profile: "sqlite", Embedder: emb})
	require.NoError(t, err)
	require.NoError(t, f.Close())
	return path, m
}

// TestVectorsRoundTrip: an export with an embedder carries one vector per
// active memory, with the model and dimension in the manifest; an import
// whose vector index has that model and dimension is handed exactly those
// vectors and reports them loaded.
func TestVectorsRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := openStore(t)
	seed(t, src, alice, 30) // 30 memories, one of them deleted
	emb := &hashEmbedder{model: "hash-v1", dim: 8}
	path, m := exportWithVectors(t, src, emb)
	require.Equal(t, &archive.Vectors{Model: "hash-v1", Dimension: 8, Member: "vectors.jsonl.gz"}, m.Vectors)
	vm, ok := m.Member(archive.VectorsTable)
	require.True(t, ok)
	require.EqualValues(t, 29, vm.Rows)

	_, reps, err := archive.Verify(path, archive.Limits{})
	require.NoError(t, err)
	require.Len(t, reps, len(m.Members))

	dst := openStore(t)
	vs := &vectorSink{space: ports.VectorSpace{Model: "hash-v1", Dimension: 8}, got: map[domain.MemoryID][]float32{}}
	changed := 0
	rep, err := archive.ImportFile(ctx, dst, path, archive.ImportOptions{BatchSize: 7, Vectors: vs,
		Changed: func(context.Context, domain.Tenant, []domain.MemoryID) error { changed++; return nil }})
	require.NoError(t, err)
	require.Zero(t, changed, "the vectors' target indexes the memories")
	require.Equal(t, "loaded", rep.Vectors.Outcome)
	require.Equal(t, 29, rep.Vectors.Loaded)
	require.Equal(t, 30, vs.ids)
	require.Len(t, vs.got, 29)
	page, err := dst.List(ctx, alice, domain.ListQuery{Limit: 100})
	require.NoError(t, err)
	require.Len(t, page.Items, 29)
	for _, mem := range page.Items {
		require.Equal(t, hashVector(mem.Text, 8), vs.got[mem.ID], mem.ID)
	}

	// The same file without vectors' target, or into another space, is
	// imported as without vectors and says why.
	for name, space := range map[string]ports.VectorSpace{"model": {Model: "other", Dimension: 8}, "dimension": {Model: "hash-v1", Dimension: 16}} {
		t.Run("mismatched "+name, func(t *testing.T) {
			other := &vectorSink{space: space, got: map[domain.MemoryID][]float32{}}
			changed := 0
			rep, err := archive.ImportFile(ctx, openStore(t), path, archive.ImportOptions{Vectors: other,
				Changed: func(context.Context, domain.Tenant, []domain.MemoryID) error { changed++; return nil }})
			require.NoError(t, err)
			require.Equal(t, "re-embedded", rep.Vectors.Outcome)
			require.Contains(t, rep.Vectors.Reason, "the configured embedder is")
			require.Zero(t, other.ids)
			require.NotZero(t, changed)
		})
	}

	// An archive without vectors exports as before: same member sums.
	plain, pm := export(t, src, ports.ArchiveScope{})
	require.Nil(t, pm.Vectors)
	for _, x := range pm.Members {
		require.Equal(t, x.SHA256, sums(m)[x.Table], x.Table)
	}
	rep, err = archive.ImportFile(ctx, openStore(t), plain, archive.ImportOptions{Vectors: vs})
	require.NoError(t, err)
	require.Nil(t, rep.Vectors)
}

// TestBadVectorsImportNothing: a vector line that is corrupt, of another
// dimension than the manifest's, or of no memory of the archive fails the
// import, naming the member and line, before any row is loaded; backup
// verify's reading (archive.Verify) finds the same, and a tampered vectors
// member fails its checksum.
func TestBadVectorsImportNothing(t *testing.T) {
	src := openStore(t)
	seed(t, src, alice, 12)
	path, _ := exportWithVectors(t, src, &hashEmbedder{model: "hash-v1", dim: 4})
	editLine := func(n int, edit func(string) string) string {
		return fixManifest(t, rewriteZip(t, path, func(name string, data []byte) []byte {
			if name == "vectors.jsonl.gz" {
				lines := strings.Split(string(gunzip(t, data)), "\n")
				lines[n-1] = edit(lines[n-1])
				return gz([]byte(strings.Join(lines, "\n")))
			}
			return data
		}))
	}
	cases := []struct{ name, file, want string }{
		{"corrupt line", editLine(3, func(s string) string { return s[:len(s)/2] }), "vectors.jsonl.gz line 3: invalid: not a vector line"},
		{"another dimension", editLine(5, func(s string) string { return strings.Replace(s, `"vector":[`, `"vector":[0.5,`, 1) }),
			"vectors.jsonl.gz line 5: invalid: vector of 5 dimensions, the manifest says 4"},
		{"no such memory", editLine(2, func(s string) string { return s[:8] + "0000" + s[12:] }), "vectors.jsonl.gz line 2: invalid: memory"},
		{"tampered member", rewriteZip(t, path, func(name string, data []byte) []byte {
			if name == "vectors.jsonl.gz" {
				text := string(gunzip(t, data))
				i := strings.Index(text, `"text_sha256":"`) + len(`"text_sha256":"`)
				flip := "a"
				if text[i] == 'a' {
					flip = "b"
				}
				return gz([]byte(text[:i] + flip + text[i+1:]))
			}
			return data
		}), "vectors.jsonl.gz: invalid: checksum mismatch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dst := openStore(t)
			vs := &vectorSink{space: ports.VectorSpace{Model: "hash-v1", Dimension: 4}, got: map[domain.MemoryID][]float32{}}
			_, err := archive.ImportFile(context.Background(), dst, c.file, archive.ImportOptions{BatchSize: 5, Vectors: vs})
			require.ErrorIs(t, err, domain.ErrInvalid)
			var ae *archive.Error
			require.True(t, errors.As(err, &ae), "%v", err)
			require.Contains(t, err.Error(), c.want)
			require.Zero(t, countMemories(t, dst), "nothing imported")
			require.Zero(t, vs.ids)

			_, _, err = archive.Verify(c.file, archive.Limits{})
			require.ErrorContains(t, err, c.want)
		})
	}
}
