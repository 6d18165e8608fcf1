package esindex_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/esindex"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/ports"
)

// TestTextIndexContract runs the suite against ENGRAM_TEST_ELASTICSEARCH_URL,
// one index per subtest, deleted afterwards.
func TestTextIndexContract(t *testing.T) {
	url := contracttest.BackendAddr(t, contracttest.Elasticsearch)
	contracttest.RunTextIndex(t, func(t *testing.T) ports.TextIndex {
		var b [6]byte
		_, _ = rand.Read(b[:])
		name := "engram-test-" + hex.EncodeToString(b[:])
		x, err := esindex.Open(context.Background(), esindex.Config{Addresses: []string{url}, Options: esindex.Options{Index: name}})
		require.NoError(t, err)
		t.Cleanup(func() {
			if es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{url}}); err == nil {
				if res, err := es.Indices.Delete([]string{name}); err == nil {
					_ = res.Body.Close()
				}
			}
		})
		return x
	})
}
