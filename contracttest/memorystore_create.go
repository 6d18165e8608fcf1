package contracttest

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func createCases() []memoryCase {
	return []memoryCase{
		{"Create/RoundTripsEveryField", testCreateRoundTrips},
		{"Create/InvalidWritesNothing", testCreateInvalid},
		{"Create/OtherTenantsMemoryIsInvalid", testCreateWrongTenant},
		{"Create/DuplicateReturnsExisting", testCreateDuplicate},
		{"Create/ConcurrentDuplicatesMakeOneRow", testCreateConcurrentDuplicates},
		{"Create/DuplicateOfDeletedCreatesNew", testCreateDuplicateOfDeleted},
		{"Create/DuplicateOfPausedCreatesNew", testCreateDuplicateOfPaused},
		{"Create/SameIDIsAlreadyExists", testCreateSameID},
		{"Get/NotFound", testGetNotFound},
	}
}

// text64KiB is exactly domain.MaxTextBytes of mixed-width UTF-8.
func text64KiB() string {
	var b strings.Builder
	for b.Len()+len("é😀a") <= domain.MaxTextBytes {
		b.WriteString("é😀a")
	}
	for b.Len() < domain.MaxTextBytes {
		b.WriteByte('z')
	}
	return b.String()
}

func testCreateRoundTrips(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	texts := []string{
		"plain ascii: likes green tea",
		"emoji 👩‍👩‍👧‍👦 family, flags 🇯🇵, skin tone 👍🏽",
		"RTL: שלום עולם, مرحبا بالعالم \u200f and an override \u202egnirts\u202c",
		"combining: e\u0301 is not é, a\u030a is not å; Hangul 한국어; 日本語",
		"quotes ' \" ` and backslash \\ and newline\nand tab\t",
		text64KiB(),
	}
	md := domain.Metadata{
		"s": "value ✓", "n": 42, "f": -3.25, "big": 1e15, "yes": true, "no": false,
		"null": nil, "nested": map[string]any{"a": []any{1, "two", true, nil}, "b": map[string]any{}},
		"list": []any{}, "שדה": "מפתח בעברית",
	}
	cats := []string{"Work", "日本語", "a:b/c", "with space"}
	for _, text := range texts {
		m, err := domain.NewMemory(tn, "claude-desktop", text, md, cats, time.Now())
		require.NoError(t, err)
		stored, created, err := s.Create(ctxFor(t), tn, m)
		require.NoError(t, err)
		require.True(t, created)
		requireSameMemory(t, m, stored)

		got, err := s.Get(ctxFor(t), tn, m.ID)
		require.NoError(t, err)
		requireSameMemory(t, m, got)
		require.Equal(t, []string{"work", "日本語", "a:b/c", "with space"}, got.Categories)
		require.Len(t, got.Text, len(text), "byte length changed")
	}
	require.Len(t, listAll(t, s, tn, domain.ListQuery{}), len(texts))
}

func testCreateInvalid(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	cases := []struct {
		field  string
		mutate func(m *domain.Memory)
	}{
		{"text", func(m *domain.Memory) { m.Text = "" }},
		{"text", func(m *domain.Memory) { m.Text = " \n\t " }},
		{"text", func(m *domain.Memory) { m.Text = text64KiB() + "x" }},
		{"text", func(m *domain.Memory) { m.Text = "bad \xff utf8" }},
		{"text", func(m *domain.Memory) { m.Text = "nul \x00 inside" }},
		{"metadata", func(m *domain.Memory) {
			m.Metadata = domain.Metadata{"k": strings.Repeat("x", domain.MaxMetadataBytes)}
		}},
		{"metadata", func(m *domain.Memory) { m.Metadata = domain.Metadata{"": "empty key"} }},
		{"metadata", func(m *domain.Memory) { m.Metadata = domain.Metadata{"k": "nul \x00"} }},
		{"metadata", func(m *domain.Memory) { m.Metadata = domain.Metadata{"k": make(chan int)} }},
		{"categories", func(m *domain.Memory) { m.Categories = make([]string, domain.MaxCategories+1) }},
		{"categories[1]", func(m *domain.Memory) { m.Categories = []string{"ok", "bad!"} }},
		{"categories[0]", func(m *domain.Memory) { m.Categories = []string{strings.Repeat("x", domain.MaxCategoryLen+1)} }},
		{"state", func(m *domain.Memory) { m.State = "gone" }},
		{"app", func(m *domain.Memory) { m.AppID = "Not A Slug" }},
		{"id", func(m *domain.Memory) { m.ID = "not-a-uuid" }},
	}
	for i, c := range cases {
		m := memOf(t, tn, "app", "valid text")
		c.mutate(&m)
		_, _, err := s.Create(ctxFor(t), tn, m)
		requireKind(t, err, domain.ErrInvalid, "case %d (%s)", i, c.field)
		var ve *domain.ValidationError
		require.True(t, errors.As(err, &ve), "case %d: %v is not a *domain.ValidationError", i, err)
		require.Equal(t, c.field, ve.Field, "case %d", i)
	}
	for _, field := range []string{"org_id", "user_id"} {
		bad := domain.Tenant{OrgID: tn.OrgID, UserID: tn.UserID}
		if field == "org_id" {
			bad.OrgID = "bad org!"
		} else {
			bad.UserID = ""
		}
		m := memOf(t, tn, "app", "valid text")
		m.OrgID, m.UserID = bad.OrgID, bad.UserID
		_, _, err := s.Create(ctxFor(t), bad, m)
		requireKind(t, err, domain.ErrInvalid, field)
		var ve *domain.ValidationError
		require.True(t, errors.As(err, &ve))
		require.Equal(t, field, ve.Field)
	}
	require.Empty(t, listAll(t, s, tn, domain.ListQuery{States: allStates()}))
	st, err := s.Stats(ctxFor(t), tn)
	require.NoError(t, err)
	require.Zero(t, st.Total)
}

