package archive_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/archive"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func TestRoundTripGivesTheSameChecksums(t *testing.T) {
	src := openStore(t)
	seed(t, src, alice, 50)
	path, m1 := export(t, src, ports.ArchiveScope{})
	require.Equal(t, archive.FormatVersion, m1.FormatVersion)
	mem, _ := m1.Member("memories")
	require.EqualValues(t, 50, mem.Rows)

	dst := openStore(t)
	rep, err := archive.ImportFile(context.Background(), dst, path, archive.ImportOptions{})
	require.NoError(t, err)
	require.Equal(t, "engram", rep.Format)
	require.Equal(t, []domain.OrgID{"acme"}, rep.Orgs)
	_, m2 := export(t, dst, ports.ArchiveScope{})
	require.Equal(t, sums(m1), sums(m2))

	again, err := archive.ImportFile(context.Background(), dst, path, archive.ImportOptions{})
	require.NoError(t, err)
	for _, tr := range again.Tables {
		require.Zero(t, tr.Inserted, "%s: a second import duplicates nothing", tr.Table)
	}
}

func TestUnknownFieldsSurviveARoundTrip(t *testing.T) {
	src := openStore(t)
	seed(t, src, alice, 3)
	path, _ := export(t, src, ports.ArchiveScope{})
	future := rewriteZip(t, path, func(name string, data []byte) []byte {
		if name != "memories.jsonl.gz" {
			return data
		}
		lines := bytes.Split(bytes.TrimSuffix(gunzip(t, data), []byte("\n")), []byte("\n"))
		lines[0] = append(bytes.TrimSuffix(lines[0], []byte("}")), []byte(`,"zz_from_the_future":{"b":2,"a":1}}`)...)
		return gz(append(bytes.Join(lines, []byte("\n")), '\n'))
	})
	future = fixManifest(t, future)
	dst := openStore(t)
	_, err := archive.ImportFile(context.Background(), dst, future, archive.ImportOptions{})
	require.NoError(t, err)
	out, _ := export(t, dst, ports.ArchiveScope{})
	content := memberText(t, out, "memories.jsonl.gz")
	require.Contains(t, content, `"zz_from_the_future":{"a":1,"b":2}}`)
}

func TestBadArchivesImportNothing(t *testing.T) {
	src := openStore(t)
	seed(t, src, alice, 30)
	path, _ := export(t, src, ports.ArchiveScope{})
	raw, err := os.ReadFile(path)
	require.NoError(t, err)

	truncated := path + ".cut"
	require.NoError(t, os.WriteFile(truncated, raw[:len(raw)*2/3], 0o600))

	tampered := rewriteZip(t, path, func(name string, data []byte) []byte {
		if name == "memories.jsonl.gz" {
			return gz(bytes.Replace(gunzip(t, data), []byte("fact number"), []byte("fact NUMBER"), 1))
		}
		return data
	})
	badRow := fixManifest(t, rewriteZip(t, path, func(name string, data []byte) []byte {
		if name == "memories.jsonl.gz" {
			lines := strings.Split(string(gunzip(t, data)), "\n")
			lines[6] = strings.Replace(lines[6], `"state":"active"`, `"state":"forgotten"`, 1)
			return gz([]byte(strings.Join(lines, "\n")))
		}
		return data
	}))
	future := rewriteZip(t, path, func(name string, data []byte) []byte {
		if name == archive.ManifestName {
			return bytes.Replace(data, []byte(`"format_version": 1`), []byte(`"format_version": 7`), 1)
		}
		return data
	})
	traversal := rewriteZip(t, path, func(name string, data []byte) []byte { return data })
	traversal = addEntry(t, traversal, "../../etc/evil.jsonl.gz", gz([]byte("{}\n")))
	bomb := rewriteZip(t, path, func(name string, data []byte) []byte {
		if name == "apps.jsonl.gz" {
			return gz(bytes.Repeat([]byte("A"), 50<<20))
		}
		return data
	})

	cases := []struct {
		name, file, want string
	}{
		{"truncated", truncated, "truncated or corrupted"},
		{"tampered member", tampered, "memories.jsonl.gz: invalid: checksum mismatch"},
		{"invalid row", badRow, "memories.jsonl.gz line 7: invalid state"},
		{"unknown version", future, "unknown format version 7"},
		{"path traversal", traversal, "../../etc/evil.jsonl.gz: invalid: member name is not allowed"},
		{"zip bomb", bomb, "apps.jsonl.gz"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dst := openStore(t)
			_, err := archive.ImportFile(context.Background(), dst, c.file, archive.ImportOptions{BatchSize: 5})
			require.Error(t, err)
			require.ErrorIs(t, err, domain.ErrInvalid)
			var ae *archive.Error
			require.True(t, errors.As(err, &ae), "%v", err)
			require.Contains(t, err.Error(), c.want)
			require.Zero(t, countMemories(t, dst), "nothing imported")
		})
	}
}

