package qdrantindex_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"strconv"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/qdrantindex"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/ports"
)

// TestVectorIndexContract runs the suite against the Qdrant at
// ENGRAM_TEST_QDRANT_ADDR (host:grpc-port, e.g. 127.0.0.1:6334), one
// collection prefix per subtest, dropped afterwards.
func TestVectorIndexContract(t *testing.T) {
	addr := contracttest.BackendAddr(t, contracttest.Qdrant)
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	contracttest.RunVectorIndex(t, func(t *testing.T) ports.VectorIndex {
		var b [6]byte
		_, _ = rand.Read(b[:])
		prefix := "engram_test_" + hex.EncodeToString(b[:]) + "_"
		x, err := qdrantindex.Open(context.Background(), qdrantindex.Config{Host: host, Port: p, Options: qdrantindex.Options{CollectionPrefix: prefix}})
		require.NoError(t, err)
		t.Cleanup(func() {
			c, err := qdrant.NewClient(&qdrant.Config{Host: host, Port: p})
			if err == nil {
				_ = c.DeleteCollection(context.Background(), qdrantindex.CollectionName(prefix, "contract-test-model"))
				_ = c.Close()
			}
			_ = x.Close()
		})
		return x
	})
}
