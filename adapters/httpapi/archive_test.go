package httpapi_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/httpapi"
	"github.com/engram-memory/engram/domain"
)

var backupScopes = append(append([]domain.Scope{}, domain.DefaultUserScopes...), domain.ScopeBackupRead, domain.ScopeBackupWrite)

func withArchive(max int64) func(*envOptions) {
	return func(o *envOptions) { o.archive = &httpapi.ArchiveDeps{MaxImportBytes: max} }
}

// members unpacks an archive into member name → uncompressed content.
func members(t *testing.T, raw []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	require.NoError(t, err)
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		require.NoError(t, err)
		b, err := io.ReadAll(rc)
		require.NoError(t, err)
		_ = rc.Close()
		if strings.HasSuffix(f.Name, ".gz") {
			gr, err := gzip.NewReader(bytes.NewReader(b))
			require.NoError(t, err)
			b, err = io.ReadAll(gr)
			require.NoError(t, err)
		}
		out[f.Name] = string(b)
	}
	return out
}

func TestExportHoldsOnlyTheCallersData(t *testing.T) {
	onEachBackend(t, func(t *testing.T, opt func(*envOptions)) {
		e := newEnv(t, opt, withArchive(0))
		alice := e.user("acme", "alice", backupScopes...)
		bob := e.user("acme", "bob", backupScopes...)
		carol := e.user("globex", "carol", backupScopes...)
		for _, s := range []string{"alice likes tea", "alice moved to Lyon", "alice has a cat"} {
			alice.add(s)
		}
		bob.add("bob secret one")
		bob.add("bob secret two")
		carol.add("carol secret")

		rec := alice.do(http.MethodGet, "/api/v1/export", nil)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.Equal(t, "application/vnd.engram.archive+zip", rec.Header().Get("Content-Type"))
		got := members(t, rec.Body.Bytes())
		require.Equal(t, 3, strings.Count(got["memories.jsonl.gz"], "\n"))
		require.Contains(t, got["manifest.json"], `"kind": "user"`)
		require.NotContains(t, got, "experiments.jsonl.gz")
		for name, content := range got {
			for _, foreign := range []string{"bob", "carol", "globex"} {
				require.NotContains(t, content, foreign, "%s of alice's export mentions %s", name, foreign)
			}
		}

		noScope := e.user("acme", "alice")
		requireProblem(t, noScope.do(http.MethodGet, "/api/v1/export", nil), http.StatusForbidden)
		requireProblem(t, alice.do(http.MethodGet, "/api/v1/export?since=yesterday", nil), http.StatusBadRequest)
	})
}

func TestImportLandsInTheCallersTenantOnly(t *testing.T) {
	onEachBackend(t, func(t *testing.T, opt func(*envOptions)) {
		src := newEnv(t, opt, withArchive(0))
		alice := src.user("acme", "alice", backupScopes...)
		for _, s := range []string{"alice likes tea", "alice moved to Lyon"} {
			alice.add(s)
		}
		rec := alice.do(http.MethodGet, "/api/v1/export", nil)
		require.Equal(t, http.StatusOK, rec.Code)
		arch := rec.Body.Bytes()

		dst := newEnv(t, opt, withArchive(0))
		dave := dst.user("other", "dave", backupScopes...)
		rep := decode[struct {
			Format string `json:"format"`
			Tables []struct {
				Table    string `json:"table"`
				Inserted int    `json:"inserted"`
			} `json:"tables"`
		}](t, dave.request2(http.MethodPost, "/api/v1/import", "application/zip", arch), http.StatusOK)
		require.Equal(t, "engram", rep.Format)
		require.Equal(t, "memories", rep.Tables[0].Table)
		require.Equal(t, 2, rep.Tables[0].Inserted)
		page := decode[pageJSON](t, dave.do(http.MethodGet, "/api/v1/memories", nil), http.StatusOK)
		require.Len(t, page.Items, 2)
		ghost := dst.user("acme", "alice", backupScopes...)
		require.Empty(t, decode[pageJSON](t, ghost.do(http.MethodGet, "/api/v1/memories", nil), http.StatusOK).Items,
			"the archive's own tenant is never trusted")

		// Another user sending the same file cannot take dave's memories
		// (same ids): everything is skipped, dave's rows stay his.
		erin := dst.user("other", "erin", backupScopes...)
		rec = erin.request2(http.MethodPost, "/api/v1/import?mode=overwrite", "application/zip", arch)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.Empty(t, decode[pageJSON](t, erin.do(http.MethodGet, "/api/v1/memories", nil), http.StatusOK).Items)
		require.Len(t, decode[pageJSON](t, dave.do(http.MethodGet, "/api/v1/memories", nil), http.StatusOK).Items, 2)

		// Multipart, as a browser form sends it: a second import skips all.
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, err := mw.CreateFormFile("file", "backup.engram")
		require.NoError(t, err)
		_, _ = fw.Write(arch)
		require.NoError(t, mw.Close())
		rec = dave.request2(http.MethodPost, "/api/v1/import", mw.FormDataContentType(), body.Bytes())
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.Contains(t, rec.Body.String(), `"inserted":0`)
	})
}

