package inproc_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// BenchmarkSessionStoreAppend appends to a session kept at the default cap
// of 10,000 events, so trimming is part of the cost.
func BenchmarkSessionStoreAppend(b *testing.B) {
	st := inproc.NewSessionStore(inproc.SessionOptions{})
	b.Cleanup(func() { _ = st.Close() })
	ctx := context.Background()
	tn := domain.Tenant{OrgID: "o", UserID: "u"}
	e := domain.SessionEvent{Role: domain.RoleUser, Text: "the quick brown fox jumps over the lazy dog"}
	for b.Loop() {
		now := time.Now()
		e.ID, e.CreatedAt = domain.NewID(now), now
		if _, err := st.Append(ctx, tn, "s", e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSessionStoreRecent reads the newest 20 of 1,000 events.
func BenchmarkSessionStoreRecent(b *testing.B) {
	st := inproc.NewSessionStore(inproc.SessionOptions{})
	b.Cleanup(func() { _ = st.Close() })
	ctx := context.Background()
	tn := domain.Tenant{OrgID: "o", UserID: "u"}
	for i := range 1000 {
		e, err := domain.NewSessionEvent(domain.RoleUser, fmt.Sprintf("event %d", i), domain.Metadata{"i": i}, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := st.Append(ctx, tn, "s", e); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		got, err := st.Recent(ctx, tn, "s", domain.DefaultRecentEvents)
		if err != nil || len(got) != domain.DefaultRecentEvents {
			b.Fatal(len(got), err)
		}
	}
}

func BenchmarkReplayCacheRemember(b *testing.B) {
	c := inproc.NewReplayCache(inproc.ReplayOptions{})
	b.Cleanup(func() { _ = c.Close() })
	ctx := context.Background()
	until := time.Now().Add(time.Minute)
	i := 0
	for b.Loop() {
		if _, err := c.Remember(ctx, fmt.Sprint(i), until); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkSessionSealing compares Append and Recent with events held as
// written and sealed (contracttest.BenchSessionSealing).
func BenchmarkSessionSealing(b *testing.B) {
	contracttest.BenchSessionSealing(b, func(b *testing.B, keys ports.SessionKeys) ports.SessionStore {
		st := inproc.NewSessionStore(inproc.SessionOptions{Keys: keys, MaxBytesPerUser: 1 << 30, MaxSessionsPerUser: 1 << 20})
		b.Cleanup(func() { _ = st.Close() })
		return st
	})
}
