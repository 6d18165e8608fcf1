package contracttest

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// Backend names as used in ENGRAM_TEST_REQUIRE.
const (
	Postgres = "postgres"
	Valkey   = "valkey"
	// ValkeyCluster is a Valkey/Redis Cluster (scripts/test-services.sh
	// starts three primaries on 7101-7103); its variable lists the seed
	// nodes, comma-separated.
	ValkeyCluster = "valkeycluster"
	Qdrant        = "qdrant"
	Elasticsearch = "elasticsearch"
	// Replica is a PostgreSQL streaming replica of the Postgres backend
	// (scripts/test-services.sh starts one on 5433).
	Replica = "replica"
)

var backendEnv = map[string]string{
	Postgres:      "ENGRAM_TEST_POSTGRES_URL",
	Valkey:        "ENGRAM_TEST_VALKEY_ADDR",
	ValkeyCluster: "ENGRAM_TEST_VALKEY_CLUSTER_ADDRS",
	Qdrant:        "ENGRAM_TEST_QDRANT_ADDR",
	Elasticsearch: "ENGRAM_TEST_ELASTICSEARCH_URL",
	Replica:       "ENGRAM_TEST_POSTGRES_REPLICA_URL",
}

// BackendAddr returns where the named real backend listens, from its
// ENGRAM_TEST_* variable. When the variable is unset the test is skipped with
// a line saying how to set it, unless ENGRAM_TEST_REQUIRE lists the backend
// (the test task and CI set it), in which case the test fails: CI cannot go
// green by skipping.
func BackendAddr(t testing.TB, backend string) string {
	t.Helper()
	env, ok := backendEnv[backend]
	if !ok {
		t.Fatalf("contracttest: unknown backend %q", backend)
	}
	if v := strings.TrimSpace(os.Getenv(env)); v != "" {
		return v
	}
	if Required(backend) {
		t.Fatalf("%s is required (ENGRAM_TEST_REQUIRE=%s) but %s is not set", backend, os.Getenv("ENGRAM_TEST_REQUIRE"), env)
	}
	t.Skipf("SKIP %s tests: set %s to run them against a real %s", backend, env, backend)
	return ""
}

// Required reports whether ENGRAM_TEST_REQUIRE lists backend.
func Required(backend string) bool {
	for _, b := range strings.Split(os.Getenv("ENGRAM_TEST_REQUIRE"), ",") {
		if strings.TrimSpace(b) == backend {
			return true
		}
	}
	return false
}

// Backends lists the known backend names.
func Backends() []string {
	out := make([]string, 0, len(backendEnv))
	for b := range backendEnv {
		out = append(out, b)
	}
	slices.Sort(out)
	return out
}
