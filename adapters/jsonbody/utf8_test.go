package jsonbody_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/jsonbody"
	"github.com/engram-memory/engram/domain"
)

func TestCheckUTF8NamesTheField(t *testing.T) {
	for _, c := range []struct {
		name, body, field string
	}{
		{"ff fe in text", "{\"text\":\"a\xff\xfeb\"}", "text"},
		{"overlong slash", "{\"text\":\"\xc0\xaf\"}", "text"},
		{"lone continuation", "{\"app\":\"x\",\"text\":\"\x80\"}", "text"},
		{"utf-8 encoded surrogate", "{\"text\":\"\xed\xa0\x80\"}", "text"},
		{"truncated sequence", "{\"text\":\"\xe2\x82\"}", "text"},
		{"unpaired high surrogate escape", `{"text":"\ud83d"}`, "text"},
		{"unpaired low surrogate escape", `{"text":"\udc00x"}`, "text"},
		{"high then non-low escape", `{"text":"\ud83d\u0041"}`, "text"},
		{"in a batch", "{\"events\":[{\"text\":\"ok\"},{\"text\":\"\xff\"}]}", "events[1].text"},
		{"in metadata", "{\"metadata\":{\"note\":{\"deep\":[1,\"\xff\"]}}}", "metadata.note.deep[1]"},
		{"in a key", "{\"metadata\":{\"\xff\":1}}", "metadata"},
		{"top-level string", "\"\xff\"", "body"},
		{"after an escaped quote", "{\"text\":\"\\\"\xff\"}", "text"},
	} {
		err := jsonbody.CheckUTF8([]byte(c.body))
		var ve *domain.ValidationError
		require.True(t, errors.As(err, &ve), "%s: %v", c.name, err)
		require.Equal(t, c.field, ve.Field, c.name)
		require.ErrorIs(t, err, domain.ErrInvalid, c.name)
	}
}

func TestCheckUTF8PassesValidText(t *testing.T) {
	for _, body := range []string{
		`{"text":"plain"}`,
		`{"text":"caf\u00e9 \ud83d\ude00 \\ud83d"}`, // a pair, and an escaped backslash before "ud83d"
		"{\"text\":\"café 😀 日本\"}",
		`{"n":1.5e3,"b":true,"z":null,"a":[]}`,
		"{\"text\":\"\xff", // unterminated: the decoder's syntax error, not ours
		"not json \xff",
	} {
		require.NoError(t, jsonbody.CheckUTF8([]byte(body)), body)
	}
}

// TestCheckUTF8EndsOnMalformedJSON holds the scanner to finishing on bodies
// that are not JSON: a delimiter where a value should be left it looping
// forever on `{"":[\x80}`, one request spinning a core (found by
// FuzzMemoryBodies on POST /memories/bulk-delete).
func TestCheckUTF8EndsOnMalformedJSON(t *testing.T) {
	for _, body := range []string{
		"{\"\":[\x80}",
		"[\x80}",
		"[1}",
		"{\"a\":1]\xff",
		"{\"a\":}\xff",
		"[,\xff",
		"[:]\xff",
		"{\"a\":1 \"b\":\"\xff\"}",
	} {
		done := make(chan error, 1)
		go func() { done <- jsonbody.CheckUTF8([]byte(body)) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("CheckUTF8(%q) did not return", body)
		}
	}
}
