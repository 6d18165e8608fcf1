package archive

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// decodeVectorJSON is decodeVector's full path alone: what the fast path
// must agree with.
func decodeVectorJSON(line []byte, dim int) (vectorLine, error) {
	var v vectorLine
	if err := json.Unmarshal(line, &v); err != nil {
		return v, err
	}
	if len(v.Vector) != dim {
		return v, fmt.Errorf("dimension %d", len(v.Vector))
	}
	return v, nil
}

func TestScanFloat32MatchesStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	check := func(s string) {
		t.Helper()
		want, werr := strconv.ParseFloat(s, 32)
		for _, convert := range []bool{true, false} {
			end, got, ok := scanFloat32([]byte(s+"]"), 0, convert)
			if werr != nil || !json.Valid([]byte(s)) {
				require.False(t, ok && end == len(s), "%q is no float32 JSON number, yet it scanned", s)
				continue
			}
			require.True(t, ok, "%q", s)
			require.Equal(t, len(s), end, "%q", s)
			if convert {
				require.Equal(t, math.Float32bits(float32(want)), math.Float32bits(got), "%q: %v, strconv says %v", s, got, want)
			}
		}
	}
	// Every float32 as encoding/json writes it (the export's form).
	for range 50000 {
		f := math.Float32frombits(r.Uint32())
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			continue
		}
		b, err := json.Marshal(f)
		require.NoError(t, err)
		check(string(b))
	}
	// Embedding-like values, and random decimal strings of every length.
	for range 50000 {
		check(strconv.FormatFloat(r.NormFloat64()*0.05, 'g', -1, 32))
		var sb strings.Builder
		if r.IntN(2) == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(byte('1' + r.IntN(9)))
		for range r.IntN(12) {
			sb.WriteByte(byte('0' + r.IntN(10)))
		}
		if r.IntN(2) == 0 {
			sb.WriteByte('.')
			for range 1 + r.IntN(25) {
				sb.WriteByte(byte('0' + r.IntN(10)))
			}
		}
		if r.IntN(3) == 0 {
			sb.WriteString("e" + strconv.Itoa(r.IntN(90)-45))
		}
		check(sb.String())
	}
	// Just below midpoints between float32s: 16 digits whose nearest
	// float64 is the midpoint itself, where rounding twice goes wrong.
	for j := range 20000 {
		mid := 1 + float64(2*j+1)/(1<<24)
		check(strconv.FormatFloat(mid, 'f', 24, 64)[:17])
	}
	// Midpoints, and the edges of the range.
	for _, s := range []string{
		"1.00000005960464477539062500", "16777217", "-16777217", "33554434", "33554435",
		"3.4028235e38", "3.4028236e38", "3.5e38", "1e39", "1.17549435e-38", "1e-45", "1.4e-45", "7e-46", "1e-50",
		"0", "-0", "0.0", "0e10", "-0.0e-5", "1e-7", "1e-07", "1E+2", "123456789012345678901234", "0.0000000000000000000000000001",
		"01", "1.", ".5", "-", "+1", "1e", "1e+", "--1", "0x10", "NaN", "Infinity",
	} {
		check(s)
	}
}

func TestDecodeVectorFastAgreesWithJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	vec := make([]float32, 16)
	for i := range vec {
		vec[i] = float32(r.NormFloat64() * 0.1)
	}
	vec[3], vec[7] = 0, 3e-7
	good, err := json.Marshal(vectorLine{ID: "0190c5a0-7b1e-7c3d-8e2f-000000000001", OrgID: "acme", UserID: "alice", TextSHA256: TextSHA256("hello"), Vector: vec})
	require.NoError(t, err)
	s := string(good)
	lines := []string{
		s,
		strings.Replace(s, `"vector":[`, `"vector": [`, 1),                   // other spacing
		strings.Replace(s, `{"id":`, `{ "id":`, 1),                           // other spacing
		strings.Replace(s, `,"org_id":"acme"`, `,"org_id":"acme","x":1`, 1),  // an unknown field
		strings.Replace(s, `"id":"0190`, `"id":"zz90`, 1),                    // not an id
		strings.Replace(s, `"text_sha256":"`, `"text_sha256":"00`, 1),        // not a SHA-256
		strings.Replace(s, `"user_id":"alice"`, `"user_id":""`, 1),           // no user
		strings.Replace(s, `"user_id":"alice"`, `"user_id":"al\u0069ce"`, 1), // an escape
		strings.Replace(s, "]}", ",0.5]}", 1),                                // one number too many
		strings.Replace(s, "]}", "]} ", 1),
		strings.Replace(s, "]}", "]", 1),
		strings.Replace(s, "[", "[1e40,", 1),
		strings.Replace(s, "[", "[01,", 1),
		strings.Replace(s, "[", "[-,", 1),
		strings.Replace(s, "[", "[NaN,", 1),
		strings.Replace(s, ",", ",,", 1),
		`{"id":"0190c5a0-7b1e-7c3d-8e2f-000000000001","org_id":"acme","user_id":"alice","text_sha256":"` + TextSHA256("x") + `","vector":[]}`,
	}
	for _, l := range lines {
		for _, dim := range []int{16, 17, 0} {
			want, werr := decodeVectorJSON([]byte(l), dim)
			got, ok := decodeVectorFast([]byte(l), dim, true)
			if ok {
				require.NoError(t, werr, "the fast path took %s, which JSON refuses", l)
				require.Equal(t, want, got, l)
				checked, ok := decodeVectorFast([]byte(l), dim, false)
				require.True(t, ok)
				require.Nil(t, checked.Vector)
			}
			// Whatever path reads it, decodeVector answers as before.
			full, err := decodeVector([]byte(l), dim, true)
			if werr != nil {
				require.Error(t, err, l)
			} else if err == nil {
				require.Equal(t, want, full)
			}
		}
	}
	_, ok := decodeVectorFast([]byte(s), 16, true)
	require.True(t, ok, "the line an export writes takes the fast path")
}

func BenchmarkDecodeVector(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	vec := make([]float32, 384)
	for i := range vec {
		vec[i] = float32(r.NormFloat64() * 0.05)
	}
	line, err := json.Marshal(vectorLine{ID: "0190c5a0-7b1e-7c3d-8e2f-000000000001", OrgID: "acme", UserID: "alice", TextSHA256: TextSHA256("hello"), Vector: vec})
	require.NoError(b, err)
	b.Run("json", func(b *testing.B) {
		for b.Loop() {
			if _, err := decodeVectorJSON(line, 384); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, convert := range []bool{true, false} {
		b.Run(fmt.Sprintf("fast/convert=%v", convert), func(b *testing.B) {
			for b.Loop() {
				if _, ok := decodeVectorFast(line, 384, convert); !ok {
					b.Fatal("not decoded")
				}
			}
		})
	}
}
