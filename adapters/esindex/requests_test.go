package esindex_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/esindex"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// recorded is one request the fake cluster received.
type recorded struct {
	method, path string
	query        map[string]string
	body         []byte
}

// fakeES answers like Elasticsearch (with the product header the v8 client
// insists on) and records every request for the assertions.
type fakeES struct {
	mu     sync.Mutex
	reqs   []recorded
	search string // body of _search answers
	bulk   string // body of _bulk answers; empty is success
}

func (f *fakeES) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	q := map[string]string{}
	for k, v := range r.URL.Query() {
		q[k] = v[0]
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, recorded{r.Method, r.URL.Path, q, body})
	f.mu.Unlock()
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.HasSuffix(r.URL.Path, "/_search"):
		_, _ = io.WriteString(w, f.search)
	case r.URL.Path == "/_bulk" && f.bulk != "":
		_, _ = io.WriteString(w, f.bulk)
	case r.URL.Path == "/_bulk":
		_, _ = io.WriteString(w, `{"errors": false, "items": []}`)
	default:
		_, _ = io.WriteString(w, `{"acknowledged": true}`)
	}
}

func (f *fakeES) last() recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reqs[len(f.reqs)-1]
}

func newFake(t *testing.T) (*fakeES, *esindex.Index) {
	t.Helper()
	f := &fakeES{search: `{"hits": {"hits": [{"_score": 3.5, "fields": {"memory_id": ["m1"]}}, {"_score": 1.25, "fields": {"memory_id": ["m2"]}}]}}`}
	ts := httptest.NewServer(f)
	t.Cleanup(ts.Close)
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{ts.URL}})
	require.NoError(t, err)
	return f, esindex.New(es, esindex.Options{Index: "mem"})
}

var alice = domain.Tenant{OrgID: "org-a", UserID: "alice"}

// tenantFilter pulls the term filters of a bool query.
func tenantFilter(t *testing.T, body []byte) (map[string]any, map[string]any) {
	t.Helper()
	var q struct {
		Query struct {
			Bool struct {
				Filter []map[string]map[string]any `json:"filter"`
				Must   []map[string]any            `json:"must"`
				Should []map[string]any            `json:"should"`
			} `json:"bool"`
		} `json:"query"`
	}
	require.NoError(t, json.Unmarshal(body, &q))
	terms := map[string]any{}
	other := map[string]any{}
	for _, f := range q.Query.Bool.Filter {
		for kind, v := range f {
			if kind == "term" {
				for field, val := range v {
					terms[field] = val
				}
			} else {
				other[kind] = v
			}
		}
	}
	return terms, other
}

func TestEnsureCreatesIndexWithMapping(t *testing.T) {
	f, x := newFake(t)
	require.NoError(t, x.Ensure(context.Background()))
	r := f.last()
	require.Equal(t, "PUT", r.method)
	require.Equal(t, "/mem", r.path)
	require.Contains(t, string(r.body), `"org_id":     {"type": "keyword"}`)
	require.Contains(t, string(r.body), `"metadata":   {"type": "flattened"}`)
	require.Contains(t, string(r.body), "asciifolding")
}

func TestIndexBulkRoutesByOrgAndWaitsForRefresh(t *testing.T) {
	f, x := newFake(t)
	id := domain.NewMemoryID(time.Now())
	require.NoError(t, x.Index(context.Background(), alice, []ports.TextDoc{{ID: id, Text: "Zürich café", AppID: "cursor",
		Categories: []string{"travel"}, Metadata: domain.Metadata{"kind": "fact"}, CreatedAt: time.UnixMilli(1700000000000)}}))
	r := f.last()
	require.Equal(t, "/_bulk", r.path)
	require.Equal(t, "wait_for", r.query["refresh"])
	sc := bufio.NewScanner(bytes.NewReader(r.body))
	var lines []map[string]any
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m))
		lines = append(lines, m)
	}
	require.Len(t, lines, 2)
	action := lines[0]["index"].(map[string]any)
	require.Equal(t, "mem", action["_index"])
	require.Equal(t, "org-a", action["routing"])
	require.Equal(t, "org-a/alice/"+string(id), action["_id"], "the document id carries the tenant")
	doc := lines[1]
	require.Equal(t, "org-a", doc["org_id"])
	require.Equal(t, "alice", doc["user_id"])
	require.Equal(t, "Zürich café", doc["text"])
	require.EqualValues(t, 1700000000000, doc["created_at"])
}

