package telemetry_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// Every 503 is counted under the dependency that caused it, and the label
// set stays bounded whatever names arrive: folded to [a-z0-9_], and past
// the bound counted as "other".
func TestUnavailableCountedByBoundedDependency(t *testing.T) {
	tel := newT(t, "")
	tel.RecordUnavailable("postgres")
	tel.RecordUnavailable("postgres")
	tel.RecordUnavailable("replay cache")
	tel.RecordUnavailable("")
	require.EqualValues(t, 2, metric(t, tel, "engram_http_unavailable_total", map[string]string{"dependency": "postgres"}).GetCounter().GetValue())
	require.EqualValues(t, 1, metric(t, tel, "engram_http_unavailable_total", map[string]string{"dependency": "replay_cache"}).GetCounter().GetValue())
	require.EqualValues(t, 1, metric(t, tel, "engram_http_unavailable_total", map[string]string{"dependency": "unknown"}).GetCounter().GetValue())

	for i := range 1000 {
		tel.RecordUnavailable(fmt.Sprintf("junk %d \x00/../%s", i, string(make([]byte, 100))))
	}
	mfs, err := tel.Registry.Gather()
	require.NoError(t, err)
	series := 0
	for _, mf := range mfs {
		if mf.GetName() == "engram_http_unavailable_total" {
			series = len(mf.GetMetric())
			for _, m := range mf.GetMetric() {
				require.Regexp(t, `^[a-z0-9_]{1,32}$`, m.GetLabel()[0].GetValue())
			}
		}
	}
	require.LessOrEqual(t, series, 25, "bounded label set (24 names + other)")
	require.Positive(t, metric(t, tel, "engram_http_unavailable_total", map[string]string{"dependency": "other"}).GetCounter().GetValue())
}
