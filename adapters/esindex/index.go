package esindex

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// Config locates the cluster.
type Config struct {
	Addresses []string
	Username  string
	Password  string
	APIKey    string
	Options
}

// Options tune an Index over an existing client.
type Options struct {
	Index   string        // "" means "engram-memories"
	Timeout time.Duration // per request; 0 means 5s
}

// Index implements ports.TextIndex on Elasticsearch.
type Index struct {
	es      *elasticsearch.Client
	opts    Options
	ensured atomic.Bool // the index exists with its mapping (Ensure succeeded)
}

var _ ports.TextIndex = (*Index)(nil)

// Open builds a client, and creates the index when it does not exist.
func Open(ctx context.Context, cfg Config) (*Index, error) {
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: cfg.Addresses, Username: cfg.Username, Password: cfg.Password, APIKey: cfg.APIKey})
	if err != nil {
		return nil, fmt.Errorf("esindex: %w", domain.Invalid("elasticsearch_url", "%v", err))
	}
	x := New(es, cfg.Options)
	if err := x.ensureOnce(ctx); err != nil {
		return nil, err
	}
	return x, nil
}

// New wraps a client; call Ensure before use on a fresh cluster.
func New(es *elasticsearch.Client, o Options) *Index {
	if o.Index == "" {
		o.Index = "engram-memories"
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	return &Index{es: es, opts: o}
}

// Ensure creates the index with its mapping unless it exists.
func (x *Index) Ensure(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, x.opts.Timeout)
	defer cancel()
	res, err := esapi.IndicesCreateRequest{Index: x.opts.Index, Body: strings.NewReader(indexSettings)}.Do(ctx, x.es)
	if err != nil {
		return fmt.Errorf("esindex: create index: %w", mapErr(err))
	}
	defer drain(res)
	if res.IsError() && !strings.Contains(readBody(res), "resource_already_exists_exception") {
		return fmt.Errorf("esindex: create index: %w", statusErr(res))
	}
	return nil
}

// Index bulk-writes docs and waits until they are searchable.
func (x *Index) Index(ctx context.Context, t domain.Tenant, docs []ports.TextDoc) error {
	if len(docs) == 0 {
		return nil
	}
	if err := x.ensureOnce(ctx); err != nil {
		return err
	}
	body, err := bulkBody(x.opts.Index, t, docs)
	if err != nil {
		return fmt.Errorf("esindex: index: %w", domain.Invalid("metadata", "%v", err))
	}
	ctx, cancel := context.WithTimeout(ctx, x.opts.Timeout)
	defer cancel()
	res, err := esapi.BulkRequest{Body: bytes.NewReader(body), Refresh: "wait_for"}.Do(ctx, x.es)
	if err != nil {
		return fmt.Errorf("esindex: index %d docs: %w", len(docs), mapErr(err))
	}
	defer drain(res)
	if res.IsError() {
		return fmt.Errorf("esindex: index %d docs: %w", len(docs), statusErr(res))
	}
	if err := bulkOutcome(res.Body); err != nil {
		return fmt.Errorf("esindex: index %d docs: %w", len(docs), err)
	}
	return nil
}

// Delete removes the tenant's documents with these ids.
func (x *Index) Delete(ctx context.Context, t domain.Tenant, ids []domain.MemoryID) error {
	if len(ids) == 0 {
		return nil
	}
	if err := x.ensureOnce(ctx); err != nil {
		return err
	}
	body, err := deleteBody(t, ids)
	if err != nil {
		return fmt.Errorf("esindex: delete: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, x.opts.Timeout)
	defer cancel()
	refresh := true
	res, err := esapi.DeleteByQueryRequest{Index: []string{x.opts.Index}, Body: bytes.NewReader(body),
		Routing: []string{string(t.OrgID)}, Refresh: &refresh}.Do(ctx, x.es)
	if err != nil {
		return fmt.Errorf("esindex: delete %d docs: %w", len(ids), mapErr(err))
	}
	defer drain(res)
	if res.IsError() {
		return fmt.Errorf("esindex: delete %d docs: %w", len(ids), statusErr(res))
	}
	return nil
}

// Search runs the match query on the org's shard.
func (x *Index) Search(ctx context.Context, t domain.Tenant, query string, k int, f domain.SearchFilter) ([]ports.Hit, error) {
	if k < 1 || k > ports.MaxIndexK {
		return nil, fmt.Errorf("esindex: search: %w", domain.Invalid("k", "must be between 1 and %d", ports.MaxIndexK))
	}
	words := domain.QueryTerms(query)
	if len(words) == 0 {
		return nil, nil
	}
	// The raw text goes to match queries, which analyse it with the same
	// analyser as the documents (so "O'Brien" matches "O'Brien") and never
	// parse it as syntax.
	body, err := searchBody(t, query, k, f)
	if err != nil {
		return nil, fmt.Errorf("esindex: search: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, x.opts.Timeout)
	defer cancel()
	res, err := esapi.SearchRequest{Index: []string{x.opts.Index}, Body: bytes.NewReader(body), Routing: []string{string(t.OrgID)}}.Do(ctx, x.es)
	if err != nil {
		return nil, fmt.Errorf("esindex: search: %w", mapErr(err))
	}
	defer drain(res)
	if res.IsError() {
		return nil, fmt.Errorf("esindex: search: %w", statusErr(res))
	}
	var r struct {
		Hits struct {
			Hits []struct {
				Score  float64             `json:"_score"`
				Fields map[string][]string `json:"fields"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		return nil, fmt.Errorf("esindex: search: decode: %w", &domain.UnavailableError{Dependency: "elasticsearch", Err: err})
	}
	hits := make([]ports.Hit, 0, len(r.Hits.Hits))
	for _, h := range r.Hits.Hits {
		if ids := h.Fields["memory_id"]; len(ids) == 1 {
			hits = append(hits, ports.Hit{ID: domain.MemoryID(ids[0]), Score: h.Score})
		}
	}
	return hits, nil
}

// httpStatusError is an error answer of the cluster.
type httpStatusError struct {
	code int
	body string
}

func (e *httpStatusError) Error() string {
	return fmt.Sprintf("elasticsearch answered %d: %s", e.code, e.body)
}

// mapErr is the one place failures become domain kinds: a 400 is our
// request's fault, a cancelled context stays itself, everything else means
// the cluster is unavailable.
func mapErr(err error) error {
	var se *httpStatusError
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case errors.As(err, &se) && se.code == http.StatusBadRequest:
		// Includes too_many_clauses and a query nested too deep: the
		// request's shape, not the cluster's health.
		return fmt.Errorf("%w: %w", domain.ErrInvalid, err)
	case errors.As(err, &se) && se.code == http.StatusRequestEntityTooLarge:
		return fmt.Errorf("%w: %w", domain.ErrTooLarge, err)
	}
	return &domain.UnavailableError{Dependency: "elasticsearch", Err: err}
}

// statusErr maps an error answer.
func statusErr(res *esapi.Response) error {
	return mapErr(&httpStatusError{code: res.StatusCode, body: readBody(res)})
}

func readBody(res *esapi.Response) string {
	b, _ := io.ReadAll(io.LimitReader(res.Body, 2048))
	return string(b)
}

func drain(res *esapi.Response) {
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
}
