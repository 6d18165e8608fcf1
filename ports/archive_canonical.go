package ports

import (
	"bytes"
	"unicode/utf8"
)

// isCanonical reports whether raw is already what CanonicalJSON would make
// of it, for the shapes archives mostly hold: objects with strictly sorted
// keys, arrays, strings without escapes (valid UTF-8, no control
// characters, no U+2028/U+2029), small integers, true, false, null, and no
// insignificant space. Anything else answers false and takes the full
// decode and re-encode. Archives are written canonical, so an import checks
// each JSON value in one pass instead of decoding it into maps and encoding
// it again.
func isCanonical(raw []byte) bool {
	n, ok := canonValue(raw, 0, 0)
	return ok && n == len(raw)
}

// maxCanonDepth bounds the recursion; deeper values take the slow path,
// which has its own limit.
const maxCanonDepth = 64

// canonValue checks the value starting at raw[i] and returns where it ends.
func canonValue(raw []byte, i, depth int) (int, bool) {
	if i >= len(raw) || depth > maxCanonDepth {
		return 0, false
	}
	switch c := raw[i]; {
	case c == '"':
		end, ok := canonString(raw, i)
		return end, ok
	case c == '{':
		i++
		if i < len(raw) && raw[i] == '}' {
			return i + 1, true
		}
		var prev []byte
		for first := true; ; first = false {
			if i >= len(raw) || raw[i] != '"' {
				return 0, false
			}
			end, ok := canonString(raw, i)
			if !ok {
				return 0, false
			}
			key := raw[i+1 : end-1]
			if !first && bytes.Compare(prev, key) >= 0 {
				return 0, false // unsorted or repeated: let the full path decide
			}
			prev = key
			if end >= len(raw) || raw[end] != ':' {
				return 0, false
			}
			if i, ok = canonValue(raw, end+1, depth+1); !ok || i >= len(raw) {
				return 0, false
			}
			switch raw[i] {
			case ',':
				i++
			case '}':
				return i + 1, true
			default:
				return 0, false
			}
		}
	case c == '[':
		i++
		if i < len(raw) && raw[i] == ']' {
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = canonValue(raw, i, depth+1); !ok || i >= len(raw) {
				return 0, false
			}
			switch raw[i] {
			case ',':
				i++
			case ']':
				return i + 1, true
			default:
				return 0, false
			}
		}
	case c == '-' || (c >= '0' && c <= '9'):
		return canonInt(raw, i)
	case bytes.HasPrefix(raw[i:], []byte("true")):
		return i + 4, true
	case bytes.HasPrefix(raw[i:], []byte("false")):
		return i + 5, true
	case bytes.HasPrefix(raw[i:], []byte("null")):
		return i + 4, true
	}
	return 0, false
}

// canonString accepts a string the encoder writes unchanged: no backslash,
// no control character, valid UTF-8 without U+2028 and U+2029.
func canonString(raw []byte, i int) (int, bool) {
	j := i + 1
	for j < len(raw) {
		c := raw[j]
		switch {
		case c == '"':
			return j + 1, true
		case c == '\\' || c < 0x20:
			return 0, false
		case c < utf8.RuneSelf:
			j++
		default:
			r, size := utf8.DecodeRune(raw[j:])
			if r == utf8.RuneError || r == '\u2028' || r == '\u2029' {
				return 0, false
			}
			j += size
		}
	}
	return 0, false
}

// canonInt accepts an integer that float64 holds exactly and the encoder
// writes back with the same digits: no leading zero, no "-0", at most 15
// digits.
func canonInt(raw []byte, i int) (int, bool) {
	start := i
	if raw[i] == '-' {
		i++
	}
	digits := i
	for i < len(raw) && raw[i] >= '0' && raw[i] <= '9' {
		i++
	}
	n := i - digits
	switch {
	case n == 0 || n > 15:
		return 0, false
	case raw[digits] == '0' && (n > 1 || digits > start):
		return 0, false
	case i < len(raw) && (raw[i] == '.' || raw[i] == 'e' || raw[i] == 'E'):
		return 0, false
	}
	return i, true
}
