package domain_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

func TestListQueryValidateFillsDefaults(t *testing.T) {
	q := domain.ListQuery{
		Categories: []string{" Work ", "work"},
		Metadata:   domain.Metadata{"n": 3, "s": "x", "b": true, "f": 1.5},
	}
	require.NoError(t, q.Validate())
	require.Equal(t, domain.DefaultListLimit, q.Limit)
	require.Equal(t, []string{"work"}, q.Categories)
	require.Equal(t, domain.Metadata{"n": 3.0, "s": "x", "b": true, "f": 1.5}, q.Metadata, "int filters compare as JSON numbers")
}

func TestListQueryValidateRefuses(t *testing.T) {
	for field, q := range map[string]domain.ListQuery{
		"limit":         {Limit: domain.MaxListLimit + 1},
		"app":           {App: "Not A Slug"},
		"state":         {States: []domain.State{domain.StateActive, "gone"}},
		"categories[0]": {Categories: []string{"#"}},
		"metadata":      {Metadata: domain.Metadata{"k": map[string]any{"nested": 1}}},
		"text_contains": {TextContains: strings.Repeat("x", 1025)},
		"cursor":        {Cursor: "not-a-cursor"},
	} {
		requireInvalidFieldNamed(t, q.Validate(), field)
	}
	q := domain.ListQuery{Limit: -1}
	requireInvalidFieldNamed(t, q.Validate(), "limit")
	q = domain.ListQuery{Metadata: domain.Metadata{"k": nil}}
	requireInvalidFieldNamed(t, q.Validate(), "metadata")
	q = domain.ListQuery{Limit: domain.MaxListLimit, TextContains: strings.Repeat("x", 1024)}
	require.NoError(t, q.Validate())
}

func TestCursorRoundTrip(t *testing.T) {
	id := domain.NewMemoryID(time.Now())
	c := domain.EncodeCursor(id)
	require.NotContains(t, c, string(id), "a cursor is opaque")
	require.NotContains(t, c, "=", "URL-safe, unpadded")
	got, err := domain.DecodeCursor(c)
	require.NoError(t, err)
	require.Equal(t, id, got)
	q := domain.ListQuery{Cursor: c}
	require.NoError(t, q.Validate())
}

func TestDecodeCursorRefusesForeignInput(t *testing.T) {
	for _, c := range []string{
		"",
		"!!!",
		base64.RawURLEncoding.EncodeToString([]byte("hello")),
		base64.RawURLEncoding.EncodeToString([]byte("01890A5D-AC96-774B-BCCE-B302099A8057")),
		domain.EncodeCursor("01890a5d-ac96-774b-bcce-b302099a8057") + "==", // padding is not ours
		base64.StdEncoding.EncodeToString([]byte("01890a5d-ac96-774b-bcce-b302099a8057' OR 1=1")),
	} {
		_, err := domain.DecodeCursor(c)
		requireInvalidFieldNamed(t, err, "cursor")
	}
}

// TestListQueryMatchesFilters: what a store evaluates in process on rows
// whose metadata values are sealed: Metadata (typed equality) and Where.
func TestListQueryMatchesFilters(t *testing.T) {
	m := domain.Memory{AppID: "app", Metadata: domain.Metadata{"n": 3.0, "s": "x", "b": true}}
	gt, err := domain.ParseFilter(map[string]any{"metadata": map[string]any{"n": map[string]any{"gt": 2.0}}})
	require.NoError(t, err)
	app, err := domain.ParseFilter(map[string]any{"app_id": "app"})
	require.NoError(t, err)
	for _, tc := range []struct {
		q          domain.ListQuery
		compares   bool
		wantAccept bool
	}{
		{domain.ListQuery{}, false, true},
		{domain.ListQuery{Where: &app}, false, true},
		{domain.ListQuery{Metadata: domain.Metadata{"n": 3.0, "s": "x", "b": true}}, true, true},
		{domain.ListQuery{Metadata: domain.Metadata{"n": "3"}}, true, false},
		{domain.ListQuery{Metadata: domain.Metadata{"b": 1.0}}, true, false},
		{domain.ListQuery{Where: &gt}, true, true},
		{domain.ListQuery{Where: &gt, Metadata: domain.Metadata{"s": "y"}}, true, false},
	} {
		require.Equal(t, tc.compares, tc.q.ComparesMetadata(), "%+v", tc.q)
		require.Equal(t, tc.wantAccept, tc.q.MatchesFilters(m), "%+v", tc.q)
	}
}
