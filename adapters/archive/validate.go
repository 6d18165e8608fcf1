package archive

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// check applies the domain's rules to a decoded row before it goes near a
// store, and normalises what the domain normalises (metadata, categories),
// so that an import stores what an API write would have.
func check(t ports.ArchiveTable, r *ports.ArchiveRow) error {
	str := func(name string) string {
		if i := t.Col(name); i >= 0 {
			s, _ := r.Values[i].(string)
			return s
		}
		return ""
	}
	for i, c := range t.Columns {
		s, isStr := r.Values[i].(string)
		if !isStr || c.Kind != ports.ColText {
			continue
		}
		switch {
		case c.Name == "app_id" || c.Name == "actor_app":
			if err := domain.ValidateAppID(domain.AppID(s)); err != nil {
				return domain.Invalid(c.Name, "%v", err)
			}
		case c.Name == "agent_id" || c.Name == "run_id":
			if err := domain.ValidateScopeID(c.Name, s); err != nil {
				return err
			}
		case c.Name == "id" && t.Name == "apps":
			if err := domain.ValidateAppID(domain.AppID(s)); err != nil {
				return domain.Invalid(c.Name, "%v", err)
			}
		case c.Name == "id" || (strings.HasSuffix(c.Name, "_id") && c.Name != "org_id" && c.Name != "user_id"):
			if !domain.ValidID(s) {
				return domain.Invalid(c.Name, "must be a lower-case UUID")
			}
		}
	}
	user := str("user_id")
	if user == "" {
		user = "org-level" // experiments belong to an org; check the org alone
	}
	if err := (domain.Tenant{OrgID: domain.OrgID(str("org_id")), UserID: domain.UserID(user)}).Validate(); err != nil {
		return err
	}
	if t.Name == "memories" {
		return checkMemory(t, r)
	}
	return nil
}

func checkMemory(t ports.ArchiveTable, r *ports.ArchiveRow) error {
	v := r.Values
	if _, err := domain.ParseState(v[t.Col("state")].(string)); err != nil {
		return err
	}
	if erased, _ := v[t.Col("erased")].(bool); erased {
		// A tombstone: its content is gone by design.
		return nil
	}
	if err := domain.ValidateText(v[t.Col("text")].(string)); err != nil {
		return err
	}
	// decode left metadata canonical, and canonical JSON is a fixed point
	// of decoding and encoding again: when the domain's normalising keeps
	// the value, the archived bytes stay as they are.
	mdRaw := v[t.Col("metadata")].(json.RawMessage)
	var md domain.Metadata
	if err := json.Unmarshal(mdRaw, &md); err != nil {
		return domain.Invalid("metadata", "must be a JSON object")
	}
	if _, err := domain.NormalizeMetadata(md); err != nil {
		return err
	}
	if len(md) == 0 {
		v[t.Col("metadata")] = json.RawMessage(`{}`)
	} else if canon, err := ports.CanonicalJSON(mdRaw); err != nil {
		return domain.Invalid("metadata", "%v", err)
	} else {
		v[t.Col("metadata")] = canon
	}
	catRaw := v[t.Col("categories")].(json.RawMessage)
	var cats []string
	if err := json.Unmarshal(catRaw, &cats); err != nil {
		return domain.Invalid("categories", "must be an array of strings")
	}
	norm, err := domain.NormalizeCategories(cats)
	if err != nil {
		return err
	}
	if !slices.Equal(norm, cats) {
		catj, _ := json.Marshal(norm)
		v[t.Col("categories")] = json.RawMessage(catj)
	}
	return nil
}

// rewrite makes a row the caller's: an import through the API never trusts
// an archive's org or user.
func rewrite(t ports.ArchiveTable, r *ports.ArchiveRow, tn domain.Tenant) {
	if i := t.Col("org_id"); i >= 0 {
		r.Values[i] = string(tn.OrgID)
	}
	if i := t.Col("user_id"); i >= 0 {
		r.Values[i] = string(tn.UserID)
	}
}
