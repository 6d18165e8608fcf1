package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/httpapi"
)

// Every response the tests get through env.serve is checked against
// docs/openapi.yaml: status documented for the operation, headers and body
// matching their schemas. The document thus describes what the server
// really sends, not what it was meant to.
var spec struct {
	once sync.Once
	mu   sync.Mutex // the validator is not documented as safe for concurrent use
	v    validator.Validator
	err  error
}

func specValidator(t testing.TB) validator.Validator {
	t.Helper()
	spec.once.Do(func() {
		// The merged document, so routes from fragments are checked too.
		merged, err := httpapi.OpenAPIDocument()
		if err != nil {
			spec.err = err
			return
		}
		raw, err := json.Marshal(merged)
		if err != nil {
			spec.err = err
			return
		}
		doc, err := libopenapi.NewDocument(raw)
		if err != nil {
			spec.err = err
			return
		}
		v, errs := validator.NewValidator(doc)
		if len(errs) > 0 {
			spec.err = fmt.Errorf("%v", errs)
			return
		}
		spec.v = v
	})
	require.NoError(t, spec.err)
	return spec.v
}

func TestOpenAPIDocumentValidates(t *testing.T) {
	v := specValidator(t)
	spec.mu.Lock()
	defer spec.mu.Unlock()
	ok, errs := v.ValidateDocument()
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	require.True(t, ok, strings.Join(msgs, "\n"))
}

// conforms checks one response against the document, and the request too
// when the server accepted it (a request the server takes must be one the
// document allows). Mounted test handlers and unknown routes are not part of
// the API and are skipped.
func conforms(t testing.TB, req *http.Request, body []byte, rec *httptest.ResponseRecorder) {
	t.Helper()
	if !strings.HasPrefix(req.URL.Path, "/api/v1/") && req.URL.Path != "/healthz" && req.URL.Path != "/readyz" {
		return
	}
	if rec.Code == http.StatusNotFound && rec.Header().Get("Content-Type") == "application/problem+json" && strings.Contains(rec.Body.String(), "about:blank") {
		return
	}
	if rec.Code == http.StatusMethodNotAllowed {
		return
	}
	v := specValidator(t)
	spec.mu.Lock()
	defer spec.mu.Unlock()
	req = req.Clone(req.Context())
	req.Body = io.NopCloser(bytes.NewReader(body))
	ok, errs := v.ValidateHttpResponse(req, rec.Result())
	if ok && rec.Code < 300 {
		req.Body = io.NopCloser(bytes.NewReader(body))
		ok, errs = v.ValidateHttpRequestSync(req)
	}
	if !ok {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error() + ": " + e.Reason
		}
		t.Errorf("%s %s (%s) → %d does not match docs/openapi.yaml:\n%s\nresponse: %s", req.Method, req.URL.Path, body, rec.Code, strings.Join(msgs, "\n"), rec.Body.String())
	}
}
