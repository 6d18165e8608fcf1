package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// InferenceDeps are what Inference needs. LLM may be nil: there is no
// model, and Enabled says so.
type InferenceDeps struct {
	LLM    ports.LLM
	Writer ports.InferenceWriter
	// Events queues asynchronous inferences (Submit, RunWorker).
	Events   ports.InferenceEvents
	Finder   MemoryFinder
	Memories *MemoryService
	// Instructions, when set, returns an app's custom instructions.
	Instructions func(ctx context.Context, t domain.Tenant, app domain.AppID) (string, error)
	// MaxTokens bounds each answer; 0 leaves it to the adapter.
	MaxTokens int
}

// Inference turns a conversation into facts and reconciles each with the
// caller's most similar memories: add, update, supersede or none.
type Inference struct{ d InferenceDeps }

// NewInference checks deps.
func NewInference(d InferenceDeps) *Inference {
	if d.Writer == nil || d.Finder == nil || d.Memories == nil {
		panic("app: InferenceDeps needs Writer, Finder and Memories")
	}
	return &Inference{d: d}
}

// Enabled reports whether a model is configured.
func (s *Inference) Enabled() bool { return s.d.LLM != nil }

// InferInput is one conversation to learn from.
type InferInput struct {
	Messages       []domain.Message
	App            domain.AppID
	AgentID, RunID string
	Metadata       domain.Metadata
}

// ErrNoModel is returned by Infer when no LLM is configured.
var ErrNoModel = errors.New("inference: no model configured")

// Infer extracts facts from in.Messages, compares each with the caller's
// memories most like it, and applies the decisions in one transaction. An
// answer of the model that is unusable (not JSON, not the schema, naming a
// memory it was not shown) is asked again once; a second one fails the
// call with an error wrapping domain.ErrInvalid that gives the reason, and
// nothing is written.
func (s *Inference) Infer(ctx context.Context, p domain.Principal, in InferInput) ([]domain.InferenceChange, error) {
	if s.d.LLM == nil {
		return nil, ErrNoModel
	}
	if err := p.Require(domain.ScopeMemoriesWrite); err != nil {
		return nil, err
	}
	if err := domain.ValidateMessages(in.Messages); err != nil {
		return nil, err
	}
	t := p.Tenant()
	if err := allowWrite(ctx, s.d.Memories.d.Guard, t); err != nil {
		return nil, err
	}
	appID := ActingApp(p, in.App)
	if err := s.d.Memories.activeApp(ctx, t, appID); err != nil {
		return nil, err
	}
	var instr string
	if s.d.Instructions != nil {
		var err error
		if instr, err = s.d.Instructions(ctx, t, appID); err != nil {
			return nil, err
		}
	}
	facts, err := s.extract(ctx, instr, in.Messages)
	if err != nil || len(facts) == 0 {
		return []domain.InferenceChange{}, err
	}
	shown, refs, err := s.candidates(ctx, p, facts)
	if err != nil {
		return nil, err
	}
	var ops []domain.InferenceOp
	err = s.twice(ctx, "reconcile", reconcileRequest(instr, shown, facts, s.d.MaxTokens), func(raw json.RawMessage) error {
		ops, err = s.plan(t, appID, in, facts, refs, raw)
		return err
	})
	if err != nil {
		return nil, err
	}
	changes, err := s.d.Writer.ApplyInference(ctx, t, appID, ops)
	if err != nil {
		return nil, err
	}
	var ids []domain.MemoryID
	for _, c := range changes {
		if c.Action != domain.InferNone && c.MemoryID != "" {
			ids = append(ids, c.MemoryID)
		}
		if c.Previous != "" {
			ids = append(ids, c.Previous)
		}
	}
	if len(ids) > 0 {
		s.d.Memories.notify(ctx, t, ids...)
	}
	return changes, nil
}

// extract asks for the facts, twice at most.
func (s *Inference) extract(ctx context.Context, instr string, msgs []domain.Message) ([]string, error) {
	var facts []string
	err := s.twice(ctx, "extract", extractRequest(instr, msgs, s.d.MaxTokens), func(raw json.RawMessage) error {
		var a struct {
			Facts *[]string `json:"facts"`
		}
		if err := strictDecode(raw, &a); err != nil || a.Facts == nil {
			return fmt.Errorf("the answer does not match the facts schema: %v", err)
		}
		facts = facts[:0]
		for _, f := range *a.Facts {
			f = strings.TrimSpace(f)
			if f == "" || slices.Contains(facts, f) {
				continue
			}
			if err := domain.ValidateText(f); err != nil {
				return fmt.Errorf("fact %d: %v", len(facts), err)
			}
			facts = append(facts, f)
		}
		if len(facts) > domain.MaxInferredFacts {
			return fmt.Errorf("%d facts, at most %d", len(facts), domain.MaxInferredFacts)
		}
		return nil
	})
	return facts, err
}

