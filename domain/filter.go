package domain

import (
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Filter is one expression of the filter language shared by mem0's v2
// search and list and Engram's /api/v1/search and list: a tree of AND, OR
// and NOT over comparisons of one field. Exactly one of And, Or, Not or a
// comparison (Field, Op, Value) is set. The stores compile it to SQL (so
// keyset paging stays exact); Eval is its meaning, which the contract suite
// holds every store to.
type Filter struct {
	And []Filter
	Or  []Filter
	Not *Filter

	Field FilterField
	Key   string   // the metadata key when Field is FieldMetadata
	Op    FilterOp // eq ne in nin gt gte lt lte contains icontains
	// Value is a string, float64, bool or time.Time (created_at,
	// updated_at), or for in and nin a []any of those.
	Value any
}

// FilterField names what a comparison reads.
type FilterField string

// The fields a filter can compare. FieldMetadata compares one top-level
// metadata key (Filter.Key).
const (
	FieldUserID     FilterField = "user_id"
	FieldAgentID    FilterField = "agent_id"
	FieldRunID      FilterField = "run_id"
	FieldAppID      FilterField = "app_id"
	FieldCategories FilterField = "categories"
	FieldMetadata   FilterField = "metadata"
	FieldCreatedAt  FilterField = "created_at"
	FieldUpdatedAt  FilterField = "updated_at"
)

// FilterOp is a comparison operator.
type FilterOp string

// The operators. On categories, eq and contains mean "carries the label",
// ne "does not", in "carries any of", nin "carries none of". contains and
// icontains on strings are substring tests; icontains folds ASCII letters
// only, the same in every store.
const (
	OpEq        FilterOp = "eq"
	OpNe        FilterOp = "ne"
	OpIn        FilterOp = "in"
	OpNin       FilterOp = "nin"
	OpGt        FilterOp = "gt"
	OpGte       FilterOp = "gte"
	OpLt        FilterOp = "lt"
	OpLte       FilterOp = "lte"
	OpContains  FilterOp = "contains"
	OpIcontains FilterOp = "icontains"
)

// Bounds of a filter: each comparison is a predicate of one SQL statement,
// and a deep tree is a deep recursion in every compiler.
const (
	MaxFilterDepth    = 4   // AND/OR/NOT levels below the top object
	MaxFilterLeaves   = 64  // comparisons in one filter
	MaxFilterInValues = 100 // values of one in or nin
)

// ParseFilter reads mem0's filter object (decoded JSON: map[string]any,
// []any, string, float64, bool, nil): keys of one object are ANDed; AND and
// OR take an array of filter objects, NOT an object (or an array, whose
// items are ANDed); a field takes a value (eq; "*" on the id fields means
// "set") or an object of operator: value. "metadata" takes an object of
// key: value (or key: {operator: value}); "metadata.k" is the same as
// {"metadata": {"k": ...}}. Errors are 400s naming the field and operator.
func ParseFilter(raw map[string]any) (Filter, error) {
	p := filterParser{}
	f, err := p.object(raw, "filters", 0)
	if err != nil {
		return Filter{}, err
	}
	return f, nil
}

type filterParser struct{ leaves int }

func (p *filterParser) object(raw map[string]any, path string, depth int) (Filter, error) {
	if depth > MaxFilterDepth {
		return Filter{}, Invalid(path, "filters nest at most %d levels deep", MaxFilterDepth)
	}
	var parts []Filter
	for _, key := range slices.Sorted(maps.Keys(raw)) {
		f, err := p.member(key, raw[key], path, depth)
		if err != nil {
			return Filter{}, err
		}
		parts = append(parts, f)
	}
	return all(parts), nil
}

// all is the AND of parts, without a needless wrapper for one.
func all(parts []Filter) Filter {
	if len(parts) == 1 {
		return parts[0]
	}
	return Filter{And: parts}
}

func (p *filterParser) member(key string, v any, path string, depth int) (Filter, error) {
	switch key {
	case "AND", "OR":
		list, ok := v.([]any)
		if !ok || len(list) == 0 {
			return Filter{}, Invalid(path+"."+key, "must be a non-empty array of filter objects")
		}
		parts, err := p.list(list, path+"."+key, depth+1)
		if err != nil {
			return Filter{}, err
		}
		if key == "AND" {
			return Filter{And: parts}, nil
		}
		return Filter{Or: parts}, nil
	case "NOT":
		var inner Filter
		switch x := v.(type) {
		case map[string]any:
			f, err := p.object(x, path+".NOT", depth+1)
			if err != nil {
				return Filter{}, err
			}
			inner = f
		case []any:
			parts, err := p.list(x, path+".NOT", depth+1)
			if err != nil {
				return Filter{}, err
			}
			inner = all(parts)
		default:
			return Filter{}, Invalid(path+".NOT", "must be a filter object")
		}
		return Filter{Not: &inner}, nil
	case "metadata":
		obj, ok := v.(map[string]any)
		if !ok || len(obj) == 0 {
			return Filter{}, Invalid(path+".metadata", "must be an object of key: value")
		}
		var parts []Filter
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			f, err := p.comparisons(FieldMetadata, k, obj[k], path+".metadata."+k)
			if err != nil {
				return Filter{}, err
			}
			parts = append(parts, f)
		}
		return all(parts), nil
	}
	if k, ok := strings.CutPrefix(key, "metadata."); ok {
		return p.comparisons(FieldMetadata, k, v, path+"."+key)
	}
	switch field := FilterField(key); field {
	case FieldUserID, FieldAgentID, FieldRunID, FieldAppID, FieldCategories, FieldCreatedAt, FieldUpdatedAt:
		return p.comparisons(field, "", v, path+"."+key)
	}
	return Filter{}, Invalid(path+"."+key, "is not a filter field (use AND, OR, NOT, user_id, agent_id, run_id, app_id, categories, metadata, created_at, updated_at)")
}

