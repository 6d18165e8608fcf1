package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

func TestParseSessionID(t *testing.T) {
	for _, ok := range []string{"a", "chat-1", "A.b_c-9", strings.Repeat("x", 128)} {
		_, err := domain.ParseSessionID(ok)
		require.NoError(t, err, ok)
	}
	for _, bad := range []string{"", "-a", "a:b", "a/b", "a b", "{a}", strings.Repeat("x", 129), "é"} {
		_, err := domain.ParseSessionID(bad)
		require.ErrorIs(t, err, domain.ErrInvalid, bad)
	}
}

func TestNewSessionEvent(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.FixedZone("x", 3600))
	e, err := domain.NewSessionEvent(domain.RoleTool, "result", nil, now)
	require.NoError(t, err)
	require.True(t, domain.ValidID(e.ID))
	require.Equal(t, domain.Metadata{}, e.Metadata)
	require.Equal(t, time.UTC, e.CreatedAt.Location())
	require.Equal(t, 123456000, e.CreatedAt.Nanosecond(), "truncated to microseconds")

	_, err = domain.NewSessionEvent("bot", "x", nil, now)
	require.ErrorIs(t, err, domain.ErrInvalid)
	_, err = domain.NewSessionEvent(domain.RoleUser, strings.Repeat("x", domain.MaxTextBytes+1), nil, now)
	require.ErrorIs(t, err, domain.ErrInvalid)
	_, err = domain.NewSessionEvent(domain.RoleUser, "x", domain.Metadata{"": 1}, now)
	require.ErrorIs(t, err, domain.ErrInvalid)
}

func TestRecencyScore(t *testing.T) {
	h := 30 * time.Minute
	require.Equal(t, 1.0, domain.RecencyScore(0, h))
	require.Equal(t, 1.0, domain.RecencyScore(-time.Minute, h), "clock skew")
	require.InDelta(t, 0.5, domain.RecencyScore(h, h), 1e-12)
	require.InDelta(t, 0.125, domain.RecencyScore(3*h, h), 1e-12)
	require.Equal(t, 1.0, domain.RecencyScore(time.Hour, 0), "no half-life: no decay")

	now := time.Now()
	es := []domain.SessionEvent{{CreatedAt: now}, {CreatedAt: now.Add(-h)}}
	domain.ScoreRecency(es, now, h)
	require.Equal(t, 1.0, es[0].Score)
	require.InDelta(t, 0.5, es[1].Score, 1e-12)
}

func TestMentionMatches(t *testing.T) {
	require.True(t, domain.MentionMatches("I moved to BERLIN", "berlin"))
	require.True(t, domain.MentionMatches("Ich gehe zur École", "ÉCOLE"))
	require.False(t, domain.MentionMatches("Paris", "berlin"))
}
