package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/httpapi"
)

func TestMalformedBodiesAre400(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.user("acme", "alice")
	cases := map[string]struct {
		body  string
		field string
	}{
		"syntax error":        {`{"text": "x",}`, "body"},
		"truncated":           {`{"text": "x"`, "body"},
		"empty":               {``, "body"},
		"not an object":       {`["text"]`, "body"},
		"wrong type":          {`{"text": 42}`, "text"},
		"unknown field":       {`{"text": "x", "colour": "red"}`, "colour"},
		"two objects":         {`{"text": "x"}{"text": "y"}`, "body"},
		"trailing garbage":    {`{"text": "x"} garbage`, "body"},
		"metadata not object": {`{"text": "x", "metadata": [1]}`, "metadata"},
		"empty text":          {`{"text": "   "}`, "text"},
		"bad app":             {`{"text": "x", "app": "Not A Slug"}`, "app"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := requireProblem(t, alice.do(http.MethodPost, "/api/v1/memories", tc.body), http.StatusBadRequest)
			require.Equal(t, "urn:engram:problem:invalid", p.Type)
			require.Len(t, p.Errors, 1, p.Detail)
			require.Equal(t, tc.field, p.Errors[0].Field, p.Detail)
			require.Equal(t, "/api/v1/memories", p.Instance)
		})
	}
	// Nothing was stored by any of them.
	require.Empty(t, decode[pageJSON](t, alice.do(http.MethodGet, "/api/v1/memories", nil), http.StatusOK).Items)
}

// TestTenantFieldsAreRefused: the tenant comes only from the token, so a
// user_id or org_id anywhere in the request is an error, not ignored.
func TestTenantFieldsAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.user("acme", "alice")
	m := alice.add("a fact")
	for _, f := range []string{"user_id", "org_id"} {
		p := requireProblem(t, alice.do(http.MethodPost, "/api/v1/memories", `{"text": "y", "`+f+`": "bob"}`), http.StatusBadRequest)
		require.Equal(t, f, p.Errors[0].Field)
		require.Contains(t, p.Errors[0].Reason, "token")
		p = requireProblem(t, alice.do(http.MethodPatch, "/api/v1/memories/"+m.ID, `{"text": "y", "`+f+`": "bob"}`), http.StatusBadRequest)
		require.Equal(t, f, p.Errors[0].Field)
		p = requireProblem(t, alice.do(http.MethodGet, "/api/v1/memories?"+f+"=bob", nil), http.StatusBadRequest)
		require.Equal(t, f, p.Errors[0].Field)
		p = requireProblem(t, alice.do(http.MethodGet, "/api/v1/memories/"+m.ID+"?"+f+"=bob", nil), http.StatusBadRequest)
		require.Equal(t, f, p.Errors[0].Field)
	}
	require.Equal(t, "a fact", decode[memoryJSON](t, alice.do(http.MethodGet, "/api/v1/memories/"+m.ID, nil), http.StatusOK).Text)
}

func TestOversizeBodyIs413(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.user("acme", "alice")
	big := `{"text": "` + strings.Repeat("a", httpapi.DefaultBodyLimit) + `"}`

	t.Run("declared length", func(t *testing.T) {
		p := requireProblem(t, alice.do(http.MethodPost, "/api/v1/memories", big), http.StatusRequestEntityTooLarge)
		require.Equal(t, "urn:engram:problem:too-large", p.Type)
	})
	t.Run("chunked, no length", func(t *testing.T) {
		req := alice.request(http.MethodPost, "/api/v1/memories", nil)
		req.Body = io.NopCloser(strings.NewReader(big))
		req.ContentLength = -1
		requireProblem(t, e.serve(req), http.StatusRequestEntityTooLarge)
	})
	t.Run("under the limit is not refused for size", func(t *testing.T) {
		// 70 KiB of text: over the 64 KiB memory limit (400), under the body limit.
		p := requireProblem(t, alice.do(http.MethodPost, "/api/v1/memories", `{"text": "`+strings.Repeat("a", 70<<10)+`"}`), http.StatusBadRequest)
		require.Equal(t, "text", p.Errors[0].Field)
	})
}

func TestBodyLimitIsConfigurable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *envOptions) { o.cfg.BodyLimit = 64 })
	alice := e.user("acme", "alice")
	requireProblem(t, alice.do(http.MethodPost, "/api/v1/memories", `{"text": "`+strings.Repeat("a", 64)+`"}`), http.StatusRequestEntityTooLarge)
	alice.add("short")
}
