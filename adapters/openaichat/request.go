package openaichat

import (
	"encoding/json"
	"strings"

	"github.com/engram-memory/engram/ports"
)

type chatRequest struct {
	Model          string         `json:"model"`
	Messages       []chatMessage  `json:"messages"`
	ResponseFormat responseFormat `json:"response_format"`
	MaxTokens      int            `json:"max_tokens"`
	Temperature    float64        `json:"temperature"`
	Stream         bool           `json:"stream"`
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type responseFormat struct {
	Type       string     `json:"type"`
	JSONSchema jsonSchema `json:"json_schema"`
}

type jsonSchema struct {
	Name   string          `json:"name"`
	Schema json.RawMessage `json:"schema"`
	Strict bool            `json:"strict"`
}

type chatResponse struct {
	Choices []struct {
		FinishReason string `json:"finish_reason"`
		Message      struct {
			Content *string `json:"content"`
			Refusal *string `json:"refusal"`
		} `json:"message"`
	} `json:"choices"`
}

func (c *Client) encode(req ports.ChatRequest) ([]byte, error) {
	maxTokens := req.MaxTokens
	if maxTokens <= 0 || maxTokens > c.cfg.MaxTokens {
		maxTokens = c.cfg.MaxTokens
	}
	r := chatRequest{
		Model: c.cfg.Model, MaxTokens: maxTokens,
		ResponseFormat: responseFormat{Type: "json_schema", JSONSchema: jsonSchema{Name: req.SchemaName, Schema: req.Schema, Strict: true}},
	}
	for _, m := range req.Messages {
		r.Messages = append(r.Messages, chatMessage(m))
	}
	return json.Marshal(r)
}

// answerError is a 2xx answer that cannot be used: not JSON, cut off, a
// refusal. Asking the same again may help, which is the caller's choice.
type answerError struct{ reason string }

func (e *answerError) Error() string { return "unusable chat answer: " + e.reason }

// decode takes the first choice's content and checks it is JSON.
func decode(raw []byte) (json.RawMessage, error) {
	var r chatResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, &answerError{reason: "the response is not a chat completion: " + err.Error()}
	}
	if len(r.Choices) == 0 {
		return nil, &answerError{reason: "no choices"}
	}
	ch := r.Choices[0]
	if ch.Message.Refusal != nil && *ch.Message.Refusal != "" {
		return nil, &answerError{reason: "the model refused: " + clip(*ch.Message.Refusal)}
	}
	if ch.FinishReason == "length" {
		return nil, &answerError{reason: "the answer was cut off by the token bound"}
	}
	if ch.Message.Content == nil {
		return nil, &answerError{reason: "no content"}
	}
	content := strings.TrimSpace(*ch.Message.Content)
	content = unfence(content)
	if !json.Valid([]byte(content)) {
		return nil, &answerError{reason: "the content is not valid JSON: " + clip(content)}
	}
	return json.RawMessage(content), nil
}

// unfence removes a Markdown code fence around the JSON (```json … ```).
func unfence(s string) string {
	if !strings.HasPrefix(s, "```") || !strings.HasSuffix(s, "```") || len(s) < 6 {
		return s
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "```"), "```")
	if i := strings.IndexByte(s, '\n'); i >= 0 && !strings.ContainsAny(s[:i], "{[") {
		s = s[i+1:]
	}
	return strings.TrimSpace(s)
}

func clip(s string) string {
	if len(s) > 200 {
		return strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}
