package valkeystore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/valkeystore"
)

// TestRevocationsReachOtherInstances publishes on one client and receives
// on another, as two engramd instances would.
func TestRevocationsReachOtherInstances(t *testing.T) {
	a := newStore(t, valkeystore.Options{})
	b, err := valkeystore.Open(context.Background(), valkeystore.Config{URL: testURL(t), Options: valkeystore.Options{Prefix: a.Prefix()}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	other := newStore(t, valkeystore.Options{}) // another deployment's prefix

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan string, 4)
	require.NoError(t, b.Subscribe(ctx, func(h string) { got <- h }, func() {}))
	require.NoError(t, other.Publish(ctx, "not-for-us"))
	require.NoError(t, a.Publish(ctx, "hash-1"))
	select {
	case h := <-got:
		require.Equal(t, "hash-1", h, "only this deployment's channel is heard")
	case <-time.After(10 * time.Second):
		t.Fatal("revocation not delivered")
	}
}

// TestRevocationsResubscribeAfterOutage: a dropped connection calls lost
// (the subscriber forgets what it cached) and delivery resumes.
func TestRevocationsResubscribeAfterOutage(t *testing.T) {
	bin := serverBinary(t)
	port := freePort(t)
	kill := startServer(t, bin, port)
	url := fmt.Sprintf("redis://127.0.0.1:%d", port)
	open := func() *valkeystore.Store {
		s, err := valkeystore.Open(context.Background(), valkeystore.Config{URL: url, DialTimeout: 500 * time.Millisecond,
			Options: valkeystore.Options{Prefix: "revoke", OpTimeout: time.Second}})
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	pub, sub := open(), open()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan string, 16)
	var lost atomic.Int32
	require.NoError(t, sub.Subscribe(ctx, func(h string) { got <- h }, func() { lost.Add(1) }))
	kill()
	require.Eventually(t, func() bool { return lost.Load() > 0 }, 10*time.Second, 20*time.Millisecond, "lost is called when the connection drops")
	startServer(t, bin, port)
	require.Eventually(t, func() bool {
		_ = pub.Publish(ctx, "after")
		select {
		case h := <-got:
			return h == "after"
		case <-time.After(100 * time.Millisecond):
			return false
		}
	}, 20*time.Second, 10*time.Millisecond, "delivery resumes after the server is back")
}
