package localembed_test

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/localembed"
	"github.com/engram-memory/engram/domain"
)

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func newEmbedder(t *testing.T) *localembed.Embedder {
	e, err := localembed.New(localembed.Options{})
	require.NoError(t, err)
	return e
}

func TestEmbedIsNormalisedAndDeterministic(t *testing.T) {
	e := newEmbedder(t)
	require.Equal(t, 384, e.Dimension())
	require.Equal(t, "local-hash-v1-384", e.Model())
	vs, err := e.Embed(context.Background(), []string{"I love hiking in the Alps", "I love hiking in the Alps"})
	require.NoError(t, err)
	require.Len(t, vs, 2)
	require.Len(t, vs[0], 384)
	require.InDelta(t, 1, dot(vs[0], vs[0]), 1e-5)
	require.Equal(t, vs[0], vs[1])
	other, err := localembed.New(localembed.Options{})
	require.NoError(t, err)
	require.Equal(t, vs[0], other.EmbedOne("I love hiking in the Alps"), "a fresh embedder gives the same vector")
}

func TestEmbedCapturesLexicalSimilarity(t *testing.T) {
	e := newEmbedder(t)
	q := e.EmbedOne("favourite vegetarian restaurant")
	near := e.EmbedOne("My favorite restaurants are vegetarian places")
	far := e.EmbedOne("The quarterly tax report is due on Friday")
	require.Greater(t, dot(q, near), dot(q, far)+0.2)

	typo := e.EmbedOne("I recieve the newsletter weekly")
	right := e.EmbedOne("I receive the newsletter weekly")
	require.Greater(t, dot(typo, right), 0.6, "typos keep most character n-grams")

	accent := e.EmbedOne("Café in Zürich")
	plain := e.EmbedOne("cafe in zurich")
	require.InDelta(t, 1, dot(accent, plain), 1e-5, "case and accents are folded")

	cjk := e.EmbedOne("東京の寿司が好き")
	require.InDelta(t, 1, dot(cjk, cjk), 1e-5, "non-Latin scripts produce features")
}

func TestEmbedStopWordsCountLittle(t *testing.T) {
	e := newEmbedder(t)
	a := e.EmbedOne("the cat is on the mat")
	b := e.EmbedOne("the dog is in the house")
	c := e.EmbedOne("a cat sat on a mat")
	require.Greater(t, dot(a, c), dot(a, b))
	require.Less(t, dot(a, b), 0.3)
}

func TestEmbedPunctuationOnlyIsZero(t *testing.T) {
	e := newEmbedder(t)
	v := e.EmbedOne(`"*(^'\%_`)
	require.Zero(t, dot(v, v))
	require.False(t, math.IsNaN(float64(v[0])))
}

func TestEmbedHonoursContextAndBounds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := newEmbedder(t).Embed(ctx, []string{"x"})
	require.ErrorIs(t, err, context.Canceled)
	_, err = localembed.New(localembed.Options{Dimension: 8})
	require.ErrorIs(t, err, domain.ErrInvalid)
	out, err := newEmbedder(t).Embed(context.Background(), nil)
	require.NoError(t, err)
	require.Empty(t, out)
}

func BenchmarkEmbed(b *testing.B) {
	e, _ := localembed.New(localembed.Options{})
	text := "User prefers window seats on long flights and always books vegetarian meals in advance"
	b.ReportAllocs()
	for b.Loop() {
		e.EmbedOne(text)
	}
}
