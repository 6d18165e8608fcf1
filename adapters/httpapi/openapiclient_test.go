package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/domain"
)

// clientDir holds openapi-typescript, openapi-fetch, TypeScript and
// Redocly's CLI, pinned in its package-lock.json and installed with npm ci
// by scripts/test-services.sh, plus the two small clients type-checked
// here.
var clientDir = filepath.Join("..", "..", "testdata", "openapiclient")

// ownersStub only has to be non-nil: the routes are listed, never called.
type ownersStub struct{}

func (ownersStub) OwnerOf(context.Context, domain.OrgID, domain.MemoryID) (domain.UserID, error) {
	return "", domain.ErrNotFound
}

// TestGeneratedClientsTypeCheck generates TypeScript types from the OpenAPI
// document a server with every route group on serves (openapi.yaml and
// every fragment, mem0's routes included, servers from ENGRAM_PUBLIC_URL),
// type-checks a client of Engram's API and one of the mem0-compatible
// routes against them with tsc --strict, and lints the document with
// Redocly's recommended-strict ruleset: an error or a warning fails.
func TestGeneratedClientsTypeCheck(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("SKIP generated client test: node is not installed (scripts/test-services.sh installs it)")
	}
	bin := func(name string) string { return filepath.Join(clientDir, "node_modules", ".bin", name) }
	if _, err := os.Stat(bin("openapi-typescript")); err != nil {
		if contracttest.Required("openapiclient") {
			t.Fatalf("openapiclient is required but %s/node_modules is missing: run scripts/test-services.sh (npm ci)", clientDir)
		}
		t.Skipf("SKIP generated client test: run `npm ci` in %s (scripts/test-services.sh does)", clientDir)
	}

	s, err := New(Config{PublicURL: "https://memory.acme.test"}, Deps{Memories: &app.MemoryService{}, Verifier: noVerifier{}})
	require.NoError(t, err)
	s.EnableFeedback(&app.FeedbackService{}, &app.ExperimentService{})
	s.EnableSearch(&app.ExperimentSearch{})
	s.EnableSessions(&app.SessionService{})
	s.EnableArchive(ArchiveDeps{Source: archiveStub{}, Sink: archiveStub{}})
	s.EnableKeys(&app.KeyService{})
	s.EnableGrants(&app.GrantService{})
	s.EnableGraph(&app.GraphService{})
	s.EnablePrivacy(&app.PrivacyService{})
	s.EnableMem0(Mem0Deps{Search: &app.ExperimentSearch{}, Owners: ownersStub{}})
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), `"servers":[{"description":"this server (ENGRAM_PUBLIC_URL)","url":"https://memory.acme.test"}]`)

	gen := filepath.Join(clientDir, "generated")
	require.NoError(t, os.MkdirAll(gen, 0o755))
	doc := filepath.Join(gen, "engram.json")
	require.NoError(t, os.WriteFile(doc, rec.Body.Bytes(), 0o644))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, bin(name), args...)
		cmd.Dir = clientDir
		cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s %v:\n%s", name, args, out)
	}
	// Paths are relative to clientDir, where the commands run.
	run("openapi-typescript", "generated/engram.json", "-o", "generated/engram.d.ts")
	run("tsc", "-p", "tsconfig.json")
	run("redocly", "lint", "--config", "redocly.yaml", "--max-problems", "200", "generated/engram.json")
}