func TestSearchFiltersTenantAndTreatsQueryAsText(t *testing.T) {
	f, x := newFake(t)
	hits, err := x.Search(context.Background(), alice, `"red wine" OR NEAR(glass) -x AND NOT *`, 5, domain.SearchFilter{
		App: "cursor", Metadata: domain.Metadata{"n": float64(2), "ok": true}, CreatedBefore: time.UnixMilli(5000)})
	require.NoError(t, err)
	require.Equal(t, []ports.Hit{{ID: "m1", Score: 3.5}, {ID: "m2", Score: 1.25}}, hits)
	r := f.last()
	require.Equal(t, "/mem/_search", r.path)
	require.Equal(t, "org-a", r.query["routing"])
	terms, other := tenantFilter(t, r.body)
	require.Equal(t, "org-a", terms["org_id"])
	require.Equal(t, "alice", terms["user_id"])
	require.Equal(t, "cursor", terms["app_id"])
	require.Equal(t, "2", terms["metadata.n"])
	require.Equal(t, "true", terms["metadata.ok"])
	require.Contains(t, other, "range")
	body := string(r.body)
	require.Contains(t, body, `"match":{"text":{"operator":"or","query":"\"red wine\" OR NEAR(glass) -x AND NOT *"}}`, "the text goes to a match query, which never parses syntax")
	require.Contains(t, body, `"match_phrase"`)
	require.NotContains(t, body, "query_string")

	n := len(f.reqs)
	hits, err = x.Search(context.Background(), alice, `"*(^'\%_`, 5, domain.SearchFilter{})
	require.NoError(t, err)
	require.Empty(t, hits)
	require.Len(t, f.reqs, n, "a query without words makes no request")
	_, err = x.Search(context.Background(), alice, "x", 0, domain.SearchFilter{})
	require.ErrorIs(t, err, domain.ErrInvalid)
}

func TestDeleteIsScopedToTenant(t *testing.T) {
	f, x := newFake(t)
	id := domain.NewMemoryID(time.Now())
	require.NoError(t, x.Delete(context.Background(), alice, []domain.MemoryID{id}))
	r := f.last()
	require.Equal(t, "/mem/_delete_by_query", r.path)
	require.Equal(t, "true", r.query["refresh"])
	require.Equal(t, "org-a", r.query["routing"])
	terms, other := tenantFilter(t, r.body)
	require.Equal(t, "org-a", terms["org_id"])
	require.Equal(t, "alice", terms["user_id"])
	require.Equal(t, map[string]any{"memory_id": []any{string(id)}}, other["terms"])
}

func TestErrorsMapToKinds(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		if strings.Contains(r.URL.Path, "_search") {
			w.WriteHeader(http.StatusServiceUnavailable)
		} else {
			w.WriteHeader(http.StatusBadRequest)
		}
		_, _ = io.WriteString(w, `{"error": "nope"}`)
	}))
	defer ts.Close()
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{ts.URL}, MaxRetries: 1})
	require.NoError(t, err)
	x := esindex.New(es, esindex.Options{})
	_, err = x.Search(context.Background(), alice, "hello", 5, domain.SearchFilter{})
	require.ErrorIs(t, err, domain.ErrUnavailable)
	err = x.Delete(context.Background(), alice, []domain.MemoryID{domain.NewMemoryID(time.Now())})
	require.ErrorIs(t, err, domain.ErrInvalid)
}

// The outbox relay's writes carry their version (external_gte); a version
// conflict is a newer document already there (success), a rejection is
// ErrInvalid (the relay parks it), a 429 is ErrUnavailable (it waits).
func TestIndexCarriesTheVersionAndSortsItemErrors(t *testing.T) {
	f, x := newFake(t)
	ctx := context.Background()
	doc := ports.TextDoc{ID: domain.NewMemoryID(time.Now()), Text: "versioned", Version: 42}
	require.NoError(t, x.Index(ctx, alice, []ports.TextDoc{doc}))
	var action map[string]map[string]any
	require.NoError(t, json.Unmarshal(bytes.SplitN(f.last().body, []byte("\n"), 2)[0], &action))
	require.EqualValues(t, 42, action["index"]["version"])
	require.Equal(t, "external_gte", action["index"]["version_type"])

	item := func(status int, typ string) string {
		return `{"errors": true, "items": [{"index": {"_id": "x", "status": 201}}, {"index": {"_id": "y", "status": ` +
			strconv.Itoa(status) + `, "error": {"type": "` + typ + `", "reason": "because"}}}]}`
	}
	f.bulk = item(409, "version_conflict_engine_exception")
	require.NoError(t, x.Index(ctx, alice, []ports.TextDoc{doc}), "a newer version already indexed")
	f.bulk = item(400, "mapper_parsing_exception")
	err := x.Index(ctx, alice, []ports.TextDoc{doc})
	require.ErrorIs(t, err, domain.ErrInvalid)
	require.ErrorContains(t, err, "mapper_parsing_exception")
	f.bulk = item(429, "es_rejected_execution_exception")
	require.ErrorIs(t, x.Index(ctx, alice, []ports.TextDoc{doc}), domain.ErrUnavailable)
}
