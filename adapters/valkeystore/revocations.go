package valkeystore

import (
	"context"
	"fmt"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/engram-memory/engram/ports"
)

var _ ports.KeyRevocations = (*Store)(nil)

// revocationChannel is the pub/sub channel API key revocations travel on,
// under the deployment's prefix.
func (s *Store) revocationChannel() string { return s.o.Prefix + ":keys:revoked" }

// Publish implements ports.KeyRevocations with PUBLISH.
func (s *Store) Publish(ctx context.Context, keyHash string) error {
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	if err := s.c.Do(ctx, s.c.B().Publish().Channel(s.revocationChannel()).Message(keyHash).Build()).Error(); err != nil {
		return fmt.Errorf("valkeystore: publish revocation: %w", mapErr(err))
	}
	return nil
}

// Subscribe implements ports.KeyRevocations on a dedicated connection. The
// first SUBSCRIBE happens before it returns; when the connection drops,
// lost is called (messages published meanwhile are gone) and it
// resubscribes, retrying every second, until ctx ends.
func (s *Store) Subscribe(ctx context.Context, revoked func(string), lost func()) error {
	wait, release, err := s.subscribe(ctx, revoked)
	if err != nil {
		return err
	}
	go func() {
		for {
			select {
			case <-wait:
			case <-ctx.Done():
			}
			release()
			if ctx.Err() != nil {
				return
			}
			lost()
			for {
				wait, release, err = s.subscribe(ctx, revoked)
				if err == nil {
					// Forget again: a revocation may have come and gone
					// between the first forget and this subscription.
					lost()
					break
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Second):
				}
			}
		}
	}()
	return nil
}

func (s *Store) subscribe(ctx context.Context, revoked func(string)) (<-chan error, func(), error) {
	c, release := s.c.Dedicate()
	wait := c.SetPubSubHooks(valkey.PubSubHooks{OnMessage: func(m valkey.PubSubMessage) { revoked(m.Message) }})
	sctx, cancel := s.opCtx(ctx)
	defer cancel()
	if err := c.Do(sctx, c.B().Subscribe().Channel(s.revocationChannel()).Build()).Error(); err != nil {
		release()
		return nil, nil, fmt.Errorf("valkeystore: subscribe to revocations: %w", mapErr(err))
	}
	return wait, release, nil
}
