package ports

import (
	"context"

	"github.com/engram-memory/engram/domain"
)

// CommitPositions reports how far the system of record's commit log has
// got, for read-your-writes across read replicas.
//
// CommitPosition returns a position at or past the commit of every write
// that returned before it was called; the edge calls it after a write and
// hands the answer to the client (the Engram-Consistency header, the MCP
// session). Failures wrap domain.ErrUnavailable. Only stores that route
// reads to replicas offer it: without replicas every read already sees
// every acknowledged write.
type CommitPositions interface {
	CommitPosition(ctx context.Context) (domain.Consistency, error)
}

type readAfterKey struct{}

// WithReadAfter asks the reads made under ctx to see at least position c:
// a store that routes reads to replicas serves them from one that has
// replayed past c, waits a bounded time for one, or reads the primary. A
// position past the primary's own is domain.ErrInvalid. Zero asks for
// nothing.
//
// Like a deadline, this is a bound on the request, not an argument of any
// one call, so it rides in the context (the tenant never does).
func WithReadAfter(ctx context.Context, c domain.Consistency) context.Context {
	if c == 0 {
		return ctx
	}
	if prev, ok := ReadAfter(ctx); ok && prev >= c {
		return ctx
	}
	return context.WithValue(ctx, readAfterKey{}, c)
}

// ReadAfter returns the position WithReadAfter set, if any.
func ReadAfter(ctx context.Context) (domain.Consistency, bool) {
	c, ok := ctx.Value(readAfterKey{}).(domain.Consistency)
	return c, ok && c != 0
}

type primaryKey struct{}

// WithPrimaryReads asks the reads made under ctx to see every write
// acknowledged so far, whatever the store: one that routes reads to
// replicas reads its primary. For reads that feed a write (delete all,
// index sync, the outbox relay), where a lagging copy would lose one.
func WithPrimaryReads(ctx context.Context) context.Context {
	return context.WithValue(ctx, primaryKey{}, true)
}

// PrimaryReads reports whether ctx came from WithPrimaryReads.
func PrimaryReads(ctx context.Context) bool {
	v, _ := ctx.Value(primaryKey{}).(bool)
	return v
}
