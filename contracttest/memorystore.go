package contracttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// memoryCase is one named behaviour of the MemoryStore contract.
type memoryCase struct {
	name string
	run  func(t *testing.T, s ports.MemoryStore)
}

// RunMemoryStore runs the MemoryStore contract (ports/memorystore.go) against
// stores made by newStore. newStore is called once per subtest and must return
// an isolated, empty store cleaned up with t.Cleanup: subtests run in
// parallel.
//
// Semantics the port's doc leaves open and this suite pins down:
//   - Create with a memory whose tenant differs from t wraps domain.ErrInvalid.
//   - ListQuery.Categories matches a memory carrying ANY of the labels (as
//     OpenMemory does); Metadata filters are top-level key = value with the
//     JSON type respected (the string "1" never equals the number 1), ANDed.
//   - ListQuery.TextContains is a case-insensitive (at least for ASCII)
//     substring match in which %, _ and \ are literal characters.
//   - CreatedAfter and CreatedBefore are tested away from their boundaries
//     only; whether a bound is inclusive is not promised.
//   - Stats.Total and ByApp count every state, deleted included, erased not;
//     Stats.Apps (tested by RunAccessLog) counts the tenant's AppStore rows.
//   - SetState refuses deleted and unknown states with domain.ErrInvalid.
//   - Update may refuse (ErrInvalid) or ignore changes fn makes to ID,
//     tenant, app, state and CreatedAt; it never stores them.
//   - A batch cut off by its context is stored in full or not at all.
func RunMemoryStore(t *testing.T, newStore func(t *testing.T) ports.MemoryStore) {
	var cases []memoryCase
	cases = append(cases, createCases()...)
	cases = append(cases, batchCases()...)
	cases = append(cases, tenancyCases()...)
	cases = append(cases, lifecycleCases()...)
	cases = append(cases, updateCases()...)
	cases = append(cases, raceCases()...)
	cases = append(cases, listCases()...)
	cases = append(cases, scopeCases()...)
	cases = append(cases, whereCases()...)
	cases = append(cases, timeCases()...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newStore(t))
		})
	}
}

// newTenant returns a tenant unique to this test run, so a store shared
// between subtests (one schema per package, say) still isolates them.
func newTenant(t *testing.T) domain.Tenant {
	t.Helper()
	return domain.Tenant{OrgID: domain.OrgID("org-" + randHex(t)), UserID: domain.UserID("user-" + randHex(t))}
}

func randHex(t *testing.T) string {
	t.Helper()
	var b [6]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	return hex.EncodeToString(b[:])
}

func ctxFor(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// memOf builds a valid active memory of tenant tn through the domain
// constructor, exactly as the app layer does.
func memOf(t *testing.T, tn domain.Tenant, app domain.AppID, text string) domain.Memory {
	t.Helper()
	m, err := domain.NewMemory(tn, app, text, nil, nil, time.Now())
	require.NoError(t, err)
	return m
}

func nowUTC() time.Time { return time.Now().UTC() }

// mustCreate stores m and requires that a new row was written.
func mustCreate(t *testing.T, s ports.MemoryStore, m domain.Memory) domain.Memory {
	t.Helper()
	got, created, err := s.Create(ctxFor(t), m.Tenant(), m)
	require.NoError(t, err)
	require.True(t, created, "Create(%q) reported a duplicate", m.Text)
	return got
}

// createTexts stores one memory per text for tn and returns them in
// creation order (oldest first).
func createTexts(t *testing.T, s ports.MemoryStore, tn domain.Tenant, app domain.AppID, texts ...string) []domain.Memory {
	t.Helper()
	out := make([]domain.Memory, len(texts))
	for i, text := range texts {
		out[i] = mustCreate(t, s, memOf(t, tn, app, text))
	}
	return out
}

// listAll pages through the whole list for q and returns every item. Like
// the app layer, it validates q (filling defaults) before calling the store.
func listAll(t *testing.T, s ports.MemoryStore, tn domain.Tenant, q domain.ListQuery) []domain.Memory {
	t.Helper()
	require.NoError(t, q.Validate())
	var out []domain.Memory
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10000, "List never returned an empty NextCursor")
		page, err := s.List(ctxFor(t), tn, q)
		require.NoError(t, err)
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out
		}
		require.NotEmpty(t, page.Items, "a page with a NextCursor must not be empty")
		q.Cursor = page.NextCursor
	}
}

func idsOf(ms []domain.Memory) []domain.MemoryID {
	out := make([]domain.MemoryID, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// newestFirst returns the ids of ms in the order List promises.
func newestFirst(ms []domain.Memory) []domain.MemoryID {
	ids := idsOf(ms)
	for i, j := 0, len(ids)-1; i < j; i, j = i+1, j-1 {
		ids[i], ids[j] = ids[j], ids[i]
	}
	return ids
}

// requireKind asserts err wraps kind.
func requireKind(t *testing.T, err, kind error, msgAndArgs ...any) {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	require.Truef(t, errors.Is(err, kind), "error %q does not wrap %q %v", err, kind, msgAndArgs)
}

// requireSameMemory compares every field; times to the microsecond, the
// precision of the coarsest supported backend (PostgreSQL).
func requireSameMemory(t *testing.T, want, got domain.Memory) {
	t.Helper()
	require.Equal(t, want.ID, got.ID, "ID")
	require.Equal(t, want.OrgID, got.OrgID, "OrgID")
	require.Equal(t, want.UserID, got.UserID, "UserID")
	require.Equal(t, want.AppID, got.AppID, "AppID")
	require.Equal(t, want.Text, got.Text, "Text")
	require.Equal(t, normMD(want.Metadata), normMD(got.Metadata), "Metadata")
	require.Equal(t, normCats(want.Categories), normCats(got.Categories), "Categories")
	require.Equal(t, want.State, got.State, "State")
	if want.ContentHash != got.ContentHash {
		// A store that seals text keeps a keyed hash (docs/privacy.md),
		// opaque here; testUpdateChanges checks it is not the plain one.
		require.Regexp(t, `^[0-9a-f]{64}$`, got.ContentHash, "ContentHash")
	}
	requireSameTime(t, want.CreatedAt, got.CreatedAt, "CreatedAt")
	requireSameTime(t, want.UpdatedAt, got.UpdatedAt, "UpdatedAt")
	requireSameTime(t, want.ObservedAt, got.ObservedAt, "ObservedAt")
	requireSameTime(t, want.ValidFrom, got.ValidFrom, "ValidFrom")
	requireSameTime(t, want.ValidTo, got.ValidTo, "ValidTo")
}

func requireSameTime(t *testing.T, want, got time.Time, what string) {
	t.Helper()
	d := want.Sub(got)
	require.Truef(t, d < time.Microsecond && d > -time.Microsecond, "%s: want %s, got %s", what, want, got)
}

// normMD and normCats treat nil and empty alike: stores may return either.
func normMD(md domain.Metadata) domain.Metadata {
	if md == nil {
		return domain.Metadata{}
	}
	return md
}

func normCats(c []string) []string {
	if c == nil {
		return []string{}
	}
	return c
}
