package archive

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/engram-memory/engram/ports"
)

// decodeFast is decode for the lines archives are written as: one object,
// no insignificant space, only the table's fields, each once. It reads the
// fields in place instead of through a map of raw messages. Any line it is
// not sure of (other spacing, unknown or repeated fields, a value of the
// wrong type) answers ok false, and decode's full path reads it and words
// the error: the fast path may only save work, never change an answer.
func decodeFast(t ports.ArchiveTable, line []byte) (ports.ArchiveRow, bool) {
	if len(line) < 2 || line[0] != '{' {
		return ports.ArchiveRow{}, false
	}
	vals := make([]any, len(t.Columns))
	seen := uint64(0)
	i := 1
	if line[i] == '}' {
		i++
	} else {
		for {
			if i >= len(line) || line[i] != '"' {
				return ports.ArchiveRow{}, false
			}
			kEnd, ok := plainString(line, i)
			if !ok || kEnd >= len(line) || line[kEnd] != ':' {
				return ports.ArchiveRow{}, false
			}
			col := t.Col(string(line[i+1 : kEnd-1]))
			if col < 0 || col >= 64 || seen&(1<<col) != 0 {
				return ports.ArchiveRow{}, false
			}
			seen |= 1 << col
			vEnd, ok := skipValue(line, kEnd+1)
			if !ok || vEnd >= len(line) {
				return ports.ArchiveRow{}, false
			}
			if vals[col], ok = fastValue(t.Columns[col], line[kEnd+1:vEnd]); !ok {
				return ports.ArchiveRow{}, false
			}
			i = vEnd
			if line[i] == '}' {
				i++
				break
			}
			if line[i] != ',' {
				return ports.ArchiveRow{}, false
			}
			i++
		}
	}
	if i != len(line) {
		return ports.ArchiveRow{}, false
	}
	for c, col := range t.Columns {
		if vals[c] == nil && !col.Null {
			return ports.ArchiveRow{}, false
		}
	}
	return ports.ArchiveRow{Values: vals}, true
}

// fastValue decodes one field; ok false sends the line to the full path.
// A nil value with ok true is JSON null.
func fastValue(c ports.ArchiveColumn, raw []byte) (any, bool) {
	if len(raw) == 0 {
		return nil, false
	}
	if string(raw) == "null" {
		return nil, c.Null
	}
	switch c.Kind {
	case ports.ColText:
		if end, ok := plainString(raw, 0); ok && end == len(raw) {
			return string(raw[1 : len(raw)-1]), true
		}
		var s string
		if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
			return nil, false
		}
		return s, true
	case ports.ColTime:
		end, ok := plainString(raw, 0)
		if !ok || end != len(raw) {
			return nil, false
		}
		tm, err := time.Parse(time.RFC3339Nano, string(raw[1:len(raw)-1]))
		if err != nil {
			return nil, false
		}
		return tm.UTC().Truncate(time.Microsecond), true
	case ports.ColJSON:
		if raw[0] != '{' && raw[0] != '[' {
			return nil, false
		}
		j, err := ports.CanonicalJSON(raw)
		if err != nil {
			return nil, false
		}
		return j, true
	case ports.ColInt:
		for k, b := range raw {
			if (b < '0' || b > '9') && !(k == 0 && b == '-') {
				return nil, false
			}
		}
		if len(raw) > 1 && (raw[0] == '0' || bytes.HasPrefix(raw, []byte("-0"))) {
			return nil, false
		}
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return nil, false
		}
		return n, true
	case ports.ColBool:
		switch string(raw) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return nil, false
}

// plainString finds the end of the string at raw[i] when it has no escape,
// no control character and is valid UTF-8: its bytes are then its value.
func plainString(raw []byte, i int) (int, bool) {
	if i >= len(raw) || raw[i] != '"' {
		return 0, false
	}
	for j := i + 1; j < len(raw); {
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
			if r == utf8.RuneError && size <= 1 {
				return 0, false
			}
			j += size
		}
	}
	return 0, false
}

// skipValue finds where the value at raw[i] ends, without checking it
// (fastValue does): strings honour escapes, objects and arrays nest.
func skipValue(raw []byte, i int) (int, bool) {
	if i >= len(raw) {
		return 0, false
	}
	depth := 0
	for j := i; j < len(raw); j++ {
		switch raw[j] {
		case '"':
			j++
			for j < len(raw) && raw[j] != '"' {
				if raw[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(raw) {
				return 0, false
			}
			if depth == 0 {
				return j + 1, true
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return j, true // the end of a scalar, at the enclosing object's brace
			}
			depth--
			if depth == 0 {
				return j + 1, true
			}
		case ',':
			if depth == 0 {
				return j, true
			}
		}
	}
	return 0, false
}
