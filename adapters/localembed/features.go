package localembed

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// feature is one hashed feature occurrence and its family weight.
type feature struct {
	h uint64
	w float64
}

// features lists feature occurrences; equal hashes are counted after a sort
// (cheaper than maps for a few hundred features). Families are salted so
// they rarely collide with each other.
type features struct {
	list []feature
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// Family salts keep a word, its stem and its n-grams in distinct hash spaces.
const (
	saltWord   = 'w'
	saltStem   = 's'
	saltBigram = 'b'
	saltNgram  = 'n'
)

func hashRunes(salt byte, rs []rune) uint64 {
	h := uint64(fnvOffset)
	h ^= uint64(salt)
	h *= fnvPrime
	for _, r := range rs {
		for r != 0 {
			h ^= uint64(r & 0xff)
			h *= fnvPrime
			r >>= 8
		}
		h ^= 0xff // rune separator
		h *= fnvPrime
	}
	return finalize(h)
}

// finalize mixes the bits (splitmix64's finaliser) because FNV's high bit,
// used as the sign, is weak on short inputs.
func finalize(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

func (f *features) add(h uint64, w float64) {
	f.list = append(f.list, feature{h, w})
}

// extract tokenises text into words of letters and digits, lower-cased and
// accent-folded, and emits every feature family.
func extract(text string) features {
	words := tokenize(text)
	f := features{list: make([]feature, 0, len(words)*16)}
	buf := make([]rune, 0, 64)
	for i, w := range words {
		stop := stopWords[string(w)]
		if stop {
			f.add(hashRunes(saltWord, w), weightStop)
		} else {
			f.add(hashRunes(saltWord, w), weightWord)
			if s := stem(w); len(s) != len(w) {
				f.add(hashRunes(saltStem, s), weightStem)
			} else {
				f.add(hashRunes(saltStem, w), weightStem)
			}
			buf = append(append(append(buf[:0], '<'), w...), '>')
			for n := 3; n <= 5; n++ {
				for j := 0; j+n <= len(buf); j++ {
					f.add(hashRunes(saltNgram, buf[j:j+n]), weightNgram)
				}
			}
		}
		if i > 0 {
			prev := words[i-1]
			bw := weightBigram
			if stop && stopWords[string(prev)] {
				bw = weightStop
			}
			buf = append(append(append(buf[:0], prev...), ' '), w...)
			f.add(hashRunes(saltBigram, buf), bw)
		}
	}
	return f
}

// tokenize splits on anything that is not a letter or digit, after NFKD
// decomposition with combining marks dropped ("Café" → "cafe").
func tokenize(text string) [][]rune {
	var words [][]rune
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, cur)
			cur = nil
		}
	}
	for _, r := range norm.NFKD.String(text) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			cur = append(cur, unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	return words
}

// stem strips a few English inflections. It is deliberately crude: the
// character n-grams already cover most morphology; this only lets the
// strongest feature (the whole word) match across plural and tense.
func stem(w []rune) []rune {
	s := string(w)
	for _, suf := range []string{"ing", "edly", "ed", "ies", "es", "s", "ly"} {
		if strings.HasSuffix(s, suf) && len(w)-len([]rune(suf)) >= 3 {
			base := []rune(strings.TrimSuffix(s, suf))
			if suf == "ies" {
				base = append(base, 'y')
			}
			return base
		}
	}
	return w
}

var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an and are as at be been but by for from has have had he her his i
		in is it its me my of on or our she so that the their them they this to was we were what when
		where which who will with you your do does did not no am can could would should there than then
		these those into about over also just very`) {
		m[w] = true
	}
	return m
}()
