package wiring

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/engram-memory/engram/adapters/esindex"
	"github.com/engram-memory/engram/adapters/httpapi"
	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/localembed"
	"github.com/engram-memory/engram/adapters/openaiembed"
	"github.com/engram-memory/engram/adapters/qdrantindex"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/ports"
)

// Search is the derived side of the store: the embedder and the two
// indexes search ranks with. Each index field comes with its dependency
// name, so each backend gets its own breaker and readiness entry.
type Search struct {
	Embedder ports.Embedder
	// EmbedderName is "embedder" for a remote embedder, "" for the local
	// one (in-process arithmetic: nothing to time out or break).
	EmbedderName string

	Vectors ports.VectorIndex
	// VectorsName is "qdrant", or "" for the in-process index, which
	// starts empty and is loaded from the store (LoadVectors) and is not
	// decorated (no network; search reads its centroids).
	VectorsName string
	// VectorCache is the in-process index's budget keeper when
	// ENGRAM_VECTOR_CACHE_BYTES is set (Vectors is then the cache): it
	// pages tenants in on demand, so nothing is loaded at start.
	VectorCache *app.VectorCache

	Text ports.TextIndex
	// TextName is "elasticsearch", or the store's name + "_text" for the
	// store's own full-text index.
	TextName string
	// Drift reports text entries that lag the store, when Text can tell.
	Drift ports.IndexDrift

	// Checks are the external indexes' /readyz entries.
	Checks []httpapi.Check
	// Close releases the external indexes.
	Close func() error
}

// TextExternal reports whether the text index is a backend of its own
// (Elasticsearch), not the store's full-text index.
func (s Search) TextExternal() bool { return s.TextName == "elasticsearch" }

// LoadVectors reports whether the vector index lives in this process and
// must be filled from the store at start.
func (s Search) LoadVectors() bool { return !s.VectorsExternal() && s.VectorCache == nil }

// VectorsExternal reports whether the vector index is a backend of its own
// (Qdrant), not in this process.
func (s Search) VectorsExternal() bool { return s.VectorsName != "" }

// OpenSearch opens the embedder (ENGRAM_EMBEDDER), the vector index (Qdrant
// at ENGRAM_QDRANT_URL, else in process) and the text index (Elasticsearch
// at ENGRAM_ELASTICSEARCH_URL, else the store's own, taken from b).
func OpenSearch(ctx context.Context, cfg config.Config, b Backend) (_ Search, err error) {
	s := Search{Text: b.Text, TextName: b.Name + "_text", Drift: b.Drift}
	var closers []func() error
	s.Close = func() error {
		var errs []error
		for _, c := range closers {
			errs = append(errs, c())
		}
		return errors.Join(errs...)
	}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()
	if s.Embedder, err = NewEmbedder(cfg); err != nil {
		return Search{}, fmt.Errorf("ENGRAM_EMBEDDER: %w", err)
	}
	if cfg.Embedder == "openai" {
		s.EmbedderName = "embedder"
	}
	switch {
	case cfg.QdrantURL != "":
		qc, err := qdrantConfig(cfg)
		if err != nil {
			return Search{}, err
		}
		// Connect, not Open: a Qdrant that is down at start leaves search
		// degraded (lexical only) until it is back; it does not stop the
		// start. Reported in /readyz, not required.
		q, err := qdrantindex.Connect(qc)
		if err != nil {
			return Search{}, fmt.Errorf("ENGRAM_QDRANT_URL: %w", err)
		}
		closers = append(closers, q.Close)
		s.Vectors, s.VectorsName = q, "qdrant"
		s.Checks = append(s.Checks, httpapi.Check{Name: "qdrant", Probe: q.Ping})
	case cfg.VectorCacheBytes > 0:
		s.VectorCache = app.NewVectorCache(app.VectorCacheDeps{
			Index: inproc.NewVectorIndex(), Memories: b.Memories, Embedder: s.Embedder, MaxBytes: cfg.VectorCacheBytes,
		})
		s.Vectors = s.VectorCache
	default:
		s.Vectors = inproc.NewVectorIndex()
	}
	switch {
	case cfg.ElasticURL != "":
		// Connect, as for Qdrant: down at start means vector-only search
		// until it is back.
		e, err := esindex.Connect(esindex.Config{Addresses: []string{cfg.ElasticURL}, Username: cfg.ElasticUser, Password: cfg.ElasticPassword})
		if err != nil {
			return Search{}, fmt.Errorf("ENGRAM_ELASTICSEARCH_URL: %w", err)
		}
		s.Text, s.TextName, s.Drift = e, "elasticsearch", nil
		s.Checks = append(s.Checks, httpapi.Check{Name: "elasticsearch", Probe: e.Ping})
	}
	return s, nil
}

// NewEmbedder builds the undecorated embedder cfg names: "local" (the
// default) or "openai" (any /v1/embeddings server).
func NewEmbedder(cfg config.Config) (ports.Embedder, error) {
	switch cfg.Embedder {
	case "", "local":
		return localembed.New(localembed.Options{})
	case "openai":
		return openaiembed.New(openaiembed.Config{BaseURL: cfg.EmbedURL, APIKey: cfg.EmbedAPIKey, Model: cfg.EmbedModel})
	}
	return nil, fmt.Errorf("embedder %q: want local or openai", cfg.Embedder)
}

// qdrantConfig reads host, gRPC port (6334 when absent) and TLS from
// ENGRAM_QDRANT_URL; config.Load has already checked its shape.
func qdrantConfig(cfg config.Config) (qdrantindex.Config, error) {
	u, err := url.Parse(cfg.QdrantURL)
	if err != nil {
		return qdrantindex.Config{}, fmt.Errorf("ENGRAM_QDRANT_URL: %w", err)
	}
	port := 6334
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return qdrantindex.Config{}, fmt.Errorf("ENGRAM_QDRANT_URL: port %q: %w", p, err)
		}
	}
	return qdrantindex.Config{Host: u.Hostname(), Port: port, APIKey: cfg.QdrantAPIKey, UseTLS: u.Scheme == "https"}, nil
}
