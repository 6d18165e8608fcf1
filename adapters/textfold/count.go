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
	var buf [64]byte
	word := buf[:0]
	flush := func() {
		if len(word) == 0 {
			return
		}
		n++
		stem := stemOf(word)
		for i, t := range terms {
			if t == stem {
				counts[i]++
			}
		}
		word = word[:0]
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c >= 0x80:
			return 0, false
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			word = append(word, c)
		case c >= 'A' && c <= 'Z':
			word = append(word, c+('a'-'A'))
		default:
			flush()
		}
	}
	flush()
	return n, true
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
