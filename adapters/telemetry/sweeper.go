package telemetry

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/engram-memory/engram/domain"
)

// SweepStats are the retention sweeper's counters (app.SweepStats).
type SweepStats struct {
	Swept     map[string]int64
	LastSweep time.Time
	Failures  int64
}

// sweptStores are the stores a sweep erases from, each a label value of
// engram_retention_swept_total.
var sweptStores = []string{
	domain.StoreMemories, domain.StoreHistory, domain.StoreAccessLog, domain.StoreTextIndex,
	domain.StoreVectorIndex, domain.StoreQueryLog, domain.StoreFeedback, domain.StoreUISessions,
	domain.StoreOAuthTokens,
}

// WatchSweeper exports the retention sweeper: rows erased per store
// (engram_retention_swept_total{store}), failed sweeps, and the lag: the
// seconds since the start of the last sweep that finished, before which
// every expired memory and every row past its org's retention is gone
// (engram_retention_lag_seconds; -1 before the first sweep finishes).
func (t *T) WatchSweeper(stats func() SweepStats) error {
	errs := []error{
		t.Registry.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "engram_retention_lag_seconds",
			Help: "Seconds since the start of the last finished retention sweep; everything expired before it is erased (-1: none finished yet).",
		}, func() float64 {
			last := stats().LastSweep
			if last.IsZero() {
				return -1
			}
			return time.Since(last).Seconds()
		})),
		t.Registry.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "engram_retention_sweep_failures_total",
			Help: "Retention sweeps that stopped on a failure (the next one resumes).",
		}, func() float64 { return float64(stats().Failures) })),
	}
	for _, store := range sweptStores {
		errs = append(errs, t.Registry.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "engram_retention_swept_total",
			Help:        "Rows or index entries the retention sweeper erased, by store.",
			ConstLabels: prometheus.Labels{"store": store},
		}, func() float64 { return float64(stats().Swept[store]) })))
	}
	return errors.Join(errs...)
}
