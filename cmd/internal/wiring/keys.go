package wiring

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/cmd/internal/config"
)

// newKeys builds the API key service over the store's api_keys table and,
// with Valkey, subscribes it to revocations from every other instance
// until the returned stop is called.
func newKeys(ctx context.Context, b Backend, c Caches, log *slog.Logger) (*app.KeyService, func() error, error) {
	if b.Keys == nil {
		return nil, nil, fmt.Errorf("wiring: the %s store has no api_keys table", b.Name)
	}
	keys := app.NewKeyService(app.KeyDeps{Keys: b.Keys, Revocations: c.Revocations, Logger: log})
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if err := keys.Watch(wctx); err != nil {
		cancel()
		return nil, nil, fmt.Errorf("ENGRAM_VALKEY_URL: api key revocations: %w", err)
	}
	return keys, func() error { cancel(); return nil }, nil
}

// OpenKeys opens what `engram key` needs: the store and, for revocations to
// reach running servers at once, the caches. close releases both.
func OpenKeys(ctx context.Context, cfg config.Config, log *slog.Logger) (keys *app.KeyService, close func() error, err error) {
	var cl closers
	defer func() {
		if err != nil {
			_ = cl.Close()
		}
	}()
	b, err := OpenStore(ctx, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	cl.add(b.Close)
	c, err := OpenCaches(ctx, cfg, log, b.SessionKeys)
	if err != nil {
		return nil, nil, err
	}
	cl.add(c.Close)
	keys = app.NewKeyService(app.KeyDeps{Keys: b.Keys, Revocations: c.Revocations, Logger: log})
	return keys, cl.Close, nil
}
