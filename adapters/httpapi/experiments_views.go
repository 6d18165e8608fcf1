package httpapi

import (
	"errors"
	"time"

	"github.com/engram-memory/engram/domain"
)

// paramsBody is the wire shape of domain.SearchParams. Absent fields keep
// the search defaults; a present field is the client's value, so every
// number is a pointer: a given 0 is refused or honoured, never taken for
// "not given" (issue 11).
type paramsBody struct {
	Mode          domain.SearchMode `json:"mode,omitempty"`
	RRFK          *int              `json:"rrf_k,omitempty"`
	LexicalWeight *float64          `json:"lexical_weight,omitempty"`
	VectorWeight  *float64          `json:"vector_weight,omitempty"`
	EntityWeight  *float64          `json:"entity_weight,omitempty"`
	RecencyWeight *float64          `json:"recency_weight,omitempty"`
	Limit         *int              `json:"limit,omitempty"`
}

type variantBody struct {
	Name   string     `json:"name"`
	Weight *float64   `json:"weight"`
	Params paramsBody `json:"params"`
}

// params checks the present fields and builds the domain value, whose zero
// fields mean "the default". Weights travel as a pair: giving one gives
// both, the absent one at its default (1), so {"vector_weight": 2} keeps
// the lexical ranking at full weight and {"lexical_weight": 0, ...} turns
// it off.
func (b paramsBody) params() (domain.SearchParams, error) {
	p := domain.SearchParams{Mode: b.Mode}
	var err error
	if p.RRFK, err = domain.OptionalInRange("rrf_k", b.RRFK, 1, domain.MaxRRFK); err != nil {
		return p, err
	}
	if p.Limit, err = domain.OptionalInRange("limit", b.Limit, 1, domain.MaxSearchLimit); err != nil {
		return p, err
	}
	if b.LexicalWeight != nil || b.VectorWeight != nil || b.EntityWeight != nil || b.RecencyWeight != nil {
		p.Weights = domain.DefaultWeights
		if b.LexicalWeight != nil {
			p.Weights.Lexical = *b.LexicalWeight
		}
		if b.VectorWeight != nil {
			p.Weights.Vector = *b.VectorWeight
		}
		if b.EntityWeight != nil {
			p.Weights.Entity = *b.EntityWeight
		}
		if b.RecencyWeight != nil {
			p.Weights.Recency = *b.RecencyWeight
		}
		if err := p.Weights.Validate(); err != nil {
			return p, domain.Invalid("lexical_weight", "vector_weight, entity_weight and recency_weight must each be between %g and %g, lexical and vector not both 0", domain.MinRankWeight, domain.MaxRankWeight)
		}
	}
	return p, p.Validate()
}

func variantsFrom(in []variantBody) ([]domain.Variant, error) {
	out := make([]domain.Variant, len(in))
	for i, v := range in {
		if v.Weight == nil {
			return nil, domain.Invalid("variants.weight", "of %q is required", v.Name)
		}
		p, err := v.Params.params()
		if err != nil {
			var ve *domain.ValidationError
			if errors.As(err, &ve) {
				return nil, domain.Invalid("variants.params."+ve.Field, "of %q %s", v.Name, ve.Reason)
			}
			return nil, err
		}
		out[i] = domain.Variant{Name: v.Name, Weight: *v.Weight, Params: p}
	}
	return out, nil
}

func viewVariants(vs []domain.Variant) []variantBody {
	out := make([]variantBody, len(vs))
	for i, v := range vs {
		b := variantBody{Name: v.Name, Weight: &v.Weight, Params: paramsBody{Mode: v.Params.Mode}}
		if v.Params.RRFK != 0 {
			b.Params.RRFK = &v.Params.RRFK
		}
		if v.Params.Limit != 0 {
			b.Params.Limit = &v.Params.Limit
		}
		if w := v.Params.Weights; w != (domain.Weights{}) {
			b.Params.LexicalWeight, b.Params.VectorWeight, b.Params.EntityWeight = &w.Lexical, &w.Vector, &w.Entity
			if w.Recency != 0 {
				b.Params.RecencyWeight = &w.Recency
			}
		}
		out[i] = b
	}
	return out
}

type createExperimentRequest struct {
	Name        string        `json:"name"`
	Description string        `json:"description"`
	Variants    []variantBody `json:"variants"`
}

type updateExperimentRequest struct {
	Name        *string        `json:"name"`
	Description *string        `json:"description"`
	Variants    *[]variantBody `json:"variants"`
}

type statusChangeView struct {
	From   domain.ExperimentStatus `json:"from,omitempty"`
	To     domain.ExperimentStatus `json:"to"`
	Actor  domain.UserID           `json:"actor"`
	Reason string                  `json:"reason,omitempty"`
	At     time.Time               `json:"at"`
}

type experimentView struct {
	ID          domain.ExperimentID     `json:"id"`
	Name        string                  `json:"name"`
	Description string                  `json:"description"`
	Status      domain.ExperimentStatus `json:"status"`
	Variants    []variantBody           `json:"variants"`
	CreatedBy   domain.UserID           `json:"created_by"`
	CreatedAt   time.Time               `json:"created_at"`
	UpdatedAt   time.Time               `json:"updated_at"`
	StartedAt   *time.Time              `json:"started_at"`
	EndedAt     *time.Time              `json:"ended_at"`
	History     []statusChangeView      `json:"history"`
}

func timeOrNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func viewExperiment(e domain.Experiment) experimentView {
	h := make([]statusChangeView, len(e.History))
	for i, c := range e.History {
		h[i] = statusChangeView{From: c.From, To: c.To, Actor: c.Actor, Reason: c.Reason, At: c.At.UTC()}
	}
	return experimentView{
		ID: e.ID, Name: e.Name, Description: e.Description, Status: e.Status, Variants: viewVariants(e.Variants),
		CreatedBy: e.CreatedBy, CreatedAt: e.CreatedAt.UTC(), UpdatedAt: e.UpdatedAt.UTC(),
		StartedAt: timeOrNull(e.StartedAt), EndedAt: timeOrNull(e.EndedAt), History: h,
	}
}
