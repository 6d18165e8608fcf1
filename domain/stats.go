package domain

import "time"

// Dimensions of the cached counts behind Stats. A store keeps one count
// per (tenant, dimension, label, state) and adjusts it in the transaction
// of every write, so that Stats costs the number of counts, not the number
// of memories.
const (
	TallyApp      = "app"      // label: app id
	TallyCategory = "category" // label: category
	TallyDay      = "day"      // label: UTC day of creation, YYYY-MM-DD
	TallyAccessed = "accessed" // label: app id; state ""
)

// NewStats is an empty Stats with every map made.
func NewStats() Stats {
	return Stats{ByState: map[State]int{}, ByApp: map[AppID]int{}, ByCategory: map[string]int{},
		ByDay: map[string]int{}, Accessed: map[AppID]int{}}
}

// DayOf is a creation time's TallyDay label.
func DayOf(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// Tally folds one cached count into st. n may be negative: Untally
// subtracts memories the counts still hold but no reader may see.
func (st *Stats) Tally(dim, label string, state State, n int) {
	switch dim {
	case TallyApp:
		st.Total += n
		st.ByState[state] += n
		st.ByApp[AppID(label)] += n
	case TallyCategory:
		st.ByCategory[label] += n
	case TallyDay:
		st.ByDay[label] += n
	case TallyAccessed:
		st.Accessed[AppID(label)] += n
	}
}

// Untally subtracts a memory the counts hold but Stats must not: one that
// expired and that the sweeper has not erased yet.
func (st *Stats) Untally(app AppID, state State, categories []string, created time.Time) {
	st.Tally(TallyApp, string(app), state, -1)
	st.Tally(TallyDay, DayOf(created), state, -1)
	for _, c := range categories {
		st.Tally(TallyCategory, c, state, -1)
	}
}

// Prune drops the entries that are zero after Untally.
func (st *Stats) Prune() {
	prune(st.ByState)
	prune(st.ByApp)
	prune(st.ByCategory)
	prune(st.ByDay)
	prune(st.Accessed)
}

func prune[K comparable](m map[K]int) {
	for k, v := range m {
		if v <= 0 {
			delete(m, k)
		}
	}
}