// TestVerifyShortcutsGiveTheSameResult: backup verify's trial restore
// imports with Checked (no checking pass) and re-exports with SumsOnly (no
// compression); each gives what the full path gives: the same rows, the
// same report counts and the same manifest sums, and SumsOnly writes no
// member bytes.
func TestVerifyShortcutsGiveTheSameResult(t *testing.T) {
	src := openStore(t)
	seed(t, src, alice, 50)
	path, m1 := export(t, src, ports.ArchiveScope{})

	full, checked := openStore(t), openStore(t)
	repFull, err := archive.ImportFile(context.Background(), full, path, archive.ImportOptions{BatchSize: 7})
	require.NoError(t, err)
	repChecked, err := archive.ImportFile(context.Background(), checked, path, archive.ImportOptions{BatchSize: 7, Checked: true})
	require.NoError(t, err)
	require.Equal(t, repFull, repChecked)

	var buf bytes.Buffer
	m2, err := archive.Export(context.Background(), checked, &buf, archive.ExportOptions{Profile: "sqlite", SumsOnly: true})
	require.NoError(t, err)
	require.Equal(t, sums(m1), sums(m2))
	for _, x := range m1.Members {
		y, ok := m2.Member(x.Table)
		require.True(t, ok, x.Table)
		require.Equal(t, x.Rows, y.Rows, x.Table)
		require.Equal(t, x.Bytes, y.Bytes, x.Table)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	for _, f := range zr.File {
		if f.Name != archive.ManifestName {
			require.Zero(t, f.UncompressedSize64, "%s: no member content is written", f.Name)
		}
	}
}

// The checking pass and Verify read an archive's members concurrently; a
// file with two bad members still always fails on the first in table
// order, as a read in turn would, and imports nothing.
func TestTwoBadMembersFailOnTheFirstEveryTime(t *testing.T) {
	src := openStore(t)
	seed(t, src, alice, 30)
	path, _ := export(t, src, ports.ArchiveScope{})
	// memory_history is the longer member here, so a concurrent read
	// finishing first with its own error is the race this test would see.
	bad := rewriteZip(t, path, func(name string, data []byte) []byte {
		switch name {
		case "memories.jsonl.gz", "memory_history.jsonl.gz":
			return gz(append(gunzip(t, data), []byte("not json\n")...))
		}
		return data
	})
	for range 10 {
		dst := openStore(t)
		_, err := archive.ImportFile(context.Background(), dst, bad, archive.ImportOptions{BatchSize: 5})
		require.ErrorContains(t, err, "memories.jsonl.gz")
		require.NotContains(t, err.Error(), "memory_history")
		require.Zero(t, countMemories(t, dst), "nothing imported")
		_, _, err = archive.Verify(bad, archive.Limits{})
		require.ErrorContains(t, err, "memories.jsonl.gz")
		require.NotContains(t, err.Error(), "memory_history")
	}
}
