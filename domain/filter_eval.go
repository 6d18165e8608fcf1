package domain

import (
	"slices"
	"strings"
	"time"
)

// Eval reports whether m passes f. It is the language's definition: each
// store's SQL must select exactly the memories Eval accepts (the contract
// suite checks this), and search re-checks hydrated memories with it.
// Comparisons of a metadata key that is absent, or holds a value of
// another type, are false; ne and nin are the negations of eq and in.
// Times compare at microsecond precision, strings byte by byte.
func (f Filter) Eval(m Memory) bool {
	switch {
	case f.And != nil:
		for _, x := range f.And {
			if !x.Eval(m) {
				return false
			}
		}
		return true
	case f.Or != nil:
		for _, x := range f.Or {
			if x.Eval(m) {
				return true
			}
		}
		return false
	case f.Not != nil:
		return !f.Not.Eval(m)
	}
	switch f.Op {
	case OpNe:
		return !f.with(OpEq).Eval(m)
	case OpNin:
		return !f.with(OpIn).Eval(m)
	case OpIn:
		for _, v := range f.Value.([]any) {
			if (Filter{Field: f.Field, Key: f.Key, Op: OpEq, Value: v}).Eval(m) {
				return true
			}
		}
		return false
	}
	switch f.Field {
	case FieldUserID:
		return compareText(string(m.UserID), f.Op, f.Value)
	case FieldAgentID:
		return compareText(m.AgentID, f.Op, f.Value)
	case FieldRunID:
		return compareText(m.RunID, f.Op, f.Value)
	case FieldAppID:
		return compareText(string(m.AppID), f.Op, f.Value)
	case FieldCategories:
		want, _ := f.Value.(string)
		return slices.Contains(m.Categories, want)
	case FieldCreatedAt:
		return compareTime(m.CreatedAt, f.Op, f.Value)
	case FieldUpdatedAt:
		return compareTime(m.UpdatedAt, f.Op, f.Value)
	case FieldMetadata:
		got, ok := m.Metadata[f.Key]
		return ok && compareJSON(got, f.Op, f.Value)
	}
	return false
}

func (f Filter) with(op FilterOp) Filter {
	f.Op = op
	return f
}

func compareText(got string, op FilterOp, v any) bool {
	want, _ := v.(string)
	switch op {
	case OpEq:
		return got == want
	case OpContains:
		return strings.Contains(got, want)
	case OpIcontains:
		return strings.Contains(asciiLower(got), asciiLower(want))
	}
	return false
}

func compareTime(got time.Time, op FilterOp, v any) bool {
	want, _ := v.(time.Time)
	return ordered(got.UTC().Truncate(time.Microsecond).Compare(want), op)
}

// ordered applies a comparison operator to the sign of got − want.
func ordered(c int, op FilterOp) bool {
	switch op {
	case OpEq:
		return c == 0
	case OpGt:
		return c > 0
	case OpGte:
		return c >= 0
	case OpLt:
		return c < 0
	case OpLte:
		return c <= 0
	}
	return false
}

func compareJSON(got any, op FilterOp, v any) bool {
	switch want := v.(type) {
	case string:
		g, ok := got.(string)
		if !ok {
			return false
		}
		switch op {
		case OpContains:
			return strings.Contains(g, want)
		case OpIcontains:
			return strings.Contains(asciiLower(g), asciiLower(want))
		}
		return ordered(strings.Compare(g, want), op)
	case float64:
		var g float64
		switch x := got.(type) {
		case float64:
			g = x
		case int:
			g = float64(x)
		default:
			return false
		}
		switch {
		case g < want:
			return ordered(-1, op)
		case g > want:
			return ordered(1, op)
		}
		return ordered(0, op)
	case bool:
		g, ok := got.(bool)
		return ok && op == OpEq && g == want
	}
	return false
}

// asciiLower folds A-Z only: SQLite's lower() does no more, and a filter
// must select the same rows in every store.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}
