package archive

import (
	"testing"

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