func TestImportRefusesBadArchives(t *testing.T) {
	e := newEnv(t, withArchive(64<<10))
	alice := e.user("acme", "alice", backupScopes...)
	alice.add("alice likes tea")
	arch := alice.do(http.MethodGet, "/api/v1/export", nil).Body.Bytes()

	bob := e.user("acme", "bob", backupScopes...)
	p := requireProblem(t, bob.request2(http.MethodPost, "/api/v1/import", "application/zip", arch[:len(arch)-40]), http.StatusBadRequest)
	require.Contains(t, p.Detail, "truncated or corrupted")
	require.Equal(t, "urn:engram:problem:invalid-archive", p.Type)
	requireProblem(t, bob.request2(http.MethodPost, "/api/v1/import", "application/zip", bytes.Repeat([]byte("x"), 70<<10)), http.StatusRequestEntityTooLarge)
	requireProblem(t, bob.request2(http.MethodPost, "/api/v1/import?mode=merge", "application/zip", arch), http.StatusBadRequest)
	requireProblem(t, e.user("acme", "bob").request2(http.MethodPost, "/api/v1/import", "application/zip", arch), http.StatusForbidden)
	require.Empty(t, decode[pageJSON](t, bob.do(http.MethodGet, "/api/v1/memories", nil), http.StatusOK).Items)
}

// request2 sends a raw body with a content type.
func (c caller) request2(method, target, contentType string, body []byte) *httptest.ResponseRecorder {
	c.e.t.Helper()
	req := c.request(method, target, string(body))
	req.Header.Set("Content-Type", contentType)
	return c.e.serve(req)
}

func TestImportTakesAMem0Export(t *testing.T) {
	e := newEnv(t, withArchive(0))
	raw, err := os.ReadFile("../archive/testdata/mem0/get_all.json")
	require.NoError(t, err)
	alex := e.user("acme", "alex", backupScopes...)
	rec := alex.request2(http.MethodPost, "/api/v1/import", "application/json", raw)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Contains(t, rec.Body.String(), `"format":"mem0"`)
	page := decode[pageJSON](t, alex.do(http.MethodGet, "/api/v1/memories", nil), http.StatusOK)
	require.Len(t, page.Items, 3)
}

// TestExportWithVectorsImportsWithoutEmbedding: GET /api/v1/export
// ?with_vectors=true adds the vectors member; POST /api/v1/import into a
// server of the same embedder loads them into its vector index (the report
// says so) and search finds the memories.
func TestExportWithVectorsImportsWithoutEmbedding(t *testing.T) {
	withSearch := func(o *envOptions) { o.search = true }
	src := newEnv(t, withSearch, withArchive(0))
	alice := src.user("acme", "alice", backupScopes...)
	for _, s := range []string{"alice likes green tea", "alice moved to Lyon", "alice has a grey cat"} {
		alice.add(s)
	}
	requireProblem(t, alice.do(http.MethodGet, "/api/v1/export?with_vectors=maybe", nil), http.StatusBadRequest)
	rec := alice.do(http.MethodGet, "/api/v1/export?with_vectors=true", nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	arch := rec.Body.Bytes()
	got := members(t, arch)
	require.Equal(t, 3, strings.Count(got["vectors.jsonl.gz"], "\n"))
	require.Contains(t, got["manifest.json"], `"model": "local-hash-v1-384"`)

	dst := newEnv(t, withSearch, withArchive(0))
	dave := dst.user("other", "dave", backupScopes...)
	rep := decode[struct {
		Vectors struct {
			Outcome  string `json:"outcome"`
			Loaded   int    `json:"loaded"`
			Embedded int    `json:"embedded"`
		} `json:"vectors"`
	}](t, dave.request2(http.MethodPost, "/api/v1/import", "application/zip", arch), http.StatusOK)
	require.Equal(t, "loaded", rep.Vectors.Outcome)
	require.Equal(t, 3, rep.Vectors.Loaded)
	require.Zero(t, rep.Vectors.Embedded)
	page := decode[pageJSON](t, dave.do(http.MethodGet, "/api/v1/memories?q=grey+cat", nil), http.StatusOK)
	require.Equal(t, "alice has a grey cat", page.Items[0].Text)
}
