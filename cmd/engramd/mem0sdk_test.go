package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// sdkDir holds mem0's SDKs, installed with `npm ci` from its lockfile by
// scripts/test-services.sh.
var sdkDir = filepath.Join("..", "..", "testdata", "mem0sdk")

// nodeAndSDKs finds node and the installed SDKs. Without node the test is
// skipped, saying so; with node but no node_modules it fails when the test
// task requires it (ENGRAM_TEST_REQUIRE lists mem0sdk), else skips.
func nodeAndSDKs(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("SKIP mem0 SDK test: node is not installed (scripts/test-services.sh installs the SDKs when it is)")
	}
	if _, err := os.Stat(filepath.Join(sdkDir, "node_modules", "mem0ai", "package.json")); err != nil {
		if contracttest.Required("mem0sdk") {
			t.Fatalf("mem0sdk is required but %s/node_modules is missing: run scripts/test-services.sh (npm ci)", sdkDir)
		}
		t.Skipf("SKIP mem0 SDK test: run `npm ci` in %s (scripts/test-services.sh does)", sdkDir)
	}
	return node
}

// projectKeys issues a project key of org acme and one of org globex on
// the store engramd serves.
func projectKeys(t *testing.T, ks ports.KeyStore) (acme, globex string) {
	t.Helper()
	svc := app.NewKeyService(app.KeyDeps{Keys: ks})
	mk := func(org domain.OrgID) string {
		_, key, err := svc.CreateKey(context.Background(), domain.Principal{OrgID: org, UserID: "ops",
			Scopes: []domain.Scope{domain.ScopeKeysWrite, domain.ScopeKeysProject, domain.ScopeMemoriesRead, domain.ScopeMemoriesWrite}},
			app.KeyRequest{Kind: domain.KeyProject, Name: "mem0 sdk test"})
		require.NoError(t, err)
		return key
	}
	return mk("acme"), mk("globex")
}

// TestMem0SDKs runs mem0's own JavaScript SDKs (3.x and 2.x, pinned in
// testdata/mem0sdk/package-lock.json) against engramd on SQLite and on
// PostgreSQL: add, search with filters, list, get, update, history and
// delete with one project key and two user_ids, and a key of another org
// that reaches nothing. The only change to a mem0 program is its host.
func TestMem0SDKs(t *testing.T) {
	node := nodeAndSDKs(t)
	backends := map[string]func(t *testing.T, dir string) (map[string]string, ports.KeyStore){
		"sqlite": func(t *testing.T, dir string) (map[string]string, ports.KeyStore) {
			st, err := sqlitestore.Open(context.Background(), sqlitestore.Config{Path: filepath.Join(dir, "engram.db")})
			require.NoError(t, err)
			t.Cleanup(func() { _ = st.Close() })
			return nil, st
		},
		"postgres": func(t *testing.T, _ string) (map[string]string, ports.KeyStore) {
			pg := pgSchemaURL(t)
			_, err := pgstore.Migrate(context.Background(), pg, pgstore.Up)
			require.NoError(t, err)
			st, err := pgstore.Open(context.Background(), pgstore.Config{URL: pg})
			require.NoError(t, err)
			t.Cleanup(func() { _ = st.Close() })
			return map[string]string{"ENGRAM_POSTGRES_URL": pg}, st
		},
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			env, ks := open(t, dir)
			if env == nil {
				env = map[string]string{}
			}
			env["ENGRAM_DATA_DIR"] = dir
			base, _, _ := startEngramd(t, env)
			acme, globex := projectKeys(t, ks)

			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, "run.mjs")
			cmd.Dir = sdkDir
			cmd.Env = append(os.Environ(), "ENGRAM_URL="+base, "ENGRAM_PROJECT_KEY="+acme, "ENGRAM_OTHER_ORG_KEY="+globex,
				"ENGRAM_RUN_TAG="+name, "MEM0_TELEMETRY=false")
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			for _, want := range []string{`"sdk":"mem0ai@3.`, `"sdk":"mem0ai@2.`} {
				require.Contains(t, string(out), want)
			}
			t.Logf("%s", strings.TrimSpace(string(out)))
		})
	}
}
