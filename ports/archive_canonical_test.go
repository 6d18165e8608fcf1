package ports

import (
	"testing"
)

var canonSeeds = []string{
	`{"a":1,"b":[true,false,null],"c":{"d":"é ü 日本"}}`,
	`{"b":1,"a":2}`, `{"a":1,"a":2}`, `{"a": 1}`, `[1,2.5,1e3,-0,0,-12,007]`,
	`"x\"y"`, `"<&>"`, "\"\u2028\"", `123456789012345`, `1234567890123456`,
	`{"i":5}`, `["drinks","food"]`, `{"":1}`, `[[[]]]`, `{"k":{}}`, "\"\xff\"", `tru`, `{"a":1,}`, `[1,]`,
}

// A value the fast check passes must be exactly what decoding and encoding
// again gives: the fast path may only skip work, never change an answer.
func FuzzCanonicalJSONFastPath(f *testing.F) {
	for _, s := range canonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !isCanonical(raw) {
			return
		}
		slow, err := canonicalSlow(raw)
		if err != nil {
			t.Fatalf("fast path accepted %q, which does not decode: %v", raw, err)
		}
		if string(slow) != string(raw) {
			t.Fatalf("fast path kept %q, canonical form is %q", raw, slow)
		}
	})
}

func TestCanonicalJSONFastPathCases(t *testing.T) {
	fast := map[string]bool{
		`{"a":1,"b":[true,false,null],"c":{"d":"é ü 日本"}}`: true, `{"i":5}`: true, `["drinks","food"]`: true, `"<&>"`: true,
		`{"b":1,"a":2}`: false, `{"a":1,"a":2}`: false, `{"a": 1}`: false, `[1,2.5]`: false, `-0`: false, `007`: false,
		`"x\"y"`: false, "\"\u2028\"": false, `1234567890123456`: false, "\"\xff\"": false, `{"a":1,}`: false, `tru`: false,
	}
	for in, want := range fast {
		if got := isCanonical([]byte(in)); got != want {
			t.Errorf("isCanonical(%q) = %v, want %v", in, got, want)
		}
		got, err := CanonicalJSON([]byte(in))
		slow, serr := canonicalSlow([]byte(in))
		if (err == nil) != (serr == nil) || string(got) != string(slow) {
			t.Errorf("CanonicalJSON(%q) = %q, %v; slow path %q, %v", in, got, err, slow, serr)
		}
	}
}
