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

// EraseSessions implements ports.SessionEraser: every session key of the
// subject is found with SCAN over its key prefix (the org and user are in
// the key name, escaped) and deleted. It reports sessions, not keys (each
// session has two).
func (s *Store) EraseSessions(ctx context.Context, subj domain.Subject) (int64, error) {
	if err := subj.Validate(); err != nil {
		return 0, fmt.Errorf("valkeystore: erase sessions: %w", err)
	}
	pattern := globEscape(s.o.Prefix+":sess:{"+escapeKeyPart(string(subj.OrgID))+":") + "*"
	if !subj.OrgWide() {
		pattern = globEscape(s.o.Prefix+":sess:{"+escapeKeyPart(string(subj.OrgID))+":"+escapeKeyPart(string(subj.UserID))+":") + "*"
	}
	n, err := s.deleteMatching(ctx, pattern, func(k string) bool { return strings.HasSuffix(k, "}:ev") })
	if err == nil {
		err = s.eraseLedgers(ctx, subj)
	}
	if err != nil {
		return 0, fmt.Errorf("valkeystore: erase sessions: %w", err)
	}
	return n, nil
}

// SubjectSessions implements ports.SessionLister: SCAN over the tenant's
// session keys, the session id read back from between the braces.
func (s *Store) SubjectSessions(ctx context.Context, t domain.Tenant) ([]domain.SessionID, error) {
	head := s.o.Prefix + ":sess:{" + escapeKeyPart(string(t.OrgID)) + ":" + escapeKeyPart(string(t.UserID)) + ":"
	var (
		out    []domain.SessionID
		cursor uint64
	)
	for {
		opCtx, cancel := s.opCtx(ctx)
		e, err := s.c.Do(opCtx, s.c.B().Scan().Cursor(cursor).Match(globEscape(head)+"*}:ev").Count(1000).Build()).AsScanEntry()
		cancel()
		if err != nil {
			return nil, fmt.Errorf("valkeystore: list sessions: %w", mapErr(err))
		}
		for _, k := range e.Elements {
			if id, ok := strings.CutSuffix(strings.TrimPrefix(k, head), "}:ev"); ok && !strings.Contains(id, ":") {
				out = append(out, domain.SessionID(id))
			}
		}
		if cursor = e.Cursor; cursor == 0 {
			return out, nil
		}
	}
}

// EraseIdempotency implements ports.IdempotencyEraser over the escaped
// scope at the head of each record's key.
func (s *Store) EraseIdempotency(ctx context.Context, subj domain.Subject) (int64, error) {
	if err := subj.Validate(); err != nil {
		return 0, fmt.Errorf("valkeystore: erase idempotency records: %w", err)
	}
	scope := ports.IdempotencyOrgScope(subj.OrgID)
	sep := ""
	if !subj.OrgWide() {
		scope, sep = ports.IdempotencyScope(subj.Tenant()), ":"
	}
	pattern := globEscape(s.o.Prefix+":idem:"+escapeKeyPart(scope)+sep) + "*"
	n, err := s.deleteMatching(ctx, pattern, func(string) bool { return true })
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
		_, err := s.deleteMatching(ctx, globEscape(s.o.Prefix+":quota:"+escapeKeyPart(ports.IdempotencyOrgScope(subj.OrgID)))+"*", func(string) bool { return false })
		return err
	}
	h, z := s.ledgerKeys(ports.IdempotencyScope(subj.Tenant()))
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	return mapErr(s.c.Do(ctx, s.c.B().Unlink().Key(h, z).Build()).Error())
}

// deleteMatching deletes every key matching pattern, a page of SCAN at a
// time, and counts those for which count says so. SCAN guarantees every
// key present for the whole scan is returned; a key written during it may
// be missed, which is why erasure runs passes until one finds nothing.
func (s *Store) deleteMatching(ctx context.Context, pattern string, count func(string) bool) (int64, error) {
	var (
		cursor uint64
		n      int64
	)
	for {
		opCtx, cancel := s.opCtx(ctx)
		e, err := s.c.Do(opCtx, s.c.B().Scan().Cursor(cursor).Match(pattern).Count(1000).Build()).AsScanEntry()
		if err == nil && len(e.Elements) > 0 {
			var deleted int64
			deleted, err = s.c.Do(opCtx, s.c.B().Unlink().Key(e.Elements...).Build()).AsInt64()
			if err == nil && deleted > 0 {
				for _, k := range e.Elements {
					if count(k) {
						n++
					}
				}
			}
		}
		cancel()
		if err != nil {
			return n, mapErr(err)
		}
		if cursor = e.Cursor; cursor == 0 {
			return n, nil
		}
	}
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
