package wiring

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/ports"
)

// services are the use cases beyond memories and search.
type services struct {
	feedback    *app.FeedbackService
	experiments *app.ExperimentService
	searcher    *app.ExperimentSearch // search with experiment variants and query logging
	sessions    *app.SessionService
	rateLimits  *app.RateLimitService // nil when every ENGRAM_RATE_* is 0
	privacy     *app.PrivacyService   // erasure, subject access, audit trail
	inference   *app.Inference        // infer: true; Enabled only with ENGRAM_LLM_URL
}

func newServices(cfg config.Config, log *slog.Logger, b Backend, c Caches, core Core, privacy *app.PrivacyService, llm ports.LLM) (services, error) {
	s := services{privacy: privacy}
	s.inference = app.NewInference(app.InferenceDeps{LLM: llm, Writer: b.Inference, Events: b.Inference, Finder: core.Search,
		Memories: core.Memories, MaxTokens: cfg.LLMMaxTokens})
	s.feedback = app.NewFeedbackService(app.FeedbackDeps{Feedback: b.Feedback, Queries: b.QueryLog, Experiments: b.Experiments, Logger: log, Guard: privacy})
	s.experiments = app.NewExperimentService(app.ExperimentDeps{Experiments: b.Experiments, Feedback: b.Feedback, Queries: b.QueryLog, Logger: log})
	s.searcher = app.NewExperimentSearch(core.Search, s.experiments, s.feedback)
	s.sessions = app.NewSessionService(app.SessionDeps{Sessions: c.Sessions, Memories: core.Memories, Finder: core.Search, Logger: log, Guard: privacy})
	rl, err := newRateLimits(cfg, c.Limiter, log)
	s.rateLimits = rl
	return s, err
}

// newRateLimits wires the per-principal token buckets MCP tool calls draw
// from (the REST routes use the same limiter and limits through httpapi).
// A zero ENGRAM_RATE_* disables its class; all zero disables limiting.
func newRateLimits(cfg config.Config, l ports.RateLimiter, log *slog.Logger) (*app.RateLimitService, error) {
	if cfg.RateReads == 0 && cfg.RateWrites == 0 && cfg.RateSearch == 0 {
		return nil, nil
	}
	limits := app.RateLimits{
		Reads: perMinuteOr(cfg.RateReads), Writes: perMinuteOr(cfg.RateWrites), Search: perMinuteOr(cfg.RateSearch),
	}
	rl, err := app.NewRateLimitService(app.RateLimitDeps{Limiter: l, Limits: limits, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("ENGRAM_RATE_*: %w", err)
	}
	return rl, nil
}

// unlimited stands in for a disabled class where a limit is mandatory.
const unlimited = 1 << 30

func perMinuteOr(n int) ports.RateLimit {
	if n == 0 {
		n = unlimited
	}
	return ports.RateLimit{Burst: n, Period: time.Minute}
}
