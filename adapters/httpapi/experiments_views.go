package httpapi

import (
	"time"

	"github.com/engram-memory/engram/domain"
)

// paramsBody is the wire shape of domain.SearchParams; absent fields keep
// the search defaults.
type paramsBody struct {
	Mode          domain.SearchMode `json:"mode,omitempty"`
	RRFK          int               `json:"rrf_k,omitempty"`
	LexicalWeight float64           `json:"lexical_weight,omitempty"`
	VectorWeight  float64           `json:"vector_weight,omitempty"`
	Limit         int               `json:"limit,omitempty"`
}

type variantBody struct {
	Name   string     `json:"name"`
	Weight float64    `json:"weight"`
	Params paramsBody `json:"params"`
}

func variantsFrom(in []variantBody) []domain.Variant {
	out := make([]domain.Variant, len(in))
	for i, v := range in {
		out[i] = domain.Variant{Name: v.Name, Weight: v.Weight, Params: domain.SearchParams{
			Mode: v.Params.Mode, RRFK: v.Params.RRFK, Limit: v.Params.Limit,
			Weights: domain.Weights{Lexical: v.Params.LexicalWeight, Vector: v.Params.VectorWeight},
		}}
	}
	return out
}

func viewVariants(vs []domain.Variant) []variantBody {
	out := make([]variantBody, len(vs))
	for i, v := range vs {
		out[i] = variantBody{Name: v.Name, Weight: v.Weight, Params: paramsBody{
			Mode: v.Params.Mode, RRFK: v.Params.RRFK, Limit: v.Params.Limit,
			LexicalWeight: v.Params.Weights.Lexical, VectorWeight: v.Params.Weights.Vector,
		}}
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
