package qdrantindex

import (
	"context"
	"fmt"

	"github.com/qdrant/go-client/qdrant"
)

// Connect builds the client without asking the server anything: gRPC dials
// lazily, so a Qdrant that is down at start costs failed calls (and the
// breaker, and degraded search) until it is back, not a refused start.
func Connect(cfg Config) (*Index, error) {
	// The version check would ask the server now, and log through the
	// global logger when it is down.
	c, err := qdrant.NewClient(&qdrant.Config{Host: cfg.Host, Port: cfg.Port, APIKey: cfg.APIKey, UseTLS: cfg.UseTLS,
		SkipCompatibilityCheck: true})
	if err != nil {
		return nil, fmt.Errorf("qdrantindex: dial %s:%d: %w", cfg.Host, cfg.Port, mapErr(err))
	}
	return New(c, cfg.Options), nil
}

// Ping asks Qdrant's health check; /readyz calls it.
func (x *Index) Ping(ctx context.Context) error {
	ctx, cancel := x.deadline(ctx)
	defer cancel()
	if _, err := x.c.HealthCheck(ctx); err != nil {
		return fmt.Errorf("qdrantindex: health check: %w", mapErr(err))
	}
	return nil
}
