package valkeystore

import (
	"context"
	"fmt"

	"github.com/valkey-io/valkey-go"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// endSession deletes a session and its ledger entry.
// KEYS: ev, ix, ledger h, ledger z. ARGV: the ledger entry.
var endSession = valkey.NewLuaScript(ledgerPrelude + `
local n = redis.call('DEL', KEYS[1], KEYS[2])
prune(KEYS[3], KEYS[4])
set(KEYS[3], KEYS[4], ARGV[1], 0, 0)
return n
`)

// Recent implements ports.SessionStore.
func (s *Store) Recent(ctx context.Context, t domain.Tenant, sid domain.SessionID, n int) ([]domain.SessionEvent, error) {
	if n < 1 || n > domain.MaxRecentEvents {
		return nil, fmt.Errorf("valkeystore: recent events of session %s: %w", sid, domain.Invalid("limit", "must be between 1 and %d", domain.MaxRecentEvents))
	}
	out, err := s.newest(ctx, t, sid, 0, n-1)
	if err != nil {
		return nil, fmt.Errorf("valkeystore: recent events of session %s: %w", sid, err)
	}
	domain.ScoreRecency(out, s.o.Clock.Now(), s.o.HalfLife)
	return out, nil
}

// newest returns the events of ranks from..to (0 is the newest).
func (s *Store) newest(ctx context.Context, t domain.Tenant, sid domain.SessionID, from, to int) ([]domain.SessionEvent, error) {
	ev, ix := s.sessionKeys(t, sid)
	open := s.opener(ctx, t, sid)
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	vals, err := newestEvents.Exec(ctx, s.c, []string{ev, ix}, []string{fmt.Sprint(from), fmt.Sprint(to)}).ToArray()
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]domain.SessionEvent, 0, len(vals))
	for _, v := range vals {
		raw, err := v.ToString()
		if err != nil { // an id without its event: cannot happen with the scripts, skip
			continue
		}
		e, err := decodeEvent(raw)
		if err != nil {
			return nil, mapErr(err)
		}
		if e, err = open.Open(e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// opener opens the session's sealed events. Callers make it before
// narrowing ctx to Valkey's deadline: the key lookup (once, then cached by
// the system of record) is the store's call, not Valkey's.
func (s *Store) opener(ctx context.Context, t domain.Tenant, sid domain.SessionID) *ports.EventOpener {
	return ports.SessionSealer{Keys: s.o.SessionKeys}.Opener(ctx, t, sid)
}

// Events implements ports.SessionStore with one HMGET.
func (s *Store) Events(ctx context.Context, t domain.Tenant, sid domain.SessionID, ids []string) ([]domain.SessionEvent, error) {
	if len(ids) == 0 {
		return []domain.SessionEvent{}, nil
	}
	ev, _ := s.sessionKeys(t, sid)
	open := s.opener(ctx, t, sid)
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	vals, err := s.c.Do(ctx, s.c.B().Hmget().Key(ev).Field(ids...).Build()).ToArray()
	if err != nil {
		return nil, fmt.Errorf("valkeystore: events of session %s: %w", sid, mapErr(err))
	}
	out := make([]domain.SessionEvent, len(ids))
	for i, v := range vals {
		raw, err := v.ToString()
		if err != nil {
			return nil, fmt.Errorf("valkeystore: session %s: event %s: %w", sid, ids[i], domain.ErrNotFound)
		}
		if out[i], err = decodeEvent(raw); err != nil {
			return nil, fmt.Errorf("valkeystore: session %s: %w", sid, mapErr(err))
		}
		if out[i], err = open.Open(out[i]); err != nil {
			return nil, fmt.Errorf("valkeystore: session %s: %w", sid, err)
		}
	}
	return out, nil
}

// mentionPage is how many events FindMention fetches per round trip.
const mentionPage = 200

// FindMention implements ports.SessionStore. It scans newest first, a page
// at a time, and matches in Go (domain.MentionMatches) rather than in Lua,
// whose string.lower only folds ASCII.
func (s *Store) FindMention(ctx context.Context, t domain.Tenant, sid domain.SessionID, term string) (domain.SessionEvent, error) {
	if term == "" {
		return domain.SessionEvent{}, fmt.Errorf("valkeystore: find mention in session %s: %w", sid, domain.Invalid("term", "must not be empty"))
	}
	for from := 0; ; from += mentionPage {
		page, err := s.newest(ctx, t, sid, from, from+mentionPage-1)
		if err != nil {
			return domain.SessionEvent{}, fmt.Errorf("valkeystore: find mention in session %s: %w", sid, err)
		}
		for _, e := range page {
			if domain.MentionMatches(e.Text, term) {
				return e, nil
			}
		}
		if len(page) < mentionPage {
			return domain.SessionEvent{}, fmt.Errorf("valkeystore: find mention of %q in session %s: %w", term, sid, domain.ErrNotFound)
		}
	}
}

// End implements ports.SessionStore: one DEL of both keys.
func (s *Store) End(ctx context.Context, t domain.Tenant, sid domain.SessionID) error {
	ev, ix := s.sessionKeys(t, sid)
	h, z := s.tenantLedger(t)
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	n, err := endSession.Exec(ctx, s.c, []string{ev, ix, h, z}, []string{sessionEntry(sid)}).AsInt64()
	if err != nil {
		return fmt.Errorf("valkeystore: end session %s: %w", sid, mapErr(err))
	}
	if n == 0 {
		return fmt.Errorf("valkeystore: end session %s: %w", sid, domain.ErrNotFound)
	}
	return nil
}
