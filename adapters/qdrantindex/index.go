package qdrantindex

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// Config dials Qdrant's gRPC port (6334 by default).
type Config struct {
	Host   string
	Port   int
	APIKey string
	UseTLS bool
	Options
}

// Options tune an Index over an existing client.
type Options struct {
	// CollectionPrefix precedes the model name; "" means "engram_".
	CollectionPrefix string
	// Timeout bounds every call; 0 means 5s.
	Timeout time.Duration
}

// Index implements ports.VectorIndex on Qdrant.
type Index struct {
	c    *qdrant.Client
	opts Options

	mu         sync.RWMutex
	space      ports.VectorSpace
	collection string
}

var _ ports.VectorIndex = (*Index)(nil)

// Open dials Qdrant and checks it answers.
func Open(ctx context.Context, cfg Config) (*Index, error) {
	c, err := qdrant.NewClient(&qdrant.Config{Host: cfg.Host, Port: cfg.Port, APIKey: cfg.APIKey, UseTLS: cfg.UseTLS})
	if err != nil {
		return nil, fmt.Errorf("qdrantindex: dial %s:%d: %w", cfg.Host, cfg.Port, mapErr(err))
	}
	x := New(c, cfg.Options)
	ctx, cancel := x.deadline(ctx)
	defer cancel()
	if _, err := c.HealthCheck(ctx); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("qdrantindex: health check: %w", mapErr(err))
	}
	return x, nil
}

// New wraps a client.
func New(c *qdrant.Client, o Options) *Index {
	if o.CollectionPrefix == "" {
		o.CollectionPrefix = "engram_"
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	return &Index{c: c, opts: o}
}

// Close closes the client.
func (x *Index) Close() error { return x.c.Close() }

func (x *Index) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, x.opts.Timeout)
}

// Bind creates engram_<model> with the space's size and cosine distance and
// keyword indexes on org_id and user_id, or checks the existing one's size.
func (x *Index) Bind(ctx context.Context, s ports.VectorSpace) error {
	if s.Model == "" || s.Dimension <= 0 {
		return fmt.Errorf("qdrantindex: bind: %w", domain.Invalid("space", "needs a model and a positive dimension"))
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.space.Dimension != 0 {
		if x.space != s {
			return fmt.Errorf("qdrantindex: bound to %s (%d dimensions), not %s (%d dimensions); run `engram reindex` after changing models: %w",
				x.space.Model, x.space.Dimension, s.Model, s.Dimension, domain.ErrConflict)
		}
		return nil
	}
	name := CollectionName(x.opts.CollectionPrefix, s.Model)
	ctx, cancel := x.deadline(ctx)
	defer cancel()
	exists, err := x.c.CollectionExists(ctx, name)
	if err != nil {
		return fmt.Errorf("qdrantindex: bind %s: %w", name, mapErr(err))
	}
	if exists {
		info, err := x.c.GetCollectionInfo(ctx, name)
		if err != nil {
			return fmt.Errorf("qdrantindex: bind %s: %w", name, mapErr(err))
		}
		if size := info.GetConfig().GetParams().GetVectorsConfig().GetParams().GetSize(); size != uint64(s.Dimension) {
			return fmt.Errorf("qdrantindex: collection %s holds %d-dimensional vectors, the embedder makes %d; run `engram reindex`: %w",
				name, size, s.Dimension, domain.ErrConflict)
		}
	} else if err := x.create(ctx, name, s.Dimension); err != nil {
		return err
	}
	x.space, x.collection = s, name
	return nil
}

func (x *Index) create(ctx context.Context, name string, dim int) error {
	err := x.c.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName: name,
		VectorsConfig:  qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: uint64(dim), Distance: qdrant.Distance_Cosine}),
	})
	if err != nil && status.Code(unwrapAll(err)) != codes.AlreadyExists {
		return fmt.Errorf("qdrantindex: create %s: %w", name, mapErr(err))
	}
	wait := true
	for _, field := range []string{keyOrg, keyUser, keyApp, keyCategories} {
		ft := qdrant.FieldType_FieldTypeKeyword
		if _, err := x.c.CreateFieldIndex(ctx, &qdrant.CreateFieldIndexCollection{CollectionName: name, FieldName: field, FieldType: &ft, Wait: &wait}); err != nil {
			return fmt.Errorf("qdrantindex: index %s.%s: %w", name, field, mapErr(err))
		}
	}
	return nil
}

func (x *Index) bound() (string, int, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.collection == "" {
		return "", 0, fmt.Errorf("qdrantindex: used before Bind: %w", domain.ErrConflict)
	}
	return x.collection, x.space.Dimension, nil
}
