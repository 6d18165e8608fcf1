package ports_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// plainWrapper wraps by XOR with a fixed pad: enough to exercise DataKey,
// whose own sealing is what these tests check.
type plainWrapper struct{}

func (plainWrapper) KeyID() string { return "test" }
func (plainWrapper) Wrap(_ context.Context, dek, aad []byte) ([]byte, error) {
	return append(append([]byte{}, aad...), dek...), nil
}
func (plainWrapper) Unwrap(_ context.Context, _ string, w, aad []byte) ([]byte, error) {
	if !strings.HasPrefix(string(w), string(aad)) {
		return nil, ports.ErrKeyUnwrap
	}
	return w[len(aad):], nil
}

func TestSealedValuesAreBoundToTheirRowFieldAndUser(t *testing.T) {
	ctx := context.Background()
	alice := domain.Tenant{OrgID: "acme", UserID: "alice"}
	k, kek, wrapped, err := ports.NewDataKey(ctx, plainWrapper{}, alice)
	require.NoError(t, err)
	require.Equal(t, "test", kek)
	s := k.Seal("m1", "text", "the canary sings")
	require.True(t, ports.Sealed(s))
	require.NotContains(t, s, "canary")
	require.NotEqual(t, s, k.Seal("m1", "text", "the canary sings"), "random nonce")
	got, err := k.Open("m1", "text", s)
	require.NoError(t, err)
	require.Equal(t, "the canary sings", got)

	_, err = k.Open("m2", "text", s)
	require.Error(t, err, "moved to another row")
	_, err = k.Open("m1", "query", s)
	require.Error(t, err, "moved to another field")
	bob, _, _, err := ports.NewDataKey(ctx, plainWrapper{}, domain.Tenant{OrgID: "acme", UserID: "bob"})
	require.NoError(t, err)
	_, err = bob.Open("m1", "text", s)
	require.Error(t, err, "another user's key")
	_, err = k.Open("m1", "text", s[:len(s)-2]+"AA")
	require.Error(t, err, "tampered")

	again, err := ports.OpenDataKey(ctx, plainWrapper{}, alice, kek, wrapped)
	require.NoError(t, err)
	got, err = again.Open("m1", "text", s)
	require.NoError(t, err)
	require.Equal(t, "the canary sings", got)
	require.Equal(t, k.Hash("x"), again.Hash("x"))
	require.NotEqual(t, k.Hash("x"), bob.Hash("x"), "content hashes are keyed per user")
	require.Len(t, k.Hash("x"), len(domain.ContentHash("x")))

	plain, err := k.Open("m1", "text", "written before encryption")
	require.NoError(t, err)
	require.Equal(t, "written before encryption", plain)
}

// BenchmarkSealOpen is the per-value cost encryption at rest adds: one seal
// on write and one open on read of a typical memory text (120 bytes).
func BenchmarkSealOpen(b *testing.B) {
	k, _, _, err := ports.NewDataKey(context.Background(), plainWrapper{}, domain.Tenant{OrgID: "o", UserID: "u"})
	require.NoError(b, err)
	text := strings.Repeat("the user prefers oolong tea in the morning ", 3)[:120]
	b.ReportAllocs()
	for b.Loop() {
		s := k.Seal("01a24484-ad85-7000-8495-b7acd6c99eb2", "text", text)
		if _, err := k.Open("01a24484-ad85-7000-8495-b7acd6c99eb2", "text", s); err != nil {
			b.Fatal(err)
		}
	}
}
