package openaiembed

import (
	"context"
	"encoding/json"
	"fmt"
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

// malformedError is a 2xx answer we cannot use; retrying would not fix it.
type malformedError struct{ reason string }

func (e *malformedError) Error() string { return "malformed embeddings answer: " + e.reason }

// call posts one batch (openaihttp retries it) and checks the answer
// holds one vector per text.
func (e *Embedder) call(ctx context.Context, texts []string) ([][]float32, error) {
	body, err := json.Marshal(embedRequest{Model: e.cfg.Model, Input: texts, EncodingFormat: "float", Dimensions: e.cfg.Dimensions})
	if err != nil {
		return nil, err
	}
	raw, err := e.http.Post(ctx, body)
	if err != nil {
		return nil, err
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
