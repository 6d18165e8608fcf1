package valkeystore

import (
	"context"
	"fmt"
	"strings"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var (
	_ ports.SessionEraser     = (*Store)(nil)
	_ ports.IdempotencyEraser = (*Store)(nil)
	_ ports.SessionLister     = (*Store)(nil)
)

// subjectPattern matches the keys of kind ("sess", "idem", "quota") of the
// subject: one user's tag, or every tag of an org (keys.go).
func (s *Store) subjectPattern(kind string, subj domain.Subject) string {
	if subj.OrgWide() {
		return globEscape(s.o.Prefix+":"+kind+":"+orgTagHead(subj.OrgID)) + "*"
	}
	return globEscape(s.o.Prefix+":"+kind+":"+userTag(ports.IdempotencyScope(subj.Tenant()))+":") + "*"
}

// EraseSessions implements ports.SessionEraser: every session key of the
// subject is found with SCAN over its key prefix (the org and user are in
// the key name, escaped) and deleted. It reports sessions, not keys (each
// session has two).
func (s *Store) EraseSessions(ctx context.Context, subj domain.Subject) (int64, error) {
	if err := subj.Validate(); err != nil {
		return 0, fmt.Errorf("valkeystore: erase sessions: %w", err)
	}
	n, err := s.deleteMatching(ctx, s.subjectPattern("sess", subj), func(k string) bool { return strings.HasSuffix(k, ":ev") })
	if err == nil {
		err = s.eraseLedgers(ctx, subj)
	}
	if err != nil {
		return 0, fmt.Errorf("valkeystore: erase sessions: %w", err)
	}
	return n, nil
}

// SubjectSessions implements ports.SessionLister: SCAN over the tenant's
// session keys, the session id read back from between the tag and ":ev".
func (s *Store) SubjectSessions(ctx context.Context, t domain.Tenant) ([]domain.SessionID, error) {
	head := s.sessionHead(t)
	var out []domain.SessionID
	err := s.scanKeys(ctx, globEscape(head)+"*:ev", func(_ context.Context, keys []string) error {
		for _, k := range keys {
			if id, ok := strings.CutSuffix(strings.TrimPrefix(k, head), ":ev"); ok && !strings.Contains(id, ":") {
				out = append(out, domain.SessionID(id))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("valkeystore: list sessions: %w", err)
	}
	return out, nil
}

// EraseIdempotency implements ports.IdempotencyEraser over the escaped
// scope in each record's tag.
func (s *Store) EraseIdempotency(ctx context.Context, subj domain.Subject) (int64, error) {
	if err := subj.Validate(); err != nil {
		return 0, fmt.Errorf("valkeystore: erase idempotency records: %w", err)
	}
	n, err := s.deleteMatching(ctx, s.subjectPattern("idem", subj), func(string) bool { return true })
	if err == nil {
		err = s.eraseLedgers(ctx, subj)
	}
	if err != nil {
		return 0, fmt.Errorf("valkeystore: erase idempotency records: %w", err)
	}
	return n, nil
}

// eraseLedgers deletes the subject's byte ledgers (quota.go), which name
// its sessions and hashed idempotency keys. Both erasers call it: the
// ledger covers both kinds, and a ledger that outlives some of its records
// only undercounts until they expire.
func (s *Store) eraseLedgers(ctx context.Context, subj domain.Subject) error {
	if subj.OrgWide() {
		_, err := s.deleteMatching(ctx, s.subjectPattern("quota", subj), func(string) bool { return false })
		return err
	}
	h, z := s.ledgerKeys(ports.IdempotencyScope(subj.Tenant()))
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	return mapErr(s.c.Do(ctx, s.c.B().Unlink().Key(h, z).Build()).Error()) // one tag, one slot
}

// deleteMatching deletes every key matching pattern, a page of SCAN at a
// time, and counts the deleted keys for which count says so. SCAN
// guarantees every key present for the whole scan is returned; a key
// written during it may be missed, which is why erasure runs passes until
// one finds nothing.
func (s *Store) deleteMatching(ctx context.Context, pattern string, count func(string) bool) (int64, error) {
	var n int64
	err := s.scanKeys(ctx, pattern, func(ctx context.Context, keys []string) error {
		gone, err := s.unlink(ctx, keys)
		for i, k := range keys {
			if gone[i] && count(k) {
				n++
			}
		}
		return err
	})
	return n, err
}

// globEscape quotes the characters SCAN MATCH treats as patterns.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
