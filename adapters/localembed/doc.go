// Package localembed is Engram's offline default embedder: deterministic,
// dependency-free, no model download, microseconds per text.
//
// A text becomes a bag of hashed features — lower-cased, accent-folded word
// unigrams (plus a crude English suffix-stripped stem), word bigrams, and
// character 3-, 4- and 5-grams of each word with boundary marks — each
// hashed with FNV-1a into one of Dimension buckets with a hash-derived sign
// (the "hashing trick", Weinberger et al. 2009), weighted by sublinear term
// frequency (1 + ln tf) and by feature family, then L2-normalised.
//
// What it captures: shared words and word order (bigrams), shared stems
// ("running"/"runs"), morphology and compounds through character n-grams
// ("vegetarian"/"vegetarians", "birthday"/"birth day"), typos and spelling
// variants ("recieve"/"receive"), case and accents ("Café"/"cafe"), and any
// script, since n-grams work on runes.
//
// What it misses: synonyms and paraphrase ("car"/"automobile", "I dislike
// fish"/"seafood is not for me"), negation, cross-language meaning, and
// anything needing world knowledge. It is a smoothed lexical model, not a
// semantic one; its value in hybrid search is to rescue near-miss spellings
// and morphology that exact-token BM25 drops. For semantic recall configure
// an OpenAI-compatible embedder (adapters/openaiembed). Hash collisions add
// small noise, bounded by the signed hashing and the dimension.
package localembed
