package textfold

import "github.com/kljensen/snowball/english"

// Stems memoises the stems of the words it has seen: a search counts words
// in a few hundred texts that share most of them, and stemming is most of
// the cost. Keep one for one search (or one tenant's texts): it holds
// words of the texts it saw.
type Stems map[string]string

// CountASCII counts, for a text of ASCII characters only, the words Words
// would yield (n) and, in counts, how many of them equal each of terms
// (which must be folded already), without building the words: the SQLite
// index ranks a few hundred candidates a search this way (issue 19). ok is
// false for any other text: Words folds it through Unicode normalisation,
// and FTS5's tokenizer folds some letters further (ø to o), so only ASCII
// is counted the same on both sides.
func (st Stems) CountASCII(text string, terms []string, counts []int) (n int, ok bool) {
	clear(counts)
	ok = st.eachASCIIWord(text, func(stem string) {
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
func (st Stems) HoldsPhraseASCII(text string, phrase []string) (holds, ok bool) {
	if len(phrase) == 0 {
		return true, true
	}
	// Positions where a match of the phrase's first i words ends; a naive
	// restart is fine for the few words of a phrase.
	var starts []int
	pos := 0
	ok = st.eachASCIIWord(text, func(stem string) {
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
func (st Stems) eachASCIIWord(text string, fn func(stem string)) bool {
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
			fn(st.of(word))
			word = word[:0]
		}
	}
	return true
}

func (st Stems) of(word []byte) string {
	if s, ok := st[string(word)]; ok {
		return s
	}
	w := string(word)
	s := english.Stem(w, true)
	st[w] = s
	return s
}
