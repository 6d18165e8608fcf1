package archive_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/archive"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func openStore(t *testing.T) *sqlitestore.Store {
	t.Helper()
	s, err := sqlitestore.Open(context.Background(), sqlitestore.Config{Path: filepath.Join(t.TempDir(), "engram.db")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

var alice = domain.Tenant{OrgID: "acme", UserID: "alice"}

// seed writes n memories for tn the ordinary way, with an update and a
// delete among them so that history has every kind.
func seed(t *testing.T, s *sqlitestore.Store, tn domain.Tenant, n int) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	var ms []domain.Memory
	for i := range n {
		m, err := domain.NewMemory(tn, "notes", "fact number "+string(rune('a'+i%26))+time.Duration(i).String(),
			domain.Metadata{"i": i}, []string{"Work"}, now.Add(time.Duration(i)*time.Millisecond))
		require.NoError(t, err)
		ms = append(ms, m)
	}
	_, err := s.CreateBatch(ctx, tn, ms)
	require.NoError(t, err)
	_, err = s.Update(ctx, tn, ms[0].ID, "notes", func(m *domain.Memory) error { m.Text = "updated fact"; return nil })
	require.NoError(t, err)
	require.NoError(t, s.Delete(ctx, tn, []domain.MemoryID{ms[1].ID}, "notes"))
	_, err = s.EnsureApp(ctx, tn, "notes")
	require.NoError(t, err)
}

func export(t *testing.T, s ports.ArchiveSource, scope ports.ArchiveScope) (string, archive.Manifest) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "out.engram")
	f, err := os.Create(path)
	require.NoError(t, err)
	m, err := archive.Export(context.Background(), s, f, archive.ExportOptions{Scope: scope, Profile: "sqlite"})
	require.NoError(t, err)
	require.NoError(t, f.Close())
	return path, m
}

func sums(m archive.Manifest) map[string]string {
	out := map[string]string{}
	for _, x := range m.Members {
		out[x.Table] = x.SHA256
	}
	return out
}

// rewriteZip copies the archive at path, passing each entry's content
// through edit (nil keeps it; return nil from edit to drop the entry).
func rewriteZip(t *testing.T, path string, edit func(name string, data []byte) []byte) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	require.NoError(t, err)
	defer zr.Close()
	out := filepath.Join(t.TempDir(), "edited.engram")
	f, err := os.Create(out)
	require.NoError(t, err)
	zw := zip.NewWriter(f)
	for _, e := range zr.File {
		rc, err := e.Open()
		require.NoError(t, err)
		data, err := io.ReadAll(rc)
		require.NoError(t, err)
		_ = rc.Close()
		if edit != nil {
			data = edit(e.Name, data)
		}
		if data == nil {
			continue
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.Name, Method: zip.Store})
		require.NoError(t, err)
		_, err = w.Write(data)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	require.NoError(t, f.Close())
	return out
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	out, err := io.ReadAll(zr)
	require.NoError(t, err)
	return out
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

func countMemories(t *testing.T, s ports.ArchiveSource) int {
	t.Helper()
	n := 0
	tb, _ := ports.ArchiveTableNamed("memories")
	require.NoError(t, s.ArchiveSnapshot(context.Background(), func(sn ports.ArchiveSnapshot) error {
		return sn.Scan(context.Background(), tb, ports.ArchiveScope{}, func(ports.ArchiveRow) error { n++; return nil })
	}))
	return n
}

// fixManifest recomputes every member's rows, bytes and checksum, as a
// careful forger (or a newer engram) would.
func fixManifest(t *testing.T, path string) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	require.NoError(t, err)
	contents := map[string][]byte{}
	for _, e := range zr.File {
		rc, err := e.Open()
		require.NoError(t, err)
		contents[e.Name], err = io.ReadAll(rc)
		require.NoError(t, err)
		_ = rc.Close()
	}
	_ = zr.Close()
	var m map[string]any
	require.NoError(t, json.Unmarshal(contents[archive.ManifestName], &m))
	for _, x := range m["members"].([]any) {
		mem := x.(map[string]any)
		data := gunzip(t, contents[mem["name"].(string)])
		sum := sha256.Sum256(data)
		mem["sha256"] = hex.EncodeToString(sum[:])
		mem["bytes"] = len(data)
		mem["rows"] = bytes.Count(data, []byte("\n"))
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return rewriteZip(t, path, func(name string, data []byte) []byte {
		if name == archive.ManifestName {
			return b
		}
		return data
	})
}

func memberText(t *testing.T, path, name string) string {
	t.Helper()
	var out string
	rewriteZip(t, path, func(n string, data []byte) []byte {
		if n == name {
			out = string(gunzip(t, data))
		}
		return data
	})
	return out
}

func addEntry(t *testing.T, path, name string, data []byte) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	require.NoError(t, err)
	defer zr.Close()
	out := filepath.Join(t.TempDir(), "added.engram")
	f, err := os.Create(out)
	require.NoError(t, err)
	zw := zip.NewWriter(f)
	for _, e := range zr.File {
		require.NoError(t, zw.Copy(e))
	}
	w, err := zw.Create(name)
	require.NoError(t, err)
	_, err = w.Write(data)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.NoError(t, f.Close())
	return out
}
