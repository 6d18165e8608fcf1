package httpapi

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/engram-memory/engram/domain"
)

// mem0Filter is what a mem0 "filters" object selects, in the terms Engram's
// list and search take. This is the subset of mem0's v2 filter language
// that maps onto Engram's filters: an implicit or explicit AND of
//
//	user_id: "u" | {"eq": "u"}          app_id: "a" | {"eq": "a"}
//	categories: {"in": [...]} | {"contains": "c"} | "c"
//	metadata: {"k": v} | "metadata.k": v | {"eq": v}
//	created_at: {"gte"|"gt"|"lte"|"lt": time}
//
// Anything else (OR, NOT, ne, nin, icontains, agent_id, run_id, updated_at)
// is refused with 400 naming it, never ignored.
type mem0Filter struct {
	UserID, OrgID string
	App           domain.AppID
	Categories    []string
	Metadata      domain.Metadata
	After, Before time.Time
}

// maxFilterDepth bounds nested AND groups.
const maxFilterDepth = 4

func parseMem0Filters(raw map[string]any) (mem0Filter, error) {
	var f mem0Filter
	return f, f.add(raw, 0)
}

func (f *mem0Filter) add(raw map[string]any, depth int) error {
	if depth > maxFilterDepth {
		return domain.Invalid("filters", "nest at most %d levels deep", maxFilterDepth)
	}
	for key, v := range raw {
		if err := f.field(key, v, depth); err != nil {
			return err
		}
	}
	return nil
}

func (f *mem0Filter) field(key string, v any, depth int) error {
	switch {
	case key == "AND":
		list, ok := v.([]any)
		if !ok {
			return domain.Invalid("filters.AND", "must be an array of filter objects")
		}
		for _, item := range list {
			obj, ok := item.(map[string]any)
			if !ok {
				return domain.Invalid("filters.AND", "must be an array of filter objects")
			}
			if err := f.add(obj, depth+1); err != nil {
				return err
			}
		}
		return nil
	case key == "user_id":
		s, err := eqString(key, v)
		if err == nil && f.UserID != "" && f.UserID != s {
			err = domain.Invalid("filters.user_id", "names two users")
		}
		f.UserID = s
		return err
	case key == "org_id", key == "project_id":
		s, err := eqString(key, v)
		if key == "org_id" {
			f.OrgID = s
		}
		return err
	case key == "app_id":
		s, err := eqString(key, v)
		f.App = domain.AppID(s)
		return err
	case key == "categories":
		return f.categories(v)
	case key == "metadata":
		obj, ok := v.(map[string]any)
		if !ok {
			return domain.Invalid("filters.metadata", "must be an object of key: value")
		}
		for k, mv := range obj {
			if err := f.meta(k, mv); err != nil {
				return err
			}
		}
		return nil
	case strings.HasPrefix(key, "metadata."):
		return f.meta(strings.TrimPrefix(key, "metadata."), v)
	case key == "created_at":
		return f.created(v)
	}
	return domain.Invalid("filters."+key, "is not supported (supported: AND, user_id, app_id, categories, metadata, created_at)")
}

// eqString reads "v" or {"eq": "v"}.
func eqString(key string, v any) (string, error) {
	if obj, ok := v.(map[string]any); ok {
		for op, ov := range obj {
			if op != "eq" {
				return "", domain.Invalid("filters."+key, "operator %q is not supported here (use a value or eq)", op)
			}
			v = ov
		}
	}
	s, ok := v.(string)
	if !ok || s == "" {
		return "", domain.Invalid("filters."+key, "must be a non-empty string")
	}
	return s, nil
}

func (f *mem0Filter) categories(v any) error {
	add := func(x any) error {
		s, ok := x.(string)
		if !ok || s == "" {
			return domain.Invalid("filters.categories", "values must be non-empty strings")
		}
		f.Categories = append(f.Categories, s)
		return nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return add(v)
	}
	for op, ov := range obj {
		switch op {
		case "contains", "eq":
			if err := add(ov); err != nil {
				return err
			}
		case "in":
			list, ok := ov.([]any)
			if !ok || len(list) != 1 {
				// Engram's category filter is "has every listed category";
				// "in" with several values would mean "any of them".
				return domain.Invalid("filters.categories", "operator \"in\" takes exactly one category here")
			}
			if err := add(list[0]); err != nil {
				return err
			}
		default:
			return domain.Invalid("filters.categories", "operator %q is not supported (use contains, eq or in)", op)
		}
	}
	return nil
}

func (f *mem0Filter) meta(k string, v any) error {
	if obj, ok := v.(map[string]any); ok {
		for op, ov := range obj {
			if op != "eq" {
				return domain.Invalid("filters.metadata."+k, "operator %q is not supported (use a value or eq)", op)
			}
			v = ov
		}
	}
	switch v.(type) {
	case string, float64, bool:
	default:
		return domain.Invalid("filters.metadata."+k, "must be a string, number or boolean")
	}
	if f.Metadata == nil {
		f.Metadata = domain.Metadata{}
	}
	f.Metadata[k] = v
	return nil
}

func (f *mem0Filter) created(v any) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return domain.Invalid("filters.created_at", "must be an object of gte, gt, lte or lt")
	}
	for op, ov := range obj {
		s, _ := ov.(string)
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			if d, derr := time.Parse(time.DateOnly, s); derr == nil {
				t, err = d, nil
			}
		}
		if err != nil {
			return domain.Invalid("filters.created_at."+op, "must be an RFC 3339 time or a YYYY-MM-DD date")
		}
		switch op {
		case "gte":
			f.After = t.Add(-time.Microsecond) // Engram's bounds are exclusive; PostgreSQL keeps microseconds
		case "gt":
			f.After = t
		case "lte":
			f.Before = t.Add(time.Microsecond)
		case "lt":
			f.Before = t
		default:
			return domain.Invalid("filters.created_at", "operator %q is not supported (use gte, gt, lte or lt)", op)
		}
	}
	return nil
}

// filtersFrom decodes an optional "filters" member.
func filtersFrom(raw json.RawMessage) (mem0Filter, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return mem0Filter{}, nil
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		return mem0Filter{}, domain.Invalid("filters", "must be an object: %v", fmt.Sprint(err))
	}
	return parseMem0Filters(obj)
}