func testCreateWrongTenant(t *testing.T, s ports.MemoryStore) {
	a := newTenant(t)
	for _, b := range []domain.Tenant{
		newTenant(t),
		{OrgID: domain.OrgID("other-" + randHex(t)), UserID: a.UserID},
		{OrgID: a.OrgID, UserID: domain.UserID("other-" + randHex(t))},
	} {
		m := memOf(t, a, "app", "belongs to a")
		_, _, err := s.Create(ctxFor(t), b, m)
		requireKind(t, err, domain.ErrInvalid)
		for _, tn := range []domain.Tenant{a, b} {
			_, err := s.Get(ctxFor(t), tn, m.ID)
			requireKind(t, err, domain.ErrNotFound)
			require.Empty(t, listAll(t, s, tn, domain.ListQuery{States: allStates()}))
		}
	}
}

func testCreateDuplicate(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	first := mustCreate(t, s, memOf(t, tn, "app-one", "I live in Lisbon"))
	dup := memOf(t, tn, "app-two", "I live in Lisbon")
	got, created, err := s.Create(ctxFor(t), tn, dup)
	require.NoError(t, err)
	require.False(t, created)
	requireSameMemory(t, first, got)
	_, err = s.Get(ctxFor(t), tn, dup.ID)
	requireKind(t, err, domain.ErrNotFound, "the duplicate's id must not be stored")
	hist, err := s.History(ctxFor(t), tn, first.ID)
	require.NoError(t, err)
	require.Len(t, hist, 1, "a duplicate must not add history")

	// Dedupe is per tenant: another user with the same text gets a new row.
	other := newTenant(t)
	mustCreate(t, s, memOf(t, other, "app-one", "I live in Lisbon"))
	// Different bytes are not a duplicate (no normalisation of case).
	mustCreate(t, s, memOf(t, tn, "app-one", "I live in lisbon"))
	require.Len(t, listAll(t, s, tn, domain.ListQuery{}), 2)
}

// testCreateConcurrentDuplicates races writers adding the same text: the
// store, not the caller, must settle it, with one row and every caller
// answered with that row (never an error).
func testCreateConcurrentDuplicates(t *testing.T, s ports.MemoryStore) {
	const writers = 16
	tn := newTenant(t)
	got := make([]domain.Memory, writers)
	created := make([]bool, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range writers {
		m := memOf(t, tn, "app", "said at the same time")
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			got[i], created[i], errs[i] = s.Create(ctxFor(t), tn, m)
		}()
	}
	close(start)
	wg.Wait()
	winners := 0
	for i := range writers {
		require.NoError(t, errs[i], "writer %d", i)
		require.Equal(t, got[0].ID, got[i].ID, "writer %d got another row", i)
		if created[i] {
			winners++
		}
	}
	require.Equal(t, 1, winners, "exactly one writer creates the row")
	require.Len(t, listAll(t, s, tn, domain.ListQuery{}), 1)
}

func testCreateDuplicateOfDeleted(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	old := mustCreate(t, s, memOf(t, tn, "app", "allergic to peanuts"))
	require.NoError(t, s.Delete(ctxFor(t), tn, []domain.MemoryID{old.ID}, "app"))
	fresh := mustCreate(t, s, memOf(t, tn, "app", "allergic to peanuts"))
	require.NotEqual(t, old.ID, fresh.ID)
	got, err := s.Get(ctxFor(t), tn, old.ID)
	require.NoError(t, err)
	require.Equal(t, domain.StateDeleted, got.State)
	require.Equal(t, []domain.MemoryID{fresh.ID}, idsOf(listAll(t, s, tn, domain.ListQuery{})))
}

func testCreateDuplicateOfPaused(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	old := mustCreate(t, s, memOf(t, tn, "app", "prefers window seats"))
	_, err := s.SetState(ctxFor(t), tn, []domain.MemoryID{old.ID}, domain.StatePaused, "app")
	require.NoError(t, err)
	fresh := mustCreate(t, s, memOf(t, tn, "app", "prefers window seats"))
	require.NotEqual(t, old.ID, fresh.ID)
}

func testCreateSameID(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	m := mustCreate(t, s, memOf(t, tn, "app", "original"))
	again := memOf(t, tn, "app", "different text, same id")
	again.ID = m.ID
	_, _, err := s.Create(ctxFor(t), tn, again)
	requireKind(t, err, domain.ErrAlreadyExists)
	got, err := s.Get(ctxFor(t), tn, m.ID)
	require.NoError(t, err)
	requireSameMemory(t, m, got)
}

func testGetNotFound(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	mustCreate(t, s, memOf(t, tn, "app", "something"))
	_, err := s.Get(ctxFor(t), tn, domain.NewMemoryID(time.Now()))
	requireKind(t, err, domain.ErrNotFound)
}

func allStates() []domain.State {
	return []domain.State{domain.StateActive, domain.StatePaused, domain.StateArchived, domain.StateDeleted}
}