// twice calls the model and hands its answer to use; an unusable answer
// (the adapter's ErrInvalid or use's error) is asked for once more.
func (s *Inference) twice(ctx context.Context, step string, req ports.ChatRequest, use func(json.RawMessage) error) error {
	var last error
	for range 2 {
		raw, err := s.d.LLM.Chat(ctx, req)
		if err == nil {
			if err = use(raw); err == nil {
				return nil
			}
		} else if !errors.Is(err, domain.ErrInvalid) {
			return err
		}
		last = err
	}
	return fmt.Errorf("%w: inference %s: the model's answer was unusable twice: %v", domain.ErrInvalid, step, last)
}

// candidates finds the caller's memories most like each fact and keys them
// by short references ("0", "1", …) for the prompt. The search runs as the
// caller, within its tenant: nothing else can be shown to the model.
func (s *Inference) candidates(ctx context.Context, p domain.Principal, facts []string) ([]shownMemory, map[string]domain.MemoryID, error) {
	reader := p
	if !slices.Contains(reader.Scopes, domain.ScopeMemoriesRead) {
		// Reconciliation reads the caller's own memories on its behalf;
		// what it read is never returned, only what changed.
		reader.Scopes = append(slices.Clone(p.Scopes), domain.ScopeMemoriesRead)
	}
	shown := []shownMemory{}
	refs := map[string]domain.MemoryID{}
	seen := map[domain.MemoryID]bool{}
	for _, f := range facts {
		// On the primary: what is found decides add or update, so a
		// lagging read replica could turn an update into a duplicate.
		ms, err := s.d.Finder.FindMemories(ports.WithPrimaryReads(ctx), reader, f, domain.MaxInferCandidates)
		if err != nil {
			return nil, nil, fmt.Errorf("inference: find memories like a fact: %w", err)
		}
		for _, m := range ms {
			if seen[m.ID] || m.State != domain.StateActive {
				continue
			}
			seen[m.ID] = true
			ref := strconv.Itoa(len(shown))
			refs[ref] = m.ID
			shown = append(shown, shownMemory{ID: ref, Text: m.Text})
		}
	}
	return shown, refs, nil
}

// plan turns the model's decisions into ops, trusting nothing: each fact
// decided at most once, each memory touched at most once, every id one of
// the shown references.
func (s *Inference) plan(t domain.Tenant, appID domain.AppID, in InferInput, facts []string, refs map[string]domain.MemoryID, raw json.RawMessage) ([]domain.InferenceOp, error) {
	var a struct {
		Decisions *[]struct {
			Fact  *int    `json:"fact"`
			Event *string `json:"event"`
			ID    *string `json:"id"`
			Text  *string `json:"text"`
		} `json:"decisions"`
	}
	if err := strictDecode(raw, &a); err != nil || a.Decisions == nil {
		return nil, fmt.Errorf("the answer does not match the decisions schema: %v", err)
	}
	decided := map[int]bool{}
	touched := map[domain.MemoryID]bool{}
	var ops []domain.InferenceOp
	now := s.d.Memories.d.Clock.Now()
	for i, d := range *a.Decisions {
		if d.Fact == nil || d.Event == nil || d.ID == nil || d.Text == nil {
			return nil, fmt.Errorf("decision %d lacks fact, event, id or text", i)
		}
		if *d.Fact < 0 || *d.Fact >= len(facts) || decided[*d.Fact] {
			return nil, fmt.Errorf("decision %d: fact %d is not a new fact or was decided twice", i, *d.Fact)
		}
		decided[*d.Fact] = true
		dec := domain.Decision{Action: domain.InferenceAction(*d.Event), Ref: *d.ID, Text: strings.TrimSpace(*d.Text)}
		target, err := domain.ResolveDecision(dec, refs)
		if err != nil {
			return nil, fmt.Errorf("decision %d: %v", i, err)
		}
		op := domain.InferenceOp{Action: dec.Action, Fact: facts[*d.Fact], Target: target}
		switch dec.Action {
		case domain.InferUpdate, domain.InferSupersede:
			if touched[target] {
				return nil, fmt.Errorf("decision %d: memory %s is changed twice", i, dec.Ref)
			}
			touched[target] = true
		}
		switch dec.Action {
		case domain.InferUpdate:
			op.Text = dec.Text
		case domain.InferAdd, domain.InferSupersede:
			m, err := domain.NewMemory(t, appID, dec.Text, in.Metadata, nil, now)
			if err != nil {
				return nil, fmt.Errorf("decision %d: %v", i, err)
			}
			m.AgentID, m.RunID = in.AgentID, in.RunID
			op.Memory = m
		}
		ops = append(ops, op)
	}
	for i := range facts {
		if !decided[i] {
			return nil, fmt.Errorf("fact %d has no decision", i)
		}
	}
	return ops, nil
}

// strictDecode refuses unknown fields and trailing data.
func strictDecode(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}
