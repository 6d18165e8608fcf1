package jsonbody_test

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/engram-memory/engram/adapters/jsonbody"
	"github.com/engram-memory/engram/domain"
)

// FuzzCheckUTF8 runs the scanner on its own, far faster than through the
// HTTP handlers (FuzzMemoryBodies found its endless loop only after minutes):
// it must return for every input (the fuzzer's hang detector fails a call
// that does not), pass a valid-UTF-8 JSON document without surrogate
// escapes, and report a failure only as a field-naming validation error.
func FuzzCheckUTF8(f *testing.F) {
	for _, seed := range []string{
		`{"text":"hello"}`, "{\"\":[\x80}", "[1}", "{\"a\":1 \"b\":\"\xff\"}", `{"t":"\ud83d"}`,
		"{\"events\":[{\"text\":\"\xff\"}]}", "\"\xff\"", `{"a":[1,2,{"b":null}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		err := jsonbody.CheckUTF8(raw)
		if err == nil {
			return
		}
		var ve *domain.ValidationError
		if !errors.As(err, &ve) || ve.Field == "" {
			t.Fatalf("CheckUTF8(%q) = %v, want a validation error naming a field", raw, err)
		}
		if utf8.Valid(raw) && json.Valid(raw) && !decodesToReplacement(raw) {
			t.Fatalf("CheckUTF8(%q) refused a valid UTF-8 document: %v", raw, err)
		}
	})
}

// decodesToReplacement reports whether raw fails to decode or decodes to a
// string holding U+FFFD.
func decodesToReplacement(raw []byte) bool {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return true
	}
	return containsReplacement(v)
}

// containsReplacement reports whether a decoded value holds U+FFFD, which is
// what encoding/json makes of an unpaired surrogate escape.
func containsReplacement(v any) bool {
	switch v := v.(type) {
	case string:
		return containsRune(v)
	case []any:
		for _, e := range v {
			if containsReplacement(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range v {
			if containsRune(k) || containsReplacement(e) {
				return true
			}
		}
	}
	return false
}

func containsRune(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError {
			return true
		}
	}
	return false
}
