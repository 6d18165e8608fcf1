package jsonbody

import (
	"strconv"
	"unicode/utf8"

	"github.com/engram-memory/engram/domain"
)

// CheckUTF8 returns a *domain.ValidationError naming the field (a path such
// as "text", "events[1].text" or "metadata.note"; "body" at the top level)
// of the first string in raw that holds invalid UTF-8 bytes or a \u escape
// of an unpaired surrogate. A body that is not JSON at all passes: the
// decoder reports its syntax error with an offset.
func CheckUTF8(raw []byte) error {
	if utf8.Valid(raw) && !hasSurrogateEscape(raw) {
		return nil // the common case, in one pass
	}
	s := scanner{raw: raw}
	s.value("")
	if s.bad != "" {
		return domain.Invalid(s.bad, "must be valid UTF-8 text (it holds bytes or \\u escapes that are not a Unicode character)")
	}
	return nil
}

// hasSurrogateEscape reports whether raw holds a \uD800-\uDFFF escape;
// only then can a string decode to U+FFFD by way of an unpaired one.
func hasSurrogateEscape(raw []byte) bool {
	for i := 0; i+5 < len(raw); i++ {
		if raw[i] == '\\' {
			if raw[i+1] == 'u' && (raw[i+2] == 'd' || raw[i+2] == 'D') && isHex(raw[i+3]) && raw[i+3] >= '8' {
				return true
			}
			i++ // skip the escaped character, so \\u is not read as an escape
		}
	}
	return false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// scanner walks a JSON document, tracking the path to each string. It
// stops at the first bad string (bad) or syntax error (syntax), leaving
// syntax errors to the decoder.
type scanner struct {
	raw    []byte
	i      int
	bad    string
	syntax bool
}

func (s *scanner) done() bool { return s.bad != "" || s.syntax }

func (s *scanner) skipSpace() {
	for s.i < len(s.raw) {
		switch s.raw[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) value(path string) {
	s.skipSpace()
	if s.i >= len(s.raw) {
		s.syntax = true
		return
	}
	switch s.raw[s.i] {
	case '{':
		s.object(path)
	case '[':
		s.array(path)
	case '"':
		if !s.str() && !s.done() {
			s.bad = name(path)
		}
	default: // a number, true, false or null: ASCII up to a delimiter
		start := s.i
		for s.i < len(s.raw) && !isDelim(s.raw[s.i]) {
			s.i++
		}
		if s.i == start { // a delimiter where a value belongs
			s.syntax = true
		}
	}
}

func isDelim(c byte) bool {
	return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

func (s *scanner) object(path string) {
	s.i++ // {
	for !s.done() {
		s.skipSpace()
		if s.i < len(s.raw) && s.raw[s.i] == '}' {
			s.i++
			return
		}
		if s.i >= len(s.raw) || s.raw[s.i] != '"' {
			s.syntax = true
			return
		}
		start := s.i
		if !s.str() {
			if !s.done() {
				s.bad = name(path) // a bad key: name the object holding it
			}
			return
		}
		key, err := strconv.Unquote(string(s.raw[start:s.i]))
		if err != nil {
			s.syntax = true
			return
		}
		s.skipSpace()
		if s.i >= len(s.raw) || s.raw[s.i] != ':' {
			s.syntax = true
			return
		}
		s.i++
		child := key
		if path != "" {
			child = path + "." + key
		}
		s.value(child)
		if s.done() {
			return
		}
		s.next('}')
	}
}

// next consumes the ',' after an object member or array element, or stops
// at close; anything else is a syntax error. Without it a stray delimiter
// (`[1}`) was never consumed and the scanner looped on it forever.
func (s *scanner) next(close byte) {
	s.skipSpace()
	switch {
	case s.i < len(s.raw) && s.raw[s.i] == ',':
		s.i++
	case s.i < len(s.raw) && s.raw[s.i] == close:
	default:
		s.syntax = true
	}
}

func (s *scanner) array(path string) {
	s.i++ // [
	for n := 0; !s.done(); n++ {
		s.skipSpace()
		if s.i < len(s.raw) && s.raw[s.i] == ']' {
			s.i++
			return
		}
		s.value(path + "[" + strconv.Itoa(n) + "]")
		if s.done() {
			return
		}
		s.next(']')
	}
}

// str consumes the string at s.i and reports whether it is valid UTF-8
// with no unpaired surrogate escape; an unterminated string is a syntax
// error.
func (s *scanner) str() bool {
	s.i++ // opening quote
	ok := true
	for s.i < len(s.raw) {
		c := s.raw[s.i]
		switch {
		case c == '"':
			s.i++
			return ok
		case c == '\\':
			if s.i+1 < len(s.raw) && s.raw[s.i+1] == 'u' {
				r, n := escape(s.raw[s.i:])
				if n == 0 {
					s.syntax = true
					return false
				}
				if r >= 0xD800 && r <= 0xDFFF {
					// Only a high surrogate followed by an escaped
					// low one is a character.
					r2, n2 := escape(s.raw[s.i+n:])
					if r >= 0xDC00 || n2 == 0 || r2 < 0xDC00 || r2 > 0xDFFF {
						ok = false
					} else {
						n += n2
					}
				}
				s.i += n
				continue
			}
			s.i += 2
		case c < utf8.RuneSelf:
			s.i++
		default:
			r, n := utf8.DecodeRune(s.raw[s.i:])
			if r == utf8.RuneError && n == 1 {
				ok = false
			}
			s.i += n
		}
	}
	s.syntax = true
	return false
}

// escape decodes a \uXXXX escape at the start of b, returning 0 bytes when
// there is none.
func escape(b []byte) (rune, int) {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return 0, 0
	}
	v, err := strconv.ParseUint(string(b[2:6]), 16, 32)
	if err != nil {
		return 0, 0
	}
	return rune(v), 6
}

func name(path string) string {
	if path == "" {
		return "body"
	}
	return path
}
