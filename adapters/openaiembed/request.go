package openaiembed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
)

type embedRequest struct {
	Model          string   `json:"model"`
	Input          []string `json:"input"`
	EncodingFormat string   `json:"encoding_format"`
	Dimensions     int      `json:"dimensions,omitempty"`
}

type embedResponse struct {
	Data []struct {
		Index     int       `json:"index"`
		Embedding []float32 `json:"embedding"`
	} `json:"data"`
	Model string `json:"model"`
}

// statusError is a non-2xx answer. 429 and 5xx are retried.
type statusError struct {
	code int
	body string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("embeddings endpoint answered %d: %s", e.code, e.body)
}

// malformedError is a 2xx answer we cannot use; retrying would not fix it.
type malformedError struct{ reason string }

func (e *malformedError) Error() string { return "malformed embeddings answer: " + e.reason }

func retryable(err error) bool {
	var se *statusError
	if errors.As(err, &se) {
		return se.code == http.StatusTooManyRequests || se.code >= 500
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	// A per-attempt deadline (not the caller's) expired.
	return errors.Is(err, errAttemptTimeout)
}

var errAttemptTimeout = errors.New("embeddings request timed out")

// call makes one request with its own deadline.
func (e *Embedder) call(ctx context.Context, texts []string) ([][]float32, error) {
	body, err := json.Marshal(embedRequest{Model: e.cfg.Model, Input: texts, EncodingFormat: "float", Dimensions: e.cfg.Dimensions})
	if err != nil {
		return nil, err
	}
	actx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, e.cfg.BaseURL+"/embeddings", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if e.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+e.cfg.APIKey)
	}
	resp, err := e.cfg.HTTPClient.Do(req)
	if err != nil {
		if ctx.Err() == nil && actx.Err() != nil {
			return nil, fmt.Errorf("%w after %s", errAttemptTimeout, e.cfg.Timeout)
		}
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		if ctx.Err() == nil && actx.Err() != nil {
			return nil, fmt.Errorf("%w after %s", errAttemptTimeout, e.cfg.Timeout)
		}
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, &statusError{code: resp.StatusCode, body: string(bytes.TrimSpace(raw[:min(len(raw), 512)]))}
	}
	var r embedResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, &malformedError{reason: err.Error()}
	}
	if len(r.Data) != len(texts) {
		return nil, &malformedError{reason: fmt.Sprintf("%d embeddings for %d inputs", len(r.Data), len(texts))}
	}
	// The protocol allows any order; index says where each belongs.
	sort.Slice(r.Data, func(i, j int) bool { return r.Data[i].Index < r.Data[j].Index })
	out := make([][]float32, len(texts))
	for i, d := range r.Data {
		if d.Index != i || len(d.Embedding) == 0 {
			return nil, &malformedError{reason: fmt.Sprintf("entry %d has index %d and %d values", i, d.Index, len(d.Embedding))}
		}
		out[i] = d.Embedding
	}
	return out, nil
}
