package domain

import (
	"fmt"
	"strings"
	"time"
)

// InferenceAction is what reconciliation decided for one extracted fact
// against the memories most like it (mem0's ADD / UPDATE / DELETE / NONE).
type InferenceAction string

// The actions. Supersede is mem0's DELETE made lossless: the fact replaces
// an existing memory, which is soft-deleted with its history kept and
// points to its successor.
const (
	InferAdd       InferenceAction = "add"
	InferUpdate    InferenceAction = "update"
	InferSupersede InferenceAction = "supersede"
	InferNone      InferenceAction = "none"
)

// Bounds of one inference: the facts one event may extract and the
// candidates each fact is compared with.
const (
	MaxInferredFacts    = 20
	MaxInferCandidates  = 5
	MaxInferMessages    = 50
	MaxInferMessageSize = 16 << 10
)

// InferenceOp is one change an inference applies. Add creates Memory;
// Update rewrites Target's text to Text; Supersede creates Memory and
// retires Target in its favour; None changes nothing.
type InferenceOp struct {
	Action InferenceAction
	Fact   string
	Target MemoryID // update, supersede; optional for none
	Memory Memory   // add, supersede: the new memory
	Text   string   // update: the new text
}

// InferenceChange is what an applied op did: Memory is the memory added,
// updated or left as is, Previous the superseded one.
type InferenceChange struct {
	Action   InferenceAction `json:"event"`
	MemoryID MemoryID        `json:"memory_id,omitempty"`
	Previous MemoryID        `json:"previous_memory_id,omitempty"`
	Text     string          `json:"text,omitempty"`
}

// Message is one turn of a conversation given to inference: Role is user,
// assistant or system.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ValidateMessages bounds a conversation: 1 to 50 turns of known roles,
// each valid text of at most 16 KiB.
func ValidateMessages(ms []Message) error {
	if len(ms) == 0 || len(ms) > MaxInferMessages {
		return Invalid("messages", "must hold 1 to %d messages, got %d", MaxInferMessages, len(ms))
	}
	for i, m := range ms {
		field := fmt.Sprintf("messages[%d]", i)
		switch m.Role {
		case "user", "assistant", "system":
		default:
			return Invalid(field+".role", "must be user, assistant or system")
		}
		if len(m.Content) > MaxInferMessageSize {
			return Invalid(field+".content", "must be at most %d bytes, got %d", MaxInferMessageSize, len(m.Content))
		}
		if err := ValidateText(m.Content); err != nil {
			return Invalid(field+".content", "%s", err.(*ValidationError).Reason)
		}
	}
	return nil
}

// Decision is the model's verdict on one fact, before it is trusted.
type Decision struct {
	Action InferenceAction
	Ref    string // the key of a memory the model was shown ("0", "1", …)
	Text   string // the text to store (update: the merged text)
}

// ResolveDecision validates d against the memories the model was shown,
// keyed by the short references the prompt used, and returns the memory
// it targets. A reference the model invented — a real id of anything it
// was not shown, another tenant's memory included — is refused. This, not
// the model, decides which memories an inference can touch.
func ResolveDecision(d Decision, shown map[string]MemoryID) (MemoryID, error) {
	switch d.Action {
	case InferAdd:
		return "", ValidateText(strings.TrimSpace(d.Text))
	case InferNone:
		return shown[d.Ref], nil
	case InferUpdate, InferSupersede:
		id, ok := shown[d.Ref]
		if !ok {
			return "", Invalid("id", "%s names %q, which is not one of the memories it was shown", d.Action, clip(d.Ref))
		}
		return id, ValidateText(strings.TrimSpace(d.Text))
	}
	return "", Invalid("event", "must be one of add, update, supersede, none, got %q", clip(string(d.Action)))
}

func clip(s string) string {
	if len(s) > 64 {
		return fmt.Sprintf("%.64s…", s)
	}
	return s
}

// EventStatus is where an inference event is: pending until a worker
// applied it (done) or gave up on it (failed).
type EventStatus string

// The event states.
const (
	EventPending EventStatus = "pending"
	EventDone    EventStatus = "done"
	EventFailed  EventStatus = "failed"
)

// InferenceRequest is what an asynchronous inference will learn from.
type InferenceRequest struct {
	Messages []Message `json:"messages"`
	AgentID  string    `json:"agent_id,omitempty"`
	RunID    string    `json:"run_id,omitempty"`
	Metadata Metadata  `json:"metadata,omitempty"`
}

// InferenceEvent is one asynchronous inference: its input until it ends
// (then cleared), and what it changed or why it failed.
type InferenceEvent struct {
	ID        string
	OrgID     OrgID
	UserID    UserID
	App       AppID
	Status    EventStatus
	Request   InferenceRequest
	Changes   []InferenceChange
	Error     string
	Attempts  int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Tenant returns the event's owner.
func (e InferenceEvent) Tenant() Tenant { return Tenant{OrgID: e.OrgID, UserID: e.UserID} }
