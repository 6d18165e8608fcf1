package httpapi

import (
	"encoding/json"
	"fmt"

	"github.com/engram-memory/engram/domain"
)

// mem0Filter is what a mem0 "filters" object selects: the user the request
// acts for (user_id, a top-level eq), the org it names (org_id or
// project_id, checked against the credential's), and the rest as an
// expression of the one filter language (domain.ParseFilter) that Engram's
// own /api/v1/search and list take too.
type mem0Filter struct {
	UserID, OrgID, ProjectID string
	Where                    *domain.Filter
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
	var f mem0Filter
	// org_id and project_id name the tenant, not a column: mem0's SDKs put
	// them beside user_id, at the top or in the top-level AND.
	take := func(m map[string]any) error {
		for _, key := range []string{"org_id", "project_id"} {
			v, ok := m[key]
			if !ok {
				continue
			}
			delete(m, key)
			if x, isObj := v.(map[string]any); isObj && len(x) == 1 {
				v = x["eq"]
			}
			s, isStr := v.(string)
			if !isStr || s == "" {
				return domain.Invalid("filters."+key, "must be a non-empty string")
			}
			if key == "org_id" {
				f.OrgID = s
			} else {
				f.ProjectID = s
			}
		}
		return nil
	}
	if err := take(obj); err != nil {
		return mem0Filter{}, err
	}
	if and, ok := obj["AND"].([]any); ok {
		kept := and[:0]
		for _, item := range and {
			if m, ok := item.(map[string]any); ok {
				if err := take(m); err != nil {
					return mem0Filter{}, err
				}
				if len(m) == 0 {
					continue
				}
			}
			kept = append(kept, item)
		}
		obj["AND"] = kept
		if len(kept) == 0 {
			delete(obj, "AND")
		}
	}
	if len(obj) == 0 {
		return f, nil
	}
	expr, err := domain.ParseFilter(obj)
	if err != nil {
		return mem0Filter{}, err
	}
	user, rest, err := domain.SplitUser(expr)
	if err != nil {
		return mem0Filter{}, err
	}
	f.UserID, f.Where = string(user), rest
	return f, nil
}

// whereOf is the filter plus the body's entity fields (agent_id, run_id,
// app_id), which mem0 also accepts outside filters.
func (e mem0Entity) whereOf(where *domain.Filter) (*domain.Filter, error) {
	if err := e.validate(); err != nil {
		return nil, err
	}
	var parts []*domain.Filter
	if e.AgentID != "" {
		parts = append(parts, domain.Eq(domain.FieldAgentID, e.AgentID))
	}
	if e.RunID != "" {
		parts = append(parts, domain.Eq(domain.FieldRunID, e.RunID))
	}
	if e.AppID != "" {
		parts = append(parts, domain.Eq(domain.FieldAppID, e.AppID))
	}
	return domain.Conj(append(parts, where)...), nil
}
