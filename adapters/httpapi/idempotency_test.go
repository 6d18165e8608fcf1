package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func idemEnv(t *testing.T, store ports.IdempotencyStore) *env {
	t.Helper()
	e := newEnv(t)
	e.server.EnableIdempotency(store)
	return e
}

func newIdemStore(t *testing.T) *inproc.IdempotencyStore {
	s := inproc.NewIdempotencyStore(inproc.IdempotencyOptions{})
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func withKey(c caller, method, target string, body any, key string) *http.Request {
	req := c.request(method, target, body)
	req.Header.Set("Idempotency-Key", key)
	return req
}

func countMemories(t *testing.T, c caller) int {
	t.Helper()
	rec := c.do(http.MethodGet, "/api/v1/memories?limit=100", nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var page struct {
		Items []json.RawMessage `json:"items"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &page))
	return len(page.Items)
}

func TestIdempotentCreateReplaysTheFirstAnswer(t *testing.T) {
	e := idemEnv(t, newIdemStore(t))
	alice := e.user("org-1", "alice")
	body := map[string]any{"text": "retried over a flaky network"}
	first := e.serve(withKey(alice, http.MethodPost, "/api/v1/memories", body, "key-1"))
	require.Equal(t, http.StatusCreated, first.Code, first.Body.String())
	require.Empty(t, first.Header().Get("Idempotent-Replayed"))
	for range 3 {
		again := e.serve(withKey(alice, http.MethodPost, "/api/v1/memories", body, "key-1"))
		require.Equal(t, http.StatusCreated, again.Code, "the first answer, not the duplicate's 200")
		require.Equal(t, first.Body.String(), again.Body.String())
		require.Equal(t, first.Header().Get("Location"), again.Header().Get("Location"))
		require.Equal(t, "true", again.Header().Get("Idempotent-Replayed"))
		require.NotEqual(t, first.Header().Get("X-Request-Id"), again.Header().Get("X-Request-Id"))
	}
	require.Equal(t, 1, countMemories(t, alice))

	// Without the header the same body is the store's duplicate: 200.
	plain := alice.do(http.MethodPost, "/api/v1/memories", body)
	require.Equal(t, http.StatusOK, plain.Code)
}

func TestIdempotencyKeyReusedWithAnotherBodyIs422(t *testing.T) {
	e := idemEnv(t, newIdemStore(t))
	alice := e.user("org-1", "alice")
	rec := e.serve(withKey(alice, http.MethodPost, "/api/v1/memories", map[string]any{"text": "first"}, "key-1"))
	require.Equal(t, http.StatusCreated, rec.Code)
	rec = e.serve(withKey(alice, http.MethodPost, "/api/v1/memories", map[string]any{"text": "second"}, "key-1"))
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
	require.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	require.Contains(t, rec.Body.String(), "urn:engram:problem:idempotency-key-reused")
	require.Equal(t, 1, countMemories(t, alice), "the second body was not written")
}

func TestIdempotencyKeysArePerPrincipal(t *testing.T) {
	e := idemEnv(t, newIdemStore(t))
	alice, bob := e.user("org-1", "alice"), e.user("org-1", "bob")
	body := map[string]any{"text": "same key, two users"}
	a := e.serve(withKey(alice, http.MethodPost, "/api/v1/memories", body, "shared"))
	b := e.serve(withKey(bob, http.MethodPost, "/api/v1/memories", body, "shared"))
	require.Equal(t, http.StatusCreated, a.Code)
	require.Equal(t, http.StatusCreated, b.Code)
	require.NotEqual(t, a.Header().Get("Location"), b.Header().Get("Location"))
	require.Empty(t, b.Header().Get("Idempotent-Replayed"), "bob never sees alice's answer")
}

func TestIdempotentBulkDeleteAndClientErrorsReplay(t *testing.T) {
	e := idemEnv(t, newIdemStore(t))
	alice := e.user("org-1", "alice")
	created := alice.do(http.MethodPost, "/api/v1/memories", map[string]any{"text": "to delete"})
	require.Equal(t, http.StatusCreated, created.Code)
	var m struct{ ID string }
	require.NoError(t, json.Unmarshal(created.Body.Bytes(), &m))
	del := map[string]any{"ids": []string{m.ID}}
	first := e.serve(withKey(alice, http.MethodPost, "/api/v1/memories/bulk-delete", del, "del-1"))
	require.Equal(t, http.StatusOK, first.Code, first.Body.String())
	again := e.serve(withKey(alice, http.MethodPost, "/api/v1/memories/bulk-delete", del, "del-1"))
	require.Equal(t, first.Body.String(), again.Body.String())
	require.Equal(t, "true", again.Header().Get("Idempotent-Replayed"))

	// A refused request is an answer too: the retry gets the same 400.
	bad := map[string]any{"text": ""}
	r1 := e.serve(withKey(alice, http.MethodPost, "/api/v1/memories", bad, "bad-1"))
	require.Equal(t, http.StatusBadRequest, r1.Code)
	r2 := e.serve(withKey(alice, http.MethodPost, "/api/v1/memories", bad, "bad-1"))
	require.Equal(t, http.StatusBadRequest, r2.Code)
	require.Equal(t, "true", r2.Header().Get("Idempotent-Replayed"))

	long := make([]byte, 256)
	for i := range long {
		long[i] = 'k'
	}
	rec := e.serve(withKey(alice, http.MethodPost, "/api/v1/memories", map[string]any{"text": "x"}, string(long)))
	require.Equal(t, http.StatusBadRequest, rec.Code)
}

func TestIdempotencyKeyInProgressIs409(t *testing.T) {
	store := newIdemStore(t)
	e := idemEnv(t, store)
	alice := e.user("org-1", "alice")
	body := []byte(`{"text":"slow first attempt"}`)
	req := withKey(alice, http.MethodPost, "/api/v1/memories", string(body), "busy")
	// Another process holds the key (its request is still running).
	scope := fmt.Sprintf("%d:%s/%s", len("org-1"), "org-1", "alice")
	fp := sha256Fingerprint(http.MethodPost, "/api/v1/memories", body)
	_, claimed, err := store.Begin(context.Background(), scope, "busy", fp, time.Minute)
	require.NoError(t, err)
	require.True(t, claimed)
	rec := e.serve(req)
	require.Equal(t, http.StatusConflict, rec.Code, rec.Body.String())
	require.Equal(t, "60", rec.Header().Get("Retry-After"), "how long the claim can still last")
	require.Equal(t, 0, countMemories(t, alice))
}

// downIdem is a real store whose backend can be switched off.
type downIdem struct {
	ports.IdempotencyStore
	down atomic.Bool
}

func (d *downIdem) Begin(ctx context.Context, scope, key, fp string, lock time.Duration) (ports.IdempotencyRecord, bool, error) {
	if d.down.Load() {
		return ports.IdempotencyRecord{}, false, &domain.UnavailableError{Dependency: "valkey", RetryAfter: 2}
	}
	return d.IdempotencyStore.Begin(ctx, scope, key, fp, lock)
}

func TestIdempotencyStoreDownIs503AndWritesNothing(t *testing.T) {
	store := &downIdem{IdempotencyStore: newIdemStore(t)}
	e := idemEnv(t, store)
	alice := e.user("org-1", "alice")
	store.down.Store(true)
	rec := e.serve(withKey(alice, http.MethodPost, "/api/v1/memories", map[string]any{"text": "unguarded"}, "k"))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.Equal(t, "2", rec.Header().Get("Retry-After"))
	require.Equal(t, 0, countMemories(t, alice))
	// The edge logs the 503 once, naming the dependency and the cause.
	var lines []string
	for _, l := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(l, `"status":503`) {
			lines = append(lines, l)
		}
	}
	require.Len(t, lines, 1, e.logs.String())
	require.Contains(t, lines[0], `"dependency":"valkey"`)
	require.Contains(t, lines[0], `"cause":"httpapi: idempotency key: valkey unavailable"`)
	store.down.Store(false)
	rec = e.serve(withKey(alice, http.MethodPost, "/api/v1/memories", map[string]any{"text": "unguarded"}, "k"))
	require.Equal(t, http.StatusCreated, rec.Code)
}

// A process that claimed a key and died (it never renews the claim) holds
// it for at most one short lease: the retry then runs.
func TestIdempotencyClaimOfADeadProcessLapses(t *testing.T) {
	store := newIdemStore(t)
	e := idemEnv(t, store)
	alice := e.user("org-1", "alice")
	body := []byte(`{"text":"the first attempt's process was killed"}`)
	scope := fmt.Sprintf("%d:%s/%s", len("org-1"), "org-1", "alice")
	fp := sha256Fingerprint(http.MethodPost, "/api/v1/memories", body)
	_, claimed, err := store.Begin(context.Background(), scope, "crashed", fp, 1500*time.Millisecond)
	require.NoError(t, err)
	require.True(t, claimed)
	rec := e.serve(withKey(alice, http.MethodPost, "/api/v1/memories", string(body), "crashed"))
	require.Equal(t, http.StatusConflict, rec.Code, rec.Body.String())
	retry, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	require.NoError(t, err)
	require.LessOrEqual(t, retry, 2, "Retry-After says how long the dead claim can last")
	time.Sleep(time.Duration(retry) * time.Second)
	rec = e.serve(withKey(alice, http.MethodPost, "/api/v1/memories", string(body), "crashed"))
	require.Equal(t, http.StatusCreated, rec.Code, "after Retry-After the retry runs: %s", rec.Body.String())
}

// A request that runs longer than a lease keeps its key: the claim is
// renewed while it runs, so a concurrent retry gets 409, not a second run.
func TestIdempotencyClaimRenewedWhileTheRequestRuns(t *testing.T) {
	idem := &countingIdem{IdempotencyStore: newIdemStore(t)}
	held := &heldStore{entered: make(chan struct{}, 1), hold: make(chan struct{})}
	e := newEnv(t, func(o *envOptions) {
		o.store = func(t testing.TB) store { held.store = newSQLiteStore(t); return held }
	})
	e.server.EnableIdempotency(idem)
	alice := e.user("org-1", "alice")
	body := `{"text":"a long first attempt"}`
	first := make(chan int)
	go func() {
		first <- e.serve(withKey(alice, http.MethodPost, "/api/v1/memories", body, "long")).Code
	}()
	<-held.entered
	// Past a lease (6 s); the running request renews its claim meanwhile.
	require.Eventually(t, func() bool { return idem.renewals.Load() >= 4 }, 60*time.Second, 50*time.Millisecond)
	rec := e.serve(withKey(alice, http.MethodPost, "/api/v1/memories", body, "long"))
	require.Equal(t, http.StatusConflict, rec.Code, rec.Body.String())
	close(held.hold)
	require.Equal(t, http.StatusCreated, <-first)
	require.Equal(t, 1, countMemories(t, alice))
}

// heldStore holds the first Create until hold is closed.
type heldStore struct {
	store
	entered chan struct{}
	hold    chan struct{}
}

func (h *heldStore) Create(ctx context.Context, tn domain.Tenant, m domain.Memory) (domain.Memory, bool, error) {
	select {
	case h.entered <- struct{}{}:
		<-h.hold
	default:
	}
	return h.store.Create(ctx, tn, m)
}

// countingIdem counts renewals.
type countingIdem struct {
	ports.IdempotencyStore
	renewals atomic.Int32
}

func (s *countingIdem) Renew(ctx context.Context, scope, key, fp string, lock time.Duration) (bool, error) {
	s.renewals.Add(1)
	return s.IdempotencyStore.Renew(ctx, scope, key, fp, lock)
}

// sha256Fingerprint is the digest the middleware keeps per request.
func sha256Fingerprint(method, path string, body []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", method, path)
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}
