package domain_test

import (
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

func TestNewIDIsCanonicalUUIDv7(t *testing.T) {
	now := time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.UTC)
	id := domain.NewID(now)
	require.True(t, domain.ValidID(id), id)
	require.Equal(t, byte('7'), id[14], "version nibble")
	require.Contains(t, "89ab", string(id[19]), "RFC 9562 variant")
	// The first 48 bits are the Unix time in milliseconds, unless an earlier
	// call of this process already used a later millisecond.
	ms, err := strconv.ParseInt(id[0:8]+id[9:13], 16, 64)
	require.NoError(t, err)
	require.GreaterOrEqual(t, ms, now.UnixMilli())
}

func TestNewIDsSortByCreation(t *testing.T) {
	base := time.Now()
	var ids []string
	// Same millisecond, more ids than the 12-bit counter holds: the
	// generator must roll into the next millisecond, not wrap.
	for range 5000 {
		ids = append(ids, domain.NewID(base))
	}
	// A clock that steps back must not make ids go back.
	ids = append(ids, domain.NewID(base.Add(-time.Hour)))
	ids = append(ids, domain.NewID(base.Add(time.Second)))
	for i := 1; i < len(ids); i++ {
		require.Less(t, ids[i-1], ids[i], "id %d does not sort after id %d", i, i-1)
	}
}

func TestNewIDConcurrentCallsAreUnique(t *testing.T) {
	const workers, each = 8, 500
	out := make([][]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				out[w] = append(out[w], domain.NewID(time.Now()))
			}
		}()
	}
	wg.Wait()
	all := slices.Concat(out...)
	slices.Sort(all)
	require.Len(t, slices.Compact(all), workers*each)
}

func TestValidID(t *testing.T) {
	for s, want := range map[string]bool{
		"01890a5d-ac96-774b-bcce-b302099a8057":  true,
		"01890A5D-AC96-774B-BCCE-B302099A8057":  false, // upper case is not canonical
		"01890a5d-ac96-774b-bcce-b302099a805":   false,
		"01890a5d-ac96-774b-bcce-b302099a80577": false,
		"01890a5dac96-774b-bcce-b302099a80577":  false,
		"01890a5d-ac96-774b-bcce-b302099a805g":  false,
		"01890a5d_ac96_774b_bcce_b302099a8057":  false,
		"":                                      false,
		"../../etc/passwd":                      false,
	} {
		require.Equal(t, want, domain.ValidID(s), "%q", s)
	}
}

func TestParseMemoryIDNamesTheField(t *testing.T) {
	id := domain.NewMemoryID(time.Now())
	got, err := domain.ParseMemoryID(string(id))
	require.NoError(t, err)
	require.Equal(t, id, got)
	_, err = domain.ParseMemoryID("42")
	requireInvalidFieldNamed(t, err, "id")
}
