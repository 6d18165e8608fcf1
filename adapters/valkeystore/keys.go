package valkeystore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/valkey-io/valkey-go"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// Key layout. Every key a user fills carries the user's cluster hash tag,
// "{<scope>}" with scope the user's idempotency scope
// (ports.IdempotencyScope: the org's length, the org, "/", the user)
// escaped, so that a user's sessions, idempotency records and byte ledger
// live in one hash slot and the scripts that touch several of them at once
// run on one Valkey Cluster node:
//
//	<prefix>:sess:{<scope>}:<session>:ev|ix   a session (session.go)
//	<prefix>:idem:{<scope>}:<sha256 of key>   an idempotency record
//	<prefix>:quota:{<scope>}:h|z              the user's byte ledger (quota.go)
//	<prefix>:jti:<key>, <prefix>:rl:<key>      replay keys, rate-limit buckets (one key each)
//
// escapeKeyPart escapes '{' and '}' (and ':' and '%') inside ids, so the
// tag always ends at the brace the adapter wrote and no two users share a
// key or a prefix of one. Org-wide erasure matches "{<org scope>" (the
// scope of every user of the org starts with it, and the org's length at
// its head keeps one org from being a prefix of another).
//
// Before issue 20 a session's tag was "{org:user:session}" and records and
// ledgers had none; keys written in that layout are not read after an
// upgrade (docs/operations.md, "Upgrading").

// userTag is the hash tag of every key of the user whose idempotency scope
// is scope.
func userTag(scope string) string { return "{" + escapeKeyPart(scope) + "}" }

// orgTagHead is how the tag of every user of org starts.
func orgTagHead(org domain.OrgID) string {
	return "{" + escapeKeyPart(ports.IdempotencyOrgScope(org))
}

// sessionHead is what every session key of tenant t starts with.
func (s *Store) sessionHead(t domain.Tenant) string {
	return s.o.Prefix + ":sess:" + userTag(ports.IdempotencyScope(t)) + ":"
}

// sessionKeys names the two keys of a session. Session ids contain
// neither ':' nor braces (domain.SessionID validation).
func (s *Store) sessionKeys(t domain.Tenant, sid domain.SessionID) (ev, ix string) {
	base := s.sessionHead(t) + string(sid) + ":"
	return base + "ev", base + "ix"
}

// idemKey names a record: the scope escaped (it is built from validated
// tenant ids, so it is bounded, and erasure finds a subject's records by
// it) and the key hashed (it comes from clients, may hold any printable
// byte and must not grow the key unbounded).
// The second result is the record's entry in the user's ledger.
func (s *Store) idemKey(scope, key string) (string, string) {
	sum := sha256.Sum256([]byte(key))
	h := hex.EncodeToString(sum[:])
	return s.o.Prefix + ":idem:" + userTag(scope) + ":" + h, "i:" + h
}

// ledgerKeys names a user's ledger (quota.go).
func (s *Store) ledgerKeys(scope string) (h, z string) {
	base := s.o.Prefix + ":quota:" + userTag(scope) + ":"
	return base + "h", base + "z"
}

func (s *Store) tenantLedger(t domain.Tenant) (h, z string) {
	return s.ledgerKeys(ports.IdempotencyScope(t))
}

var keyPartEscaper = strings.NewReplacer("%", "%25", ":", "%3A", "{", "%7B", "}", "%7D")

func escapeKeyPart(p string) string { return keyPartEscaper.Replace(p) }

// scanKeys calls page with each page of the keys matching pattern. SCAN
// walks one node's keyspace, so on a Valkey Cluster it walks every primary
// in turn (a replica holds copies of its primary's keys).
func (s *Store) scanKeys(ctx context.Context, pattern string, page func(ctx context.Context, keys []string) error) error {
	nodes, err := s.primaries(ctx)
	if err != nil {
		return err
	}
	for _, n := range nodes {
		var cursor uint64
		for {
			opCtx, cancel := s.opCtx(ctx)
			e, err := n.Do(opCtx, n.B().Scan().Cursor(cursor).Match(pattern).Count(1000).Build()).AsScanEntry()
			if err == nil && len(e.Elements) > 0 {
				err = page(opCtx, e.Elements)
			}
			cancel()
			if err != nil {
				return mapErr(err)
			}
			if cursor = e.Cursor; cursor == 0 {
				break
			}
		}
	}
	return nil
}

// primaries returns the client itself on a single server, or a client per
// primary of a cluster (ROLE tells them from replicas).
func (s *Store) primaries(ctx context.Context) ([]valkey.Client, error) {
	if s.c.Mode() != valkey.ClientModeCluster {
		return []valkey.Client{s.c}, nil
	}
	var out []valkey.Client
	for addr, n := range s.c.Nodes() {
		opCtx, cancel := s.opCtx(ctx)
		role, err := n.Do(opCtx, n.B().Role().Build()).ToArray()
		cancel()
		if err != nil {
			return nil, fmt.Errorf("role of %s: %w", addr, mapErr(err))
		}
		if len(role) > 0 {
			if r, _ := role[0].ToString(); r == "master" {
				out = append(out, n)
			}
		}
	}
	if len(out) == 0 {
		return nil, &domain.UnavailableError{Dependency: "valkey", RetryAfter: 1, Err: fmt.Errorf("the cluster has no primary")}
	}
	return out, nil
}

// unlink deletes keys, each with a command of its own (pipelined in one
// round trip): on a cluster the keys of one SCAN page lie in many hash
// slots, which one UNLINK cannot span. It reports which keys existed.
func (s *Store) unlink(ctx context.Context, keys []string) ([]bool, error) {
	cmds := make(valkey.Commands, len(keys))
	for i, k := range keys {
		cmds[i] = s.c.B().Unlink().Key(k).Build()
	}
	gone := make([]bool, len(keys))
	for i, r := range s.c.DoMulti(ctx, cmds...) {
		n, err := r.AsInt64()
		if err != nil {
			return gone, mapErr(err)
		}
		gone[i] = n > 0
	}
	return gone, nil
}
