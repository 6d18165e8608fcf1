package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/jwtauth"
)

// tokenClaims reads a JWT's payload without verifying it (the test only
// needs the issuer and audience engramd's verifier expects).
func tokenClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var c map[string]any
	require.NoError(t, json.Unmarshal(raw, &c))
	return c
}

// mintDPoP mints, from engramd's local key in dir, a token for org/user
// bound to a fresh P-256 key, with the issuer and audience of localToken.
func mintDPoP(t *testing.T, dir, localToken, org, user string) (string, *jwtauth.DPoPProver) {
	t.Helper()
	claims := tokenClaims(t, localToken)
	key, _, err := jwtauth.LoadOrCreateLocalKey(dir)
	require.NoError(t, err)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	prover, err := jwtauth.NewDPoPProver(ec)
	require.NoError(t, err)
	aud, _ := claims["aud"].(string)
	if list, ok := claims["aud"].([]any); ok && len(list) > 0 {
		aud, _ = list[0].(string)
	}
	iss, _ := claims["iss"].(string)
	tok, err := key.Mint(jwtauth.Claims{Subject: user, OrgID: org, JKT: prover.JKT(), Issuer: iss, Audience: aud, TTL: time.Hour})
	require.NoError(t, err)
	return tok, prover
}

func send(t *testing.T, req *http.Request) int {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// The access log names every request (id, route, status, latency, tenant)
// and never a credential or a memory's text, whatever the auth scheme and
// outcome.
func TestLogsNeverHoldTokensProofsOrMemoryText(t *testing.T) {
	addr := freeAddr(t)
	public := "http://" + addr
	dir := t.TempDir()
	e := startLogged(t, map[string]string{
		"ENGRAM_DATA_DIR": dir, "ENGRAM_ADDR": addr, "ENGRAM_PUBLIC_URL": public, "ENGRAM_LOG_LEVEL": "debug",
		// Encryption at rest on: neither the key-encryption key nor the
		// plaintext the store opens may reach a log line.
		"ENGRAM_ENCRYPTION": "on",
	})
	secrets := []string{e.token}

	// A DPoP-bound token for another user, minted from the local key.
	dpopToken, prover := mintDPoP(t, dir, e.token, "dpop-org", "dpop-user")
	secrets = append(secrets, dpopToken)

	texts := []string{"zebra-pancake-7731 likes oolong", "quokka-saxophone-0412 lives in Oslo", "narwhal-tuba-5598 hates cilantro"}
	for i, text := range texts {
		body := `{"text":"` + text + `"}`
		// Bearer.
		req, _ := http.NewRequest(http.MethodPost, e.base+"/api/v1/memories", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.token)
		req.Header.Set("Content-Type", "application/json")
		require.Equal(t, http.StatusCreated, send(t, req))
		// DPoP.
		proof, err := prover.Proof(http.MethodPost, public+"/api/v1/memories", dpopToken)
		require.NoError(t, err)
		secrets = append(secrets, proof)
		req, _ = http.NewRequest(http.MethodPost, e.base+"/api/v1/memories", strings.NewReader(`{"text":"dpop `+text+`"}`))
		req.Header.Set("Authorization", "DPoP "+dpopToken)
		req.Header.Set("DPoP", proof)
		req.Header.Set("Content-Type", "application/json")
		require.Equal(t, http.StatusCreated, send(t, req), "DPoP request %d", i)
		// The same proof again is a replay: refused, and still not logged.
		req, _ = http.NewRequest(http.MethodPost, e.base+"/api/v1/memories", strings.NewReader(`{"text":"replayed `+text+`"}`))
		req.Header.Set("Authorization", "DPoP "+dpopToken)
		req.Header.Set("DPoP", proof)
		req.Header.Set("Content-Type", "application/json")
		require.Equal(t, http.StatusUnauthorized, send(t, req))
	}
	// A search-like read and a refused forged token.
	req, _ := http.NewRequest(http.MethodGet, e.base+"/api/v1/memories", nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	require.Equal(t, http.StatusOK, send(t, req))
	forged := e.token[:len(e.token)-4] + "AAAA"
	secrets = append(secrets, forged)
	req, _ = http.NewRequest(http.MethodGet, e.base+"/api/v1/memories", nil)
	req.Header.Set("Authorization", "Bearer "+forged)
	require.Equal(t, http.StatusUnauthorized, send(t, req))
	require.NoError(t, e.stop())

	logs := e.stderr.String()
	for _, s := range secrets {
		require.NotContains(t, logs, s, "a credential reached the logs")
		// Nor any long piece of it (a signature alone is a secret too).
		for _, part := range strings.Split(s, ".") {
			if len(part) >= 16 {
				require.NotContains(t, logs, part)
			}
		}
	}
	for _, text := range texts {
		word := strings.Fields(text)[0]
		require.NotContains(t, logs, word, "a memory's text reached the logs")
	}
	kek, err := os.ReadFile(filepath.Join(dir, "data-keys.kek"))
	require.NoError(t, err, "encryption on created the key file")
	for _, line := range strings.Split(string(kek), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			require.NotContains(t, logs, line, "the key-encryption key reached the logs")
			require.NotContains(t, logs, line[:16])
		}
	}

	// One JSON line per request with its id, route, status, latency and,
	// once authenticated, the tenant.
	var lines, authed int
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), "not a JSON log line: %s", line)
		if rec["msg"] != "http request" {
			continue
		}
		lines++
		for _, f := range []string{"request_id", "route", "status", "latency_ms"} {
			require.Contains(t, rec, f, line)
		}
		if rec["status"] == float64(http.StatusCreated) || rec["status"] == float64(http.StatusOK) {
			authed++
			require.NotEmpty(t, rec["org_id"], line)
			require.NotEmpty(t, rec["user_id"], line)
		}
	}
	require.Equal(t, 3*3+2, lines, "one line per request")
	require.Equal(t, 3*2+1, authed)
	require.Contains(t, logs, `"org_id":"dpop-org"`)
	require.Contains(t, logs, `"user_id":"dpop-user"`)
}
