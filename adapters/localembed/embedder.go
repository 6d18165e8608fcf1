package localembed

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// DefaultDimension matches the common small sentence-embedding size, so that
// index memory and scan costs are those of a real model.
const DefaultDimension = 384

// ModelName identifies this feature set. Change it whenever features or
// weights change: vectors of two versions must not share an index.
const ModelName = "local-hash-v1"

// Feature family weights. Unigrams carry most of the signal; bigrams reward
// word order and exact phrases; n-grams are many per word, so each is light.
const (
	weightWord   = 1.0
	weightStem   = 0.5
	weightBigram = 0.6
	weightNgram  = 0.5
	weightStop   = 0.08 // stop words still count a little: "to be or not to be"
)

// Embedder is the local hashing embedder. The zero value is not usable; use
// New.
type Embedder struct {
	dim int
}

var _ ports.Embedder = (*Embedder)(nil)

// Options configure New.
type Options struct {
	Dimension int // 0 means DefaultDimension
}

// New returns an embedder of the given dimension (32..4096).
func New(o Options) (*Embedder, error) {
	if o.Dimension == 0 {
		o.Dimension = DefaultDimension
	}
	if o.Dimension < 32 || o.Dimension > 4096 {
		return nil, fmt.Errorf("localembed: dimension %d: %w", o.Dimension, domain.Invalid("dimension", "must be between 32 and 4096"))
	}
	return &Embedder{dim: o.Dimension}, nil
}

// Model names the feature set and dimension, e.g. "local-hash-v1-384".
func (e *Embedder) Model() string { return fmt.Sprintf("%s-%d", ModelName, e.dim) }

// Dimension is known from construction.
func (e *Embedder) Dimension() int { return e.dim }

// Embed embeds every text; it never fails except on a cancelled context.
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	acc := make([]float64, e.dim)
	for i, t := range texts {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("localembed: %w", err)
			}
		}
		out[i] = e.embedOne(t, acc)
	}
	return out, nil
}

// EmbedOne embeds a single text.
func (e *Embedder) EmbedOne(text string) []float32 {
	return e.embedOne(text, make([]float64, e.dim))
}

func (e *Embedder) embedOne(text string, acc []float64) []float32 {
	clear(acc)
	f := extract(text)
	slices.SortFunc(f.list, func(a, b feature) int { return cmp.Compare(a.h, b.h) })
	for i := 0; i < len(f.list); {
		j := i + 1
		for j < len(f.list) && f.list[j].h == f.list[i].h {
			j++
		}
		// Sublinear tf; the weight is the first occurrence's family weight.
		h := f.list[i].h
		w := f.list[i].w * (1 + math.Log(float64(j-i)))
		if h&(1<<63) != 0 {
			w = -w
		}
		acc[int(h%uint64(e.dim))] += w
		i = j
	}
	var norm float64
	for _, v := range acc {
		norm += v * v
	}
	v := make([]float32, e.dim)
	if norm == 0 {
		return v // no features (punctuation only): the zero vector matches nothing
	}
	inv := 1 / math.Sqrt(norm)
	for i, x := range acc {
		v[i] = float32(x * inv)
	}
	return v
}