func (p *filterParser) list(items []any, path string, depth int) ([]Filter, error) {
	if depth > MaxFilterDepth {
		return nil, Invalid(path, "filters nest at most %d levels deep", MaxFilterDepth)
	}
	parts := make([]Filter, 0, len(items))
	for _, item := range items {
		obj, ok := item.(map[string]any)
		if !ok {
			return nil, Invalid(path, "must be an array of filter objects")
		}
		f, err := p.object(obj, path, depth)
		if err != nil {
			return nil, err
		}
		parts = append(parts, f)
	}
	return parts, nil
}

// comparisons reads a field's value: a bare value (eq) or an object of
// operator: value, ANDed.
func (p *filterParser) comparisons(field FilterField, k string, v any, path string) (Filter, error) {
	if field == FieldMetadata && (k == "" || len(k) > 256 || !utf8.ValidString(k)) {
		return Filter{}, Invalid(path, "metadata keys must be 1-256 bytes of UTF-8")
	}
	obj, isObj := v.(map[string]any)
	if !isObj {
		return p.leaf(field, k, OpEq, v, path)
	}
	if len(obj) == 0 {
		return Filter{}, Invalid(path, "must be a value or an object of operator: value")
	}
	var parts []Filter
	for _, op := range slices.Sorted(maps.Keys(obj)) {
		f, err := p.leaf(field, k, FilterOp(op), obj[op], path)
		if err != nil {
			return Filter{}, err
		}
		parts = append(parts, f)
	}
	return all(parts), nil
}

func (p *filterParser) leaf(field FilterField, key string, op FilterOp, v any, path string) (Filter, error) {
	p.leaves++
	if p.leaves > MaxFilterLeaves {
		return Filter{}, Invalid("filters", "at most %d comparisons", MaxFilterLeaves)
	}
	switch op {
	case OpEq, OpNe, OpIn, OpNin, OpGt, OpGte, OpLt, OpLte, OpContains, OpIcontains:
	default:
		return Filter{}, Invalid(path, "operator %q is not supported (use eq, ne, in, nin, gt, gte, lt, lte, contains, icontains)", string(op))
	}
	f := Filter{Field: field, Key: key, Op: op}
	if s, _ := v.(string); s == "*" && op == OpEq && (field == FieldAgentID || field == FieldRunID) {
		// mem0's wildcard: the scope is set, whatever its value.
		f.Op, f.Value = OpNe, ""
		return f, nil
	}
	if op == OpIn || op == OpNin {
		list, ok := v.([]any)
		if !ok || len(list) == 0 || len(list) > MaxFilterInValues {
			return Filter{}, Invalid(path, "operator %q takes an array of 1-%d values", string(op), MaxFilterInValues)
		}
		vals := make([]any, len(list))
		for i, x := range list {
			val, err := filterValue(field, OpEq, x, path, string(op))
			if err != nil {
				return Filter{}, err
			}
			vals[i] = val
		}
		f.Value = vals
		return f, nil
	}
	val, err := filterValue(field, op, v, path, string(op))
	if err != nil {
		return Filter{}, err
	}
	f.Value = val
	return f, nil
}

