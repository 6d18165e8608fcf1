package archive

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/ports"
)

var decodeSeeds = []string{
	`{"id":"0190a1b2-0000-7000-8000-000000000001","org_id":"acme","user_id":"alice","app_id":"notes","text":"likes tea","metadata":{"i":1},"categories":["a"],"state":"active","erased":false,"created_at":"2026-06-01T09:00:00.123456Z","updated_at":"2026-06-01T09:00:00.123456Z"}`,
	`{"id":"x","org_id":"acme","user_id":"alice","app_id":"notes","text":"a \"quoted\"\nline é","metadata":{"b":1,"a":[1.5,null]},"categories":[],"state":"active","erased":true,"created_at":"2026-06-01T09:00:00Z","updated_at":"2026-06-01T09:00:00+02:00"}`,
	`{"id":"x","org_id":"acme","user_id":"alice","app_id":"notes","text":"t","metadata":{},"categories":[],"state":"active","erased":false,"created_at":"2026-06-01T09:00:00Z","updated_at":"2026-06-01T09:00:00Z","future":1}`,
	`{"id":"x", "org_id":"acme"}`, `{"id":1}`, `{}`, `{"id":"x","id":"y"}`, `{"text":}`, `{"erased":tru}`,
}

// Whatever the fast path accepts, the full path reads the same way.
func FuzzDecodeFastPath(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	tables := []ports.ArchiveTable{}
	for _, name := range []string{"memories", "feedback_events", "experiments"} {
		tb, _ := ports.ArchiveTableNamed(name)
		tables = append(tables, tb)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		for _, tb := range tables {
			fast, ok := decodeFast(tb, line)
			if !ok {
				continue
			}
			slow, err := decodeSlow(tb, line)
			require.NoError(t, err, "fast path accepted %q", line)
			require.Equal(t, slow, fast, "%q", line)
		}
	})
}

func TestDecodeFastPathTakesArchiveLines(t *testing.T) {
	tb, _ := ports.ArchiveTableNamed("memories")
	for i, s := range decodeSeeds[:2] {
		_, ok := decodeFast(tb, []byte(s))
		require.True(t, ok, "seed %d", i)
	}
	_, ok := decodeFast(tb, []byte(decodeSeeds[2]))
	require.False(t, ok, "an unknown field takes the full path, which keeps it")
}

// expires_at (added after format version 1 shipped) is left out of a line
// when a memory has none, so an archive without expiries keeps its bytes,
// and read back either way; an older archive's line without it decodes as
// no expiry.
func TestExpiryIsOmittedWhenUnset(t *testing.T) {
	tb, _ := ports.ArchiveTableNamed("memories")
	col := tb.Col("expires_at")
	row, err := decode(tb, []byte(decodeSeeds[0]))
	require.NoError(t, err)
	require.Nil(t, row.Values[col])
	line, err := newEncoder().encode(tb, row)
	require.NoError(t, err)
	require.Equal(t, strings.TrimSuffix(decodeSeeds[0], "}")+`,"agent_id":null,"run_id":null}`, string(line),
		"no expiry: the line is as before expires_at existed")

	row.Values[col] = time.Date(2027, 1, 2, 3, 4, 5, 6789, time.UTC)
	line, err = newEncoder().encode(tb, row)
	require.NoError(t, err)
	require.Contains(t, string(line), `,"expires_at":"2027-01-02T03:04:05.000006Z"}`)
	for _, dec := range []func(ports.ArchiveTable, []byte) (ports.ArchiveRow, error){decode, decodeSlow} {
		back, err := dec(tb, line)
		require.NoError(t, err)
		require.Equal(t, time.Date(2027, 1, 2, 3, 4, 5, 6000, time.UTC), back.Values[col])
		require.Nil(t, back.Extra)
	}
}
