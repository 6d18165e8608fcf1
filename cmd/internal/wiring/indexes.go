package wiring

import (
	"fmt"

	"github.com/engram-memory/engram/adapters/localembed"
	"github.com/engram-memory/engram/adapters/openaiembed"
	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/ports"
)

// EmbedderConfig selects the embedder: "local" (the default) or "openai".
type EmbedderConfig struct {
	Kind, URL, APIKey, Model string
}

// NewEmbedder builds the undecorated embedder c names. engramd and the CLI
// commands that embed (reindex, eval, tune-fusion, bench) all choose here.
func NewEmbedder(c EmbedderConfig) (ports.Embedder, error) {
	switch c.Kind {
	case "", "local":
		return localembed.New(localembed.Options{})
	case "openai":
		return openaiembed.New(openaiembed.Config{BaseURL: c.URL, APIKey: c.APIKey, Model: c.Model})
	}
	return nil, fmt.Errorf("embedder %q: want local or openai", c.Kind)
}

// TextIndexOf returns the store's own text index, undecorated; it also
// reports drift (ports.IndexDrift), which a decorator would hide.
func TextIndexOf(store any) (ports.TextIndex, error) {
	switch st := store.(type) {
	case *sqlitestore.Store:
		return st.TextIndex(), nil
	case *pgstore.Store:
		return st.TextIndex(pgstore.TextOptions{}), nil
	}
	return nil, fmt.Errorf("wiring: no text index for store %T", store)
}