// filterValue checks that op applies to field and v is a value of field's
// kind, and returns it in canonical form.
func filterValue(field FilterField, op FilterOp, v any, path, opName string) (any, error) {
	bad := func(reason string) error { return Invalid(path, "operator %q: %s", opName, reason) }
	switch field {
	case FieldCreatedAt, FieldUpdatedAt:
		if op == OpContains || op == OpIcontains {
			return nil, bad("applies to text, not times")
		}
		s, _ := v.(string)
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			d, derr := time.Parse(time.DateOnly, s)
			if derr != nil {
				return nil, bad("needs an RFC 3339 time or a YYYY-MM-DD date")
			}
			t = d
		}
		return t.UTC().Truncate(time.Microsecond), nil
	case FieldMetadata:
		switch x := v.(type) {
		case string:
			if len(x) > MaxFilterValueBytes || !utf8.ValidString(x) {
				return nil, bad("strings are at most 1024 bytes of UTF-8")
			}
			return x, nil
		case float64:
			if op == OpContains || op == OpIcontains {
				return nil, bad("needs a string")
			}
			return x, nil
		case int:
			return float64(x), nil
		case bool:
			if op != OpEq && op != OpNe {
				return nil, bad("booleans compare with eq, ne, in or nin only")
			}
			return x, nil
		}
		return nil, bad("needs a string, number or boolean")
	}
	// The text fields: ids, app and categories.
	s, ok := v.(string)
	if !ok || s == "" || len(s) > MaxFilterValueBytes || !utf8.ValidString(s) {
		return nil, bad("needs a non-empty string of at most 1024 bytes")
	}
	switch op {
	case OpGt, OpGte, OpLt, OpLte:
		return nil, bad("applies to numbers, times and metadata only")
	}
	if field == FieldCategories {
		return strings.ToLower(strings.TrimSpace(s)), nil
	}
	return s, nil
}

// Leaves calls fn for every comparison of f, depth first.
func (f Filter) Leaves(fn func(Filter)) {
	switch {
	case f.And != nil:
		for _, x := range f.And {
			x.Leaves(fn)
		}
	case f.Or != nil:
		for _, x := range f.Or {
			x.Leaves(fn)
		}
	case f.Not != nil:
		f.Not.Leaves(fn)
	case f.Field != "":
		fn(f)
	}
}

// SplitUser takes the user a filter names out of it: user_id is not a
// column a search compares but the tenant the request acts for, so it is
// allowed only as a top-level eq (one user per request). It returns that
// user ("" when none) and the rest of the filter (nil when nothing is left).
func SplitUser(f Filter) (UserID, *Filter, error) {
	var user UserID
	var rest []Filter
	for _, x := range conjuncts(f, nil) {
		if x.Field == FieldUserID {
			s, _ := x.Value.(string)
			if x.Op != OpEq {
				return "", nil, Invalid("filters.user_id", "operator %q: user_id selects the one user a request acts for; use a value or eq", string(x.Op))
			}
			if user != "" && user != UserID(s) {
				return "", nil, Invalid("filters.user_id", "names two users; a request acts for one")
			}
			user = UserID(s)
			continue
		}
		var inner error
		x.Leaves(func(l Filter) {
			if l.Field == FieldUserID && inner == nil {
				inner = Invalid("filters.user_id", "may appear only at the top level (one user per request), not inside OR or NOT")
			}
		})
		if inner != nil {
			return "", nil, inner
		}
		rest = append(rest, x)
	}
	if len(rest) == 0 {
		return user, nil, nil
	}
	r := all(rest)
	return user, &r, nil
}

// conjuncts flattens nested ANDs: the comparisons every match must pass.
func conjuncts(f Filter, out []Filter) []Filter {
	if f.And == nil {
		return append(out, f)
	}
	for _, x := range f.And {
		out = conjuncts(x, out)
	}
	return out
}

// Conj is the AND of the non-nil filters, or nil when there are none.
func Conj(fs ...*Filter) *Filter {
	var parts []Filter
	for _, f := range fs {
		if f != nil {
			parts = append(parts, *f)
		}
	}
	if len(parts) == 0 {
		return nil
	}
	r := all(parts)
	return &r
}

// Eq is the comparison field = value (key for metadata).
func Eq(field FilterField, value string) *Filter {
	return &Filter{Field: field, Op: OpEq, Value: value}
}
