package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strconv"

	"github.com/engram-memory/engram/domain"
)

// A vector line is about 4 KB of decimal numbers, and encoding/json spends
// some 90 µs on one: with the line read twice (the checking pass, then the
// load), decoding alone held an import with vectors under 5,000 memories/s.
// decodeVectorFast reads the lines Export writes (its fields in its order,
// no insignificant space) in place. It answers ok false for any line it is
// not sure of, and decodeVector's full path then reads it and words the
// error: the fast path may only save work, never change an answer.

// vectorKeys are the vector line's fields in the order Export writes them.
var vectorKeys = [...]string{`{"id":`, `,"org_id":`, `,"user_id":`, `,"text_sha256":`, `,"vector":[`}

// decodeVectorFast decodes line as decodeVector does. With convert false
// it checks the numbers (their syntax, that they fit a float32, and how
// many there are) without converting them, and the line's Vector is nil:
// the checking pass needs no values.
func decodeVectorFast(line []byte, dim int, convert bool) (vectorLine, bool) {
	var v vectorLine
	var strs [4]string
	i := 0
	for k, key := range vectorKeys[:4] {
		if !bytes.HasPrefix(line[i:], []byte(key)) {
			return v, false
		}
		i += len(key)
		end, ok := plainString(line, i)
		if !ok {
			return v, false
		}
		strs[k] = string(line[i+1 : end-1])
		i = end
	}
	if !bytes.HasPrefix(line[i:], []byte(vectorKeys[4])) {
		return v, false
	}
	i += len(vectorKeys[4])
	v.ID, v.OrgID, v.UserID, v.TextSHA256 = strs[0], strs[1], strs[2], strs[3]
	if !domain.ValidID(v.ID) || len(v.TextSHA256) != 2*sha256.Size {
		return v, false
	}
	if _, err := hex.DecodeString(v.TextSHA256); err != nil {
		return v, false
	}
	if (domain.Tenant{OrgID: domain.OrgID(v.OrgID), UserID: domain.UserID(v.UserID)}).Validate() != nil {
		return v, false
	}
	if convert {
		v.Vector = make([]float32, 0, dim)
	}
	n := 0
	if i < len(line) && line[i] == ']' {
		i++
	} else {
		for {
			end, f, ok := scanFloat32(line, i, convert)
			if !ok {
				return v, false
			}
			n++
			if n > dim {
				return v, false
			}
			if convert {
				v.Vector = append(v.Vector, f)
			}
			i = end
			if i >= len(line) {
				return v, false
			}
			if line[i] == ']' {
				i++
				break
			}
			if line[i] != ',' {
				return v, false
			}
			i++
		}
	}
	if n != dim || i+1 != len(line) || line[i] != '}' {
		return v, false
	}
	return v, true
}

// scanFloat32 reads the JSON number at line[i] and, when convert, its
// float32 value, correctly rounded. It answers ok false for what is not a
// JSON number or does not fit a float32 (encoding/json refuses those).
//
// The usual number (at most 19 significant digits, a power of ten within
// ±22) is converted as Clinger's fast path does: the mantissa and 10^|e|
// are exact float64s, so one multiplication or division rounds correctly
// to float64. Rounding that again to float32 is correct too unless the
// float64 fell exactly on a midpoint between two float32s; that case, and
// every other number, goes to strconv.
func scanFloat32(line []byte, i int, convert bool) (end int, f float32, ok bool) {
	start := i
	neg := false
	if i < len(line) && line[i] == '-' {
		neg = true
		i++
	}
	var mant uint64
	digits, exp := 0, 0
	exact := true
	take := func(c byte) {
		if mant == 0 && c == '0' {
			return // a leading zero adds no significant digit
		}
		if digits == 19 {
			exact = false
			return
		}
		mant = mant*10 + uint64(c-'0')
		digits++
	}
	switch {
	case i < len(line) && line[i] == '0':
		i++
	case i < len(line) && line[i] >= '1' && line[i] <= '9':
		for i < len(line) && line[i] >= '0' && line[i] <= '9' {
			take(line[i])
			if !exact {
				exp++ // a dropped integer digit still scales the number
			}
			i++
		}
	default:
		return 0, 0, false
	}
	if i < len(line) && line[i] == '.' {
		i++
		if i >= len(line) || line[i] < '0' || line[i] > '9' {
			return 0, 0, false
		}
		for i < len(line) && line[i] >= '0' && line[i] <= '9' {
			if exact {
				take(line[i])
				if exact {
					exp--
				}
			}
			i++
		}
	}
	if i < len(line) && (line[i] == 'e' || line[i] == 'E') {
		i++
		eneg := false
		if i < len(line) && (line[i] == '+' || line[i] == '-') {
			eneg = line[i] == '-'
			i++
		}
		if i >= len(line) || line[i] < '0' || line[i] > '9' {
			return 0, 0, false
		}
		e := 0
		for i < len(line) && line[i] >= '0' && line[i] <= '9' {
			if e < 10000 {
				e = e*10 + int(line[i]-'0')
			}
			i++
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	if exact && mant == 0 {
		if neg {
			return i, float32(math.Copysign(0, -1)), true
		}
		return i, 0, true
	}
	if exact && mant <= 1<<53 && exp >= -22 && exp <= 22 {
		// At most 2^53 · 10^22 < MaxFloat32: it fits.
		if !convert {
			return i, 0, true
		}
		d := float64(mant)
		if exp < 0 {
			d /= float64pow10[-exp]
		} else {
			d *= float64pow10[exp]
		}
		if bits := math.Float64bits(d); bits&(1<<29-1) != 1<<28 && d >= math.SmallestNonzeroFloat32*(1<<23) {
			// Not on a float32 midpoint, and a normal float32 (a
			// subnormal keeps fewer bits and has other midpoints).
			f = float32(d)
			if neg {
				f = -f
			}
			return i, f, true
		}
	}
	g, err := strconv.ParseFloat(string(line[start:i]), 32)
	if err != nil {
		return 0, 0, false
	}
	return i, float32(g), true
}

var float64pow10 = [...]float64{
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
}
