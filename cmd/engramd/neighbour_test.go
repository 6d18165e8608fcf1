package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/jwtauth"
)

// mintBearer mints, from engramd's local key in dir, a Bearer token for
// org/user with the issuer and audience of localToken.
func mintBearer(t *testing.T, dir, localToken, org, user string) string {
	t.Helper()
	claims := tokenClaims(t, localToken)
	key, _, err := jwtauth.LoadOrCreateLocalKey(dir)
	require.NoError(t, err)
	aud, _ := claims["aud"].(string)
	if list, ok := claims["aud"].([]any); ok && len(list) > 0 {
		aud, _ = list[0].(string)
	}
	iss, _ := claims["iss"].(string)
	tok, err := key.Mint(jwtauth.Claims{Subject: user, OrgID: org, Issuer: iss, Audience: aud, TTL: time.Hour})
	require.NoError(t, err)
	return tok
}

// hugeMetadataFilter is a search body with n metadata filter keys: more
// than SQLite's expression-tree depth allows in one statement.
func hugeMetadataFilter(n int) string {
	md := map[string]string{}
	for i := range n {
		md[fmt.Sprintf("k%04d", i)] = "v"
	}
	body, _ := json.Marshal(map[string]any{"query": "tea", "metadata": md})
	return string(body)
}

// One tenant's oversized search is that tenant's 4xx: it is neither
// retried nor counted as an outage, so the store's breaker stays closed
// and another tenant's reads and writes go on (it used to take two such
// searches to answer 503 to everyone).
func TestHugeFilterIsTheCallersErrorNotAnOutage(t *testing.T) {
	dir := t.TempDir()
	e := startLogged(t, map[string]string{"ENGRAM_DATA_DIR": dir})
	victim := mintBearer(t, dir, e.token, "org-b", "user-b")
	code, body := do(t, http.MethodPost, e.base+"/api/v1/memories", victim, `{"text":"likes green tea"}`)
	require.Equal(t, http.StatusCreated, code, body)
	code, body = do(t, http.MethodPost, e.base+"/api/v1/memories", e.token, `{"text":"drinks black tea"}`)
	require.Equal(t, http.StatusCreated, code, body)

	huge := hugeMetadataFilter(1100)
	var codes []int
	for range 6 {
		code, _ = do(t, http.MethodPost, e.base+"/api/v1/search", e.token, huge)
		codes = append(codes, code)
	}

	for _, path := range []string{"/api/v1/memories", "/api/v1/stats", "/api/v1/apps"} {
		code, body = do(t, http.MethodGet, e.base+path, victim, "")
		require.Equal(t, http.StatusOK, code, "%s: %s", path, body)
	}
	code, body = do(t, http.MethodPost, e.base+"/api/v1/search", victim, `{"query":"green tea"}`)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, "likes green tea")
	code, body = do(t, http.MethodPost, e.base+"/api/v1/memories", victim, `{"text":"still writing"}`)
	require.Equal(t, http.StatusCreated, code, body)

	for _, c := range codes {
		require.Equal(t, http.StatusBadRequest, c, "the oversized search is the caller's error: %v", codes)
	}
	_, metrics := get(t, "http://"+e.admin+"/metrics")
	for _, line := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(line, "engram_circuit_breaker_state{") {
			require.True(t, strings.HasSuffix(line, " 0"), "every breaker stays closed: %s", line)
		}
		if strings.HasPrefix(line, "engram_dependency_retries_total{") {
			t.Errorf("a refused statement was retried: %s", line)
		}
	}
	require.NotContains(t, e.stderr.String(), `"status":503`)
}
