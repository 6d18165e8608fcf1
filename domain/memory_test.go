package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

func TestValidateText(t *testing.T) {
	exact := strings.Repeat("é", domain.MaxTextBytes/2)
	require.Len(t, exact, domain.MaxTextBytes)
	for text, ok := range map[string]bool{
		"x":                 true,
		"  padded  ":        true,
		"emoji 👩‍👩‍👧":       true,
		exact:               true,
		exact + "x":         false,
		"":                  false,
		" \t\n ":            false,
		"bad \xc3\x28 utf8": false,
		"nul\x00byte":       false,
	} {
		err := domain.ValidateText(text)
		if ok {
			require.NoError(t, err, "%.20q", text)
			continue
		}
		requireInvalidFieldNamed(t, err, "text")
	}
}

func TestNormalizeMetadata(t *testing.T) {
	got, err := domain.NormalizeMetadata(nil)
	require.NoError(t, err)
	require.NotNil(t, got)
	require.Empty(t, got)

	got, err = domain.NormalizeMetadata(domain.Metadata{
		"int": 3, "int64": int64(-7), "float": 2.5, "bool": true, "null": nil,
		"nested": map[string]any{"list": []int{1, 2}}, "strs": []string{"a"},
	})
	require.NoError(t, err)
	require.Equal(t, domain.Metadata{
		"int": 3.0, "int64": -7.0, "float": 2.5, "bool": true, "null": nil,
		"nested": map[string]any{"list": []any{1.0, 2.0}}, "strs": []any{"a"},
	}, got, "values must come back as canonical JSON types")

	// The limit is on the encoded size: {"k":"…"} is 8 bytes of framing.
	atLimit := domain.Metadata{"k": strings.Repeat("x", domain.MaxMetadataBytes-8)}
	_, err = domain.NormalizeMetadata(atLimit)
	require.NoError(t, err)
	for name, md := range map[string]domain.Metadata{
		"over limit":    {"k": strings.Repeat("x", domain.MaxMetadataBytes-7)},
		"empty key":     {"": 1},
		"long key":      {strings.Repeat("k", 257): 1},
		"NUL in key":    {"a\x00b": 1},
		"bad UTF-8 key": {"\xff": 1},
		"NUL in value":  {"k": "a\x00b"},
		"nested NUL":    {"k": map[string]any{"x": "\x00"}},
		"unencodable":   {"k": func() {}},
	} {
		_, err := domain.NormalizeMetadata(md)
		require.Error(t, err, name)
		requireInvalidFieldNamed(t, err, "metadata")
	}
}

func TestNormalizeCategories(t *testing.T) {
	got, err := domain.NormalizeCategories([]string{" Work ", "work", "Café", "a:b/c", "x_y.z", "日本"})
	require.NoError(t, err)
	require.Equal(t, []string{"work", "café", "a:b/c", "x_y.z", "日本"}, got)

	got, err = domain.NormalizeCategories(nil)
	require.NoError(t, err)
	require.Empty(t, got)

	full := make([]string, domain.MaxCategories)
	for i := range full {
		full[i] = strings.Repeat("c", domain.MaxCategoryLen-2) + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	_, err = domain.NormalizeCategories(full)
	require.NoError(t, err)
	_, err = domain.NormalizeCategories(append(full, "one-more"))
	requireInvalidFieldNamed(t, err, "categories")

	for i, bad := range []string{"", "   ", "-leading", "semi;colon", "new\nline", strings.Repeat("x", domain.MaxCategoryLen+1)} {
		_, err := domain.NormalizeCategories([]string{"fine", bad})
		require.Error(t, err, "case %d %q", i, bad)
		requireInvalidFieldNamed(t, err, "categories[1]")
	}
}

func TestContentHashIsSHA256Hex(t *testing.T) {
	// FIPS 180-2 test vector.
	require.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", domain.ContentHash("abc"))
	require.NotEqual(t, domain.ContentHash("Abc"), domain.ContentHash("abc"), "no case folding")
}

func TestNewMemory(t *testing.T) {
	tn := domain.Tenant{OrgID: "acme", UserID: "alice@example.com"}
	now := time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("CET", 3600))
	m, err := domain.NewMemory(tn, "cursor", "likes tea", domain.Metadata{"n": 1}, []string{"Food"}, now)
	require.NoError(t, err)
	require.True(t, domain.ValidID(string(m.ID)))
	require.Equal(t, tn, m.Tenant())
	require.Equal(t, domain.StateActive, m.State)
	require.Equal(t, domain.ContentHash("likes tea"), m.ContentHash)
	require.Equal(t, domain.Metadata{"n": 1.0}, m.Metadata)
	require.Equal(t, []string{"food"}, m.Categories)
	require.True(t, m.CreatedAt.Equal(now))
	require.Equal(t, time.UTC, m.CreatedAt.Location())
	require.Equal(t, m.CreatedAt, m.UpdatedAt)
	require.Equal(t, domain.MemoryValues{Text: "likes tea", Metadata: m.Metadata, Categories: m.Categories, State: domain.StateActive}, m.Values())

	for field, args := range map[string]struct {
		tn   domain.Tenant
		app  domain.AppID
		text string
	}{
		"org_id":  {domain.Tenant{UserID: "u"}, "app", "x"},
		"user_id": {domain.Tenant{OrgID: "o", UserID: "has space"}, "app", "x"},
		"app":     {tn, "", "x"},
		"text":    {tn, "app", ""},
	} {
		_, err := domain.NewMemory(args.tn, args.app, args.text, nil, nil, now)
		requireInvalidFieldNamed(t, err, field)
	}
}

func TestMemoryNormalizeRecomputesHashAndChecksEveryField(t *testing.T) {
	m, err := domain.NewMemory(domain.Tenant{OrgID: "o", UserID: "u"}, "app", "before", nil, nil, time.Now())
	require.NoError(t, err)
	m.Text = "after"
	require.NoError(t, m.Normalize())
	require.Equal(t, domain.ContentHash("after"), m.ContentHash)

	for field, mutate := range map[string]func(*domain.Memory){
		"id":    func(m *domain.Memory) { m.ID = "nope" },
		"state": func(m *domain.Memory) { m.State = "gone" },
		"app":   func(m *domain.Memory) { m.AppID = "UPPER" },
	} {
		c := m
		mutate(&c)
		requireInvalidFieldNamed(t, c.Normalize(), field)
	}
}

func TestParseState(t *testing.T) {
	for _, s := range []string{"active", "paused", "archived", "deleted"} {
		got, err := domain.ParseState(s)
		require.NoError(t, err)
		require.Equal(t, domain.State(s), got)
	}
	for _, s := range []string{"", "Active", "erased", "active "} {
		_, err := domain.ParseState(s)
		requireInvalidFieldNamed(t, err, "state")
	}
}
