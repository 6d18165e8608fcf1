package domain

import "strings"

// CompileFilter writes f as a condition in the boolean syntax both SQL
// engines share — (a AND b), (a OR b), NOT a — and lets the store write
// each comparison: leaf is called depth first, in the order the comparisons
// appear in the text, so a store that binds a parameter per call numbers
// them in order. ne and nin become NOT of eq and in, and in an OR of eq,
// as Eval defines them, so leaf sees only eq, contains, icontains, gt, gte,
// lt and lte. Each leaf must be true or false, never NULL, for NOT to mean
// what Eval means.
func CompileFilter(f Filter, leaf func(Filter) (string, error)) (string, error) {
	join := func(parts []Filter, sep string) (string, error) {
		out := make([]string, len(parts))
		for i, p := range parts {
			s, err := CompileFilter(p, leaf)
			if err != nil {
				return "", err
			}
			out[i] = s
		}
		return "(" + strings.Join(out, sep) + ")", nil
	}
	switch {
	case f.And != nil:
		return join(f.And, " AND ")
	case f.Or != nil:
		return join(f.Or, " OR ")
	case f.Not != nil:
		s, err := CompileFilter(*f.Not, leaf)
		return "NOT " + s, err
	}
	switch f.Op {
	case OpNe:
		s, err := CompileFilter(f.with(OpEq), leaf)
		return "NOT " + s, err
	case OpNin:
		s, err := CompileFilter(f.with(OpIn), leaf)
		return "NOT " + s, err
	case OpIn:
		vals, _ := f.Value.([]any)
		parts := make([]Filter, len(vals))
		for i, v := range vals {
			parts[i] = Filter{Field: f.Field, Key: f.Key, Op: OpEq, Value: v}
		}
		return join(parts, " OR ")
	}
	return leaf(f)
}
