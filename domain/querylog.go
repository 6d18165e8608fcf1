package domain

import "time"

// SearchParams are the ranking knobs an experiment variant sets and a query
// log records. Zero values mean "the search default" (hybrid, DefaultRRFK,
// DefaultWeights, DefaultSearchLimit); Resolve fills them in.
type SearchParams struct {
	Mode    SearchMode
	RRFK    int
	Weights Weights
	Limit   int
}

// Resolve returns p with every zero field replaced by its default.
func (p SearchParams) Resolve() SearchParams {
	if p.Mode == "" {
		p.Mode = SearchHybrid
	}
	if p.RRFK == 0 {
		p.RRFK = DefaultRRFK
	}
	if p.Weights == (Weights{}) {
		p.Weights = DefaultWeights
	}
	if p.Limit == 0 {
		p.Limit = DefaultSearchLimit
	}
	return p
}

// MaxRRFK bounds k: beyond it every rank contributes about the same and the
// fusion degenerates into counting lists.
const MaxRRFK = 10000

// Validate refuses a mode, k, weight or limit the search could not honour.
func (p SearchParams) Validate() error {
	if _, err := ParseSearchMode(string(p.Mode)); err != nil {
		return err
	}
	if p.RRFK < 0 || p.RRFK > MaxRRFK {
		return Invalid("rrf_k", "must be between 1 and %d", MaxRRFK)
	}
	if p.Weights != (Weights{}) {
		if err := p.Weights.Validate(); err != nil {
			return err
		}
	}
	if p.Limit < 0 || p.Limit > MaxSearchLimit {
		return Invalid("limit", "must be between 1 and %d", MaxSearchLimit)
	}
	return nil
}

// QueryLog records one search: who ran it, what was asked, with which
// parameters, what came back and under which experiment variant. Feedback is
// accepted only for a query id logged for the same user, and engram
// tune-fusion replays the logs.
type QueryLog struct {
	ID           QueryID
	OrgID        OrgID
	UserID       UserID
	Query        string
	Params       SearchParams // as resolved for this search
	ResultIDs    []MemoryID   // in the order returned
	ExperimentID ExperimentID
	Variant      string
	CreatedAt    time.Time
}

// Validate checks a log entry before it is stored.
func (q QueryLog) Validate() error {
	if err := (Tenant{OrgID: q.OrgID, UserID: q.UserID}).Validate(); err != nil {
		return err
	}
	if !ValidID(string(q.ID)) {
		return Invalid("query_id", "must be a lower-case UUID")
	}
	if len(q.Query) > MaxQueryBytes {
		return Invalid("query", "must be at most %d bytes", MaxQueryBytes)
	}
	if err := q.Params.Validate(); err != nil {
		return err
	}
	if len(q.ResultIDs) > MaxSearchLimit {
		return Invalid("result_ids", "must be at most %d", MaxSearchLimit)
	}
	if (q.ExperimentID == "") != (q.Variant == "") {
		return Invalid("variant", "is set exactly when experiment_id is")
	}
	if q.CreatedAt.IsZero() {
		return Invalid("created_at", "must be set")
	}
	return nil
}
