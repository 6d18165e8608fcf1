package domain

import (
	"sort"
	"time"
)

// QueryID identifies one search a user ran; every search response carries it
// and feedback points back to it. It is a UUIDv7 like MemoryID.
type QueryID string

// NewQueryID returns a fresh, time-sortable query id.
func NewQueryID(now time.Time) QueryID { return QueryID(NewID(now)) }

// ParseQueryID validates a query id taken from a request.
func ParseQueryID(s string) (QueryID, error) {
	if !ValidID(s) {
		return "", Invalid("query_id", "must be a lower-case UUID")
	}
	return QueryID(s), nil
}

// Outcome is what the user (or agent) did with a search result.
type Outcome string

// The outcomes. Edited means the result was used after changing it: it
// helped, but not as it stood, so it does not count as accepted.
const (
	OutcomeAccepted Outcome = "accepted"
	OutcomeRejected Outcome = "rejected"
	OutcomeIgnored  Outcome = "ignored"
	OutcomeEdited   Outcome = "edited"
)

// Outcomes lists every outcome in a stable order, for reports.
var Outcomes = []Outcome{OutcomeAccepted, OutcomeRejected, OutcomeIgnored, OutcomeEdited}

// ParseOutcome refuses anything but the four outcomes.
func ParseOutcome(s string) (Outcome, error) {
	for _, o := range Outcomes {
		if string(o) == s {
			return o, nil
		}
	}
	return "", Invalid("outcome", "must be one of accepted, rejected, ignored, edited")
}

// Feedback bounds.
const (
	MinRating             = 1
	MaxRating             = 5
	MaxFeedbackLatencyMS  = 24 * 60 * 60 * 1000 // a day: anything larger is a client bug
	MaxFeedbackBatch      = 1000
	DefaultFeedbackRetain = 30 * 24 * time.Hour
)

// FeedbackEvent is one judgement of a search result. Events are append-only:
// nothing updates them, and only retention and a user's erasure delete them.
// ExperimentID and Variant are never taken from the client: they are copied
// from the query log of QueryID, so feedback is attributed to the variant
// that actually produced the results.
type FeedbackEvent struct {
	ID           string // UUIDv7
	OrgID        OrgID
	UserID       UserID
	QueryID      QueryID
	MemoryID     MemoryID // optional: feedback on the result list as a whole
	App          AppID    // the tool or app that reported it
	Outcome      Outcome
	Rating       int // 0: none, else MinRating..MaxRating
	ExperimentID ExperimentID
	Variant      string
	LatencyMS    int // time from the search response to the judgement
	CreatedAt    time.Time
}

// Validate checks every field a client supplies.
func (e FeedbackEvent) Validate() error {
	if err := (Tenant{OrgID: e.OrgID, UserID: e.UserID}).Validate(); err != nil {
		return err
	}
	if !ValidID(e.ID) {
		return Invalid("id", "must be a lower-case UUID")
	}
	if !ValidID(string(e.QueryID)) {
		return Invalid("query_id", "must be a lower-case UUID")
	}
	if e.MemoryID != "" && !ValidID(string(e.MemoryID)) {
		return Invalid("memory_id", "must be a lower-case UUID")
	}
	if err := ValidateAppID(e.App); err != nil {
		return err
	}
	if _, err := ParseOutcome(string(e.Outcome)); err != nil {
		return err
	}
	if e.Rating != 0 && (e.Rating < MinRating || e.Rating > MaxRating) {
		return Invalid("rating", "must be between %d and %d, got %d", MinRating, MaxRating, e.Rating)
	}
	if e.LatencyMS < 0 || e.LatencyMS > MaxFeedbackLatencyMS {
		return Invalid("latency_ms", "must be between 0 and %d", MaxFeedbackLatencyMS)
	}
	if (e.ExperimentID == "") != (e.Variant == "") {
		return Invalid("variant", "is set exactly when experiment_id is")
	}
	if e.CreatedAt.IsZero() {
		return Invalid("created_at", "must be set")
	}
	return nil
}

// FeedbackFilter selects feedback of one org. Empty fields match everything;
// UserID empty means every user of the org (an operator view).
type FeedbackFilter struct {
	UserID       UserID
	QueryID      QueryID
	ExperimentID ExperimentID
	Since        time.Time // inclusive
	Until        time.Time // exclusive
}

// FeedbackPage is one page of feedback, newest first.
type FeedbackPage struct {
	Events []FeedbackEvent
	Next   string // empty on the last page
}

// OutcomeCounts counts events by outcome.
type OutcomeCounts map[Outcome]int

// Total is the number of events counted.
func (c OutcomeCounts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// AcceptanceRate is accepted / total, 0 when nothing was counted.
func (c OutcomeCounts) AcceptanceRate() float64 {
	n := c.Total()
	if n == 0 {
		return 0
	}
	return float64(c[OutcomeAccepted]) / float64(n)
}

// FeedbackGroup is the outcome distribution of one slice (an app, a variant).
type FeedbackGroup struct {
	Key      string
	Outcomes OutcomeCounts
}

// FeedbackMetrics aggregates the feedback a filter selects.
type FeedbackMetrics struct {
	Outcomes  OutcomeCounts
	ByApp     []FeedbackGroup // ordered by key
	ByVariant []FeedbackGroup // events with a variant only, ordered by key
	// AvgRating is the mean of the ratings given, 0 when none was.
	AvgRating float64
	Rated     int
}

// AddCount folds n events of one (app, variant, outcome) cell, with the sum
// and count of their ratings, into m. Stores aggregate with one GROUP BY
// over those three columns and build the metrics with it, so every backend
// shapes the answer identically. Call Finish when done.
func (m *FeedbackMetrics) AddCount(app AppID, variant string, o Outcome, n int, ratingSum float64, rated int) {
	if m.Outcomes == nil {
		m.Outcomes = OutcomeCounts{}
	}
	m.Outcomes[o] += n
	m.ByApp = addToGroup(m.ByApp, string(app), o, n)
	if variant != "" {
		m.ByVariant = addToGroup(m.ByVariant, variant, o, n)
	}
	if rated > 0 {
		m.AvgRating = (m.AvgRating*float64(m.Rated) + ratingSum) / float64(m.Rated+rated)
		m.Rated += rated
	}
}

func addToGroup(gs []FeedbackGroup, key string, o Outcome, n int) []FeedbackGroup {
	for i := range gs {
		if gs[i].Key == key {
			gs[i].Outcomes[o] += n
			return gs
		}
	}
	return append(gs, FeedbackGroup{Key: key, Outcomes: OutcomeCounts{o: n}})
}

// Finish orders the groups by key and makes empty maps non-nil.
func (m *FeedbackMetrics) Finish() {
	if m.Outcomes == nil {
		m.Outcomes = OutcomeCounts{}
	}
	for _, gs := range [][]FeedbackGroup{m.ByApp, m.ByVariant} {
		sort.Slice(gs, func(i, j int) bool { return gs[i].Key < gs[j].Key })
	}
}
