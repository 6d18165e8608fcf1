package valkeystore

import (
	"context"
	"fmt"
)

// DeletePrefixed deletes every key under this store's prefix, SCANning in
// pages so a large keyspace never blocks the server, and returns how many
// keys it deleted. Benchmarks clean up with it; with a shared prefix it
// erases a deployment's sessions, replay keys and limits alike.
func (s *Store) DeletePrefixed(ctx context.Context) (int, error) {
	n := 0
	var cursor uint64
	for {
		e, err := s.c.Do(ctx, s.c.B().Scan().Cursor(cursor).Match(s.o.Prefix+":*").Count(1000).Build()).AsScanEntry()
		if err != nil {
			return n, fmt.Errorf("valkeystore: scan %s:*: %w", s.o.Prefix, mapErr(err))
		}
		if len(e.Elements) > 0 {
			if err := s.c.Do(ctx, s.c.B().Unlink().Key(e.Elements...).Build()).Error(); err != nil {
				return n, fmt.Errorf("valkeystore: unlink: %w", mapErr(err))
			}
			n += len(e.Elements)
		}
		if cursor = e.Cursor; cursor == 0 {
			return n, nil
		}
	}
}
