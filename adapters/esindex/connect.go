package esindex

import (
	"context"
	"fmt"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/engram-memory/engram/domain"
)

// Connect builds the client without asking the cluster anything, so that a
// cluster that is down at start costs failed calls (and the breaker, and
// degraded search) until it is back, not a refused start. The index is
// created with its mapping on the first write that finds it missing (see
// ensureOnce): never by a bulk write's dynamic mapping.
func Connect(cfg Config) (*Index, error) {
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: cfg.Addresses, Username: cfg.Username, Password: cfg.Password, APIKey: cfg.APIKey})
	if err != nil {
		return nil, fmt.Errorf("esindex: %w", domain.Invalid("elasticsearch_url", "%v", err))
	}
	return New(es, cfg.Options), nil
}

// Ping checks the cluster answers; /readyz calls it.
func (x *Index) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, x.opts.Timeout)
	defer cancel()
	res, err := esapi.PingRequest{}.Do(ctx, x.es)
	if err != nil {
		return fmt.Errorf("esindex: ping: %w", mapErr(err))
	}
	defer drain(res)
	if res.IsError() {
		return fmt.Errorf("esindex: ping: %w", statusErr(res))
	}
	return nil
}

// ensureOnce creates the index with its mapping before the first write of
// this process; until that succeeds every write tries again.
func (x *Index) ensureOnce(ctx context.Context) error {
	if x.ensured.Load() {
		return nil
	}
	if err := x.Ensure(ctx); err != nil {
		return err
	}
	x.ensured.Store(true)
	return nil
}
