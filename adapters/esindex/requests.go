package esindex

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// indexSettings creates the index: a folding, stemming analyzer for text;
// keywords for the tenant and filters; metadata as flattened (every leaf a
// keyword, so equality filters work on any key without a mapping explosion).
const indexSettings = `{
  "settings": {
    "analysis": {
      "analyzer": {
        "engram_text": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase", "asciifolding", "porter_stem"]}
      }
    }
  },
  "mappings": {
    "dynamic": "strict",
    "properties": {
      "org_id":     {"type": "keyword"},
      "user_id":    {"type": "keyword"},
      "memory_id":  {"type": "keyword"},
      "app_id":     {"type": "keyword"},
      "categories": {"type": "keyword"},
      "metadata":   {"type": "flattened"},
      "created_at": {"type": "date", "format": "epoch_millis"},
      "text":       {"type": "text", "analyzer": "engram_text"}
    }
  }
}`

type esDoc struct {
	OrgID      string          `json:"org_id"`
	UserID     string          `json:"user_id"`
	MemoryID   string          `json:"memory_id"`
	AppID      string          `json:"app_id"`
	Categories []string        `json:"categories"`
	Metadata   domain.Metadata `json:"metadata"`
	CreatedAt  int64           `json:"created_at"`
	Text       string          `json:"text"`
}

// docID keys a document by tenant and memory, so no write of one tenant can
// overwrite another's document whatever id it names.
func docID(t domain.Tenant, id domain.MemoryID) string {
	return string(t.OrgID) + "/" + string(t.UserID) + "/" + string(id)
}

// bulkBody is the NDJSON of index actions for docs.
func bulkBody(index string, t domain.Tenant, docs []ports.TextDoc) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, d := range docs {
		meta := map[string]any{"_index": index, "_id": docID(t, d.ID), "routing": string(t.OrgID)}
		if d.Version > 0 {
			// The outbox relay's writes: a document already at a higher
			// version is kept (the write answers 409, which is success).
			meta["version"], meta["version_type"] = d.Version, "external_gte"
		}
		action := map[string]any{"index": meta}
		cats := d.Categories
		if cats == nil {
			cats = []string{}
		}
		md := d.Metadata
		if md == nil {
			md = domain.Metadata{}
		}
		if err := enc.Encode(action); err != nil {
			return nil, err
		}
		if err := enc.Encode(esDoc{OrgID: string(t.OrgID), UserID: string(t.UserID), MemoryID: string(d.ID), AppID: string(d.AppID),
			Categories: cats, Metadata: md, CreatedAt: d.CreatedAt.UnixMilli(), Text: d.Text}); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

func term(field string, v any) map[string]any {
	return map[string]any{"term": map[string]any{field: v}}
}

// filters is the tenant plus the search filter, as bool filter clauses.
func filters(t domain.Tenant, f domain.SearchFilter) ([]any, error) {
	out := []any{term("org_id", string(t.OrgID)), term("user_id", string(t.UserID))}
	if f.App != "" {
		out = append(out, term("app_id", string(f.App)))
	}
	for _, c := range f.Categories {
		out = append(out, term("categories", c))
	}
	for k, v := range f.Metadata {
		// flattened fields index every leaf as a keyword: compare strings.
		var s string
		switch val := v.(type) {
		case string:
			s = val
		case bool:
			s = strconv.FormatBool(val)
		case float64:
			s = strconv.FormatFloat(val, 'f', -1, 64)
		default:
			return nil, domain.Invalid("filters.metadata", "filter on %q must be a string, number or boolean", k)
		}
		out = append(out, term("metadata."+k, s))
	}
	if !f.CreatedAfter.IsZero() || !f.CreatedBefore.IsZero() {
		r := map[string]any{}
		if !f.CreatedAfter.IsZero() {
			r["gte"] = f.CreatedAfter.UnixMilli()
		}
		if !f.CreatedBefore.IsZero() {
			r["lt"] = f.CreatedBefore.UnixMilli()
		}
		out = append(out, map[string]any{"range": map[string]any{"created_at": r}})
	}
	return out, nil
}

// searchBody matches any analysed word of the query (BM25) and boosts
// documents holding it as a phrase. Ties break by memory id.
func searchBody(t domain.Tenant, query string, k int, f domain.SearchFilter) ([]byte, error) {
	fs, err := filters(t, f)
	if err != nil {
		return nil, err
	}
	body := map[string]any{
		"size":    k,
		"_source": false,
		"fields":  []string{"memory_id"},
		"query": map[string]any{"bool": map[string]any{
			"filter": fs,
			"must":   []any{map[string]any{"match": map[string]any{"text": map[string]any{"query": query, "operator": "or"}}}},
			"should": []any{map[string]any{"match_phrase": map[string]any{"text": map[string]any{"query": query, "boost": 100}}}},
		}},
		"sort": []any{"_score", map[string]any{"memory_id": "asc"}},
	}
	return json.Marshal(body)
}

// deleteBody selects the tenant's documents with these memory ids.
func deleteBody(t domain.Tenant, ids []domain.MemoryID) ([]byte, error) {
	strs := make([]string, len(ids))
	for i, id := range ids {
		strs[i] = string(id)
	}
	fs, _ := filters(t, domain.SearchFilter{})
	fs = append(fs, map[string]any{"terms": map[string]any{"memory_id": strs}})
	return json.Marshal(map[string]any{"query": map[string]any{"bool": map[string]any{"filter": fs}}})
}

// bulkOutcome reads a bulk answer's items: a version conflict means the
// index already holds a newer version (nothing to do); a rejection (a 4xx
// such as mapper_parsing_exception) wraps domain.ErrInvalid with ES's
// reason, so the relay retries and then parks that document instead of
// treating the index as down; 429 and 5xx wrap domain.ErrUnavailable.
func bulkOutcome(body io.Reader) error {
	var r struct {
		Errors bool `json:"errors"`
		Items  []map[string]struct {
			ID     string `json:"_id"`
			Status int    `json:"status"`
			Error  struct {
				Type   string `json:"type"`
				Reason string `json:"reason"`
			} `json:"error"`
		} `json:"items"`
	}
	if err := json.NewDecoder(body).Decode(&r); err != nil {
		return fmt.Errorf("bulk answer unreadable: %v: %w", err, domain.ErrUnavailable)
	}
	if !r.Errors {
		return nil
	}
	var rejected []string
	for _, item := range r.Items {
		for _, it := range item {
			switch {
			case it.Status < 300:
			case it.Status == 409 && it.Error.Type == "version_conflict_engine_exception":
			case it.Status == 429 || it.Status >= 500:
				return fmt.Errorf("bulk item %s: %s: %w", it.ID, it.Error.Type, domain.ErrUnavailable)
			default:
				rejected = append(rejected, fmt.Sprintf("%s: %s: %s", it.ID, it.Error.Type, it.Error.Reason))
			}
		}
	}
	if len(rejected) > 0 {
		return domain.Invalid("document", "refused by the index: %s", strings.Join(rejected, "; "))
	}
	return nil
}
