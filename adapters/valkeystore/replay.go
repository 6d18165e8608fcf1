package valkeystore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/engram-memory/engram/domain"
)

// Remember implements ports.ReplayCache with SET key 1 NX PXAT until: the
// server decides atomically, so of any number of racing engramd processes
// exactly one sees the key fresh. A replay does not extend the original
// entry's life. The expiry is absolute, so it is right even when the call
// waited in a queue.
func (s *Store) Remember(ctx context.Context, key string, until time.Time) (bool, error) {
	if key == "" {
		return false, fmt.Errorf("valkeystore: remember: %w", domain.Invalid("key", "must not be empty"))
	}
	if !until.After(s.o.Clock.Now()) {
		return false, fmt.Errorf("valkeystore: remember: %w", domain.Invalid("until", "must be in the future"))
	}
	// Round up so the key never expires before until.
	ms := (until.UnixNano() + int64(time.Millisecond) - 1) / int64(time.Millisecond)
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	err := s.c.Do(ctx, s.c.B().Set().Key(s.replayKey(key)).Value("1").Nx().PxatMillisecondsTimestamp(ms).Build()).Error()
	switch err = mapErr(err); {
	case err == nil:
		return true, nil
	case errors.Is(err, errNil):
		return false, nil
	default:
		return false, fmt.Errorf("valkeystore: remember replay key: %w", err)
	}
}

func (s *Store) replayKey(key string) string { return s.o.Prefix + ":jti:" + key }
