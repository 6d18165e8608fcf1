package ports

import "context"

// Embedder turns texts into vectors for the vector index.
//
// Embed returns one vector per text, in order, each of length Dimension().
// Vectors are L2-normalised (unit length), so a dot product is their cosine
// similarity; adapters whose backend does not normalise do it themselves.
// The same text embedded twice by the same model gives the same vector (up to
// the backend's floating-point noise). An empty batch returns an empty result
// without calling the backend.
//
// Model names the model (e.g. "text-embedding-3-small", "local-hash-v1").
// Dimension is the vector length, or 0 while it is not known yet (a remote
// embedder learns it from its first answer). An answer whose model or length
// differs from what the embedder already knows is refused with an error
// wrapping domain.ErrConflict whose message names `engram reindex`: vectors of
// two models are never mixed in one index.
//
// Errors: an input the backend refuses (too long, empty) wraps
// domain.ErrInvalid; a backend that is down, slow past its deadline or keeps
// answering 429/5xx after retries wraps domain.ErrUnavailable. Embed is safe
// for concurrent use.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	Model() string
	Dimension() int
}
