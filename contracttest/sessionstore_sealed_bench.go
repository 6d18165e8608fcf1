package contracttest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// BenchSessionSealing measures what sealing costs a session store: Append
// of a 200-byte turn with a little metadata, and Recent of the newest 20
// of 1,000 such events, as written ("plain") and sealed with a cached data
// key ("sealed", one AES-GCM per event each way). newStore returns a fresh
// store using keys (nil: plaintext).
func BenchSessionSealing(b *testing.B, newStore func(b *testing.B, keys ports.SessionKeys) ports.SessionStore) {
	ctx := context.Background()
	tn := domain.Tenant{OrgID: "bench", UserID: "u"}
	text := strings.Repeat("the quick brown fox jumps over the lazy dog ", 5)[:200]
	md := domain.Metadata{"tool": "chat", "turn": 1.0}
	for _, mode := range []string{"plain", "sealed"} {
		var keys ports.SessionKeys
		if mode == "sealed" {
			keys = NewSessionKeys()
		}
		b.Run("Append/"+mode, func(b *testing.B) {
			s := newStore(b, keys)
			i := 0
			for b.Loop() {
				now := time.Now()
				e := domain.SessionEvent{ID: domain.NewID(now), Role: domain.RoleUser, Text: text, Metadata: md, CreatedAt: now}
				// A session per 1,000 events keeps trimming out of the figure.
				if _, err := s.Append(ctx, tn, domain.SessionID(fmt.Sprintf("a%d", i/1000)), e); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run("Recent20/"+mode, func(b *testing.B) {
			s := newStore(b, keys)
			for range 1000 {
				e, err := domain.NewSessionEvent(domain.RoleUser, text, md, time.Now())
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.Append(ctx, tn, "r", e); err != nil {
					b.Fatal(err)
				}
			}
			for b.Loop() {
				got, err := s.Recent(ctx, tn, "r", domain.DefaultRecentEvents)
				if err != nil || len(got) != domain.DefaultRecentEvents {
					b.Fatal(len(got), err)
				}
			}
		})
	}
}
