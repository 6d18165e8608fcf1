package wiring

import (
	"fmt"
	"time"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/ports"
)

// buildFeedback wires feedback, experiments and experiment-aware search over
// the store's own feedback, query-log and experiment tables.
func (s *System) buildFeedback() error {
	fb, ok1 := s.raw.(ports.FeedbackStore)
	ql, ok2 := s.raw.(ports.QueryLog)
	ex, ok3 := s.raw.(ports.ExperimentStore)
	if !ok1 || !ok2 || !ok3 {
		return fmt.Errorf("wiring: store %T lacks feedback, query log or experiment tables", s.raw)
	}
	s.Feedback = app.NewFeedbackService(app.FeedbackDeps{Feedback: fb, Queries: ql, Experiments: ex, Logger: s.Logger})
	s.Experiments = app.NewExperimentService(app.ExperimentDeps{Experiments: ex, Feedback: fb, Queries: ql, Logger: s.Logger})
	s.Searcher = app.NewExperimentSearch(s.Search, s.Experiments, s.Feedback)
	return nil
}

// buildRateLimits wires the per-principal token buckets MCP tool calls draw
// from (the REST routes use the same limiter and limits through httpapi).
// A zero ENGRAM_RATE_* disables its class; all zero disables limiting.
func (s *System) buildRateLimits() error {
	cfg := s.Config
	if cfg.RateReads == 0 && cfg.RateWrites == 0 && cfg.RateSearch == 0 {
		return nil
	}
	limits := app.RateLimits{
		Reads: perMinuteOr(cfg.RateReads), Writes: perMinuteOr(cfg.RateWrites), Search: perMinuteOr(cfg.RateSearch),
	}
	rl, err := app.NewRateLimitService(app.RateLimitDeps{Limiter: s.Limiter, Limits: limits, Logger: s.Logger})
	if err != nil {
		return fmt.Errorf("ENGRAM_RATE_*: %w", err)
	}
	s.RateLimits = rl
	return nil
}

// unlimited stands in for a disabled class where a limit is mandatory.
const unlimited = 1 << 30

func perMinuteOr(n int) ports.RateLimit {
	if n == 0 {
		n = unlimited
	}
	return ports.RateLimit{Burst: n, Period: time.Minute}
}
