package textfold

import (
	"sync"

	"github.com/kljensen/snowball/english"
)

// CountASCII counts, for a text of ASCII characters only, the words Words
// would yield (n) and, in counts, how many of them equal each of terms
// (which must be folded already), without building the words: the SQLite
// index ranks a few hundred candidates a search this way (issue 19). ok is
// false for any other text: Words folds it through Unicode normalisation,
// and FTS5's tokenizer folds some letters further (ø to o), so only ASCII
// is counted the same on both sides.
func CountASCII(text string, terms []string, counts []int) (n int, ok bool) {
	clear(counts)
	ok = eachASCIIWord(text, func(stem string) {
		n++
		for i, t := range terms {
			if t == stem {
				counts[i]++
			}
		}
	})
	return n, ok
}

// HoldsPhraseASCII reports whether Words(text) holds phrase's words (folded
// already) at consecutive positions, as FTS5 matches a phrase. ok is false
// when text is not ASCII (see CountASCII).
func HoldsPhraseASCII(text string, phrase []string) (holds, ok bool) {
	if len(phrase) == 0 {
		return true, true
	}
	// Positions where a match of the phrase's first i words ends; a naive
	// restart is fine for the few words of a phrase.
	var starts []int
	pos := 0
	ok = eachASCIIWord(text, func(stem string) {
		if holds {
			return
		}
		kept := starts[:0]
		for _, s := range starts {
			if phrase[pos-s] == stem {
				if pos-s == len(phrase)-1 {
					holds = true
					return
				}
				kept = append(kept, s)
			}
		}
		starts = kept
		if phrase[0] == stem {
			if len(phrase) == 1 {
				holds = true
				return
			}
			starts = append(starts, pos)
		}
		pos++
	})
	return holds && ok, ok
}

// eachASCIIWord calls fn with the stem of each word Words(text) would
// yield, in order; false, and fn not called for every word, when text is
// not ASCII.
func eachASCIIWord(text string, fn func(stem string)) bool {
	var buf [64]byte
	word := buf[:0]
	for i := 0; i < len(text); i++ {
		if text[i] >= 0x80 {
			return false
		}
	}
	for i := 0; i <= len(text); i++ {
		var c byte = ' '
		if i < len(text) {
			c = text[i]
		}
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			word = append(word, c)
		case c >= 'A' && c <= 'Z':
			word = append(word, c+('a'-'A'))
		case len(word) > 0:
			fn(stemOf(word))
			word = word[:0]
		}
	}
	return true
}

// stems remembers the stems of words seen: a search folds the same common
// words in every candidate, and stemming is most of the cost. A word's
// stem never changes, so the cache only needs a bound.
var stems struct {
	sync.RWMutex
	m map[string]string
}

const maxStems = 1 << 16

func stemOf(word []byte) string {
	stems.RLock()
	s, ok := stems.m[string(word)]
	stems.RUnlock()
	if ok {
		return s
	}
	w := string(word)
	s = english.Stem(w, true)
	stems.Lock()
	if stems.m == nil || len(stems.m) >= maxStems {
		stems.m = make(map[string]string, 1024)
	}
	stems.m[w] = s
	stems.Unlock()
	return s
}
