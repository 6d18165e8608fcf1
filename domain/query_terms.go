package domain

import (
	"strings"
	"unicode"
)

// MaxQueryTerms bounds how many words of a query reach a text index, so a
// pasted page cannot make one search scan the posting list of every word.
const MaxQueryTerms = 32

// QueryTerms splits a search query into lower-case words of letters and
// digits, in order, without duplicates. Everything else — quotes, *, (, :, -,
// ^, %, _, \ — separates words, so no query syntax of any backend survives:
// text indexes build their own expressions from these words only. English
// stop words are dropped unless the query has nothing else.
func QueryTerms(q string) []string {
	words := strings.FieldsFunc(strings.ToLower(q), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r)
	})
	out := make([]string, 0, len(words))
	seen := make(map[string]bool, len(words))
	content := false
	for _, w := range words {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
			content = content || !queryStopWords[w]
		}
	}
	if content {
		kept := out[:0]
		for _, w := range out {
			if !queryStopWords[w] {
				kept = append(kept, w)
			}
		}
		out = kept
	}
	if len(out) > MaxQueryTerms {
		out = out[:MaxQueryTerms]
	}
	return out
}

// MaxPhraseWords bounds the queries that get an exact-phrase boost. A
// phrase query reads the posting list of every word, stop words included,
// so a question of a dozen words would read nearly every entry of the user
// twice over — for a phrase no memory holds: questions are not quotes.
const MaxPhraseWords = 6

// PhraseWords is the query's words in order, duplicates kept, for exact
// phrase matching; nil when the query has fewer than two words or more
// than MaxPhraseWords.
func PhraseWords(q string) []string {
	words := strings.FieldsFunc(strings.ToLower(q), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r)
	})
	if len(words) < 2 || len(words) > MaxPhraseWords {
		return nil
	}
	return words
}

var queryStopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an and are as at be been but by do does did for from has have had
		how i in is it its me my of on or our so that the their them they this to was we were what when
		where which who whom why will with you your not no am can could would should there than then`) {
		m[w] = true
	}
	return m
}()

// IsStopWord says whether the lower-case word w is one of the English stop
// words QueryTerms drops.
func IsStopWord(w string) bool { return queryStopWords[w] }
