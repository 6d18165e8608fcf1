package valkeystore

import (
	"context"
	"fmt"
)

// DeletePrefixed deletes every key under this store's prefix, SCANning in
// pages (on every primary of a cluster) so a large keyspace never blocks
// the server, and returns how many keys it deleted. Benchmarks clean up
// with it; with a shared prefix it erases a deployment's sessions, replay
// keys and limits alike.
func (s *Store) DeletePrefixed(ctx context.Context) (int, error) {
	n := 0
	err := s.scanKeys(ctx, globEscape(s.o.Prefix)+":*", func(ctx context.Context, keys []string) error {
		gone, err := s.unlink(ctx, keys)
		for _, g := range gone {
			if g {
				n++
			}
		}
		return err
	})
	if err != nil {
		return n, fmt.Errorf("valkeystore: delete %s:*: %w", s.o.Prefix, err)
	}
	return n, nil
}
