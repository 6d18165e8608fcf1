package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/contracttest"
)

// oauthSDKDir holds the official MCP TypeScript SDK and playwright-core,
// installed with `npm ci` from its lockfile by scripts/test-services.sh,
// which also installs Debian's chromium.
var oauthSDKDir = filepath.Join("..", "..", "testdata", "oauthsdk")

// nodeSDKAndBrowser finds node, the installed packages and Chromium. What
// is missing fails the test when the test task requires it
// (ENGRAM_TEST_REQUIRE lists oauthsdk), else skips saying what to install.
func nodeSDKAndBrowser(t *testing.T) (node, browser string) {
	t.Helper()
	missing := func(what string) {
		if contracttest.Required("oauthsdk") {
			t.Fatalf("oauthsdk is required but %s: run scripts/test-services.sh", what)
		}
		t.Skipf("SKIP MCP SDK OAuth browser test: %s (scripts/test-services.sh installs it)", what)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed")
	}
	if _, err := os.Stat(filepath.Join(oauthSDKDir, "node_modules", "playwright-core", "package.json")); err != nil {
		missing(oauthSDKDir + "/node_modules is missing (npm ci)")
	}
	browser = os.Getenv("ENGRAM_TEST_CHROMIUM")
	if browser == "" {
		browser = "/usr/bin/chromium"
	}
	if _, err := os.Stat(browser); err != nil {
		missing("chromium is not installed at " + browser)
	}
	return node, browser
}

// TestMCPSDKSignsInThroughTheBrowser: the official MCP TypeScript SDK's
// OAuth client, with no token, discovers engramd's authorization server,
// registers, sends the user to the consent page (headless Chromium types a
// wrong one-time code, sees the message, then the right one), exchanges the
// code, lists the tools, and later refreshes an expired access token with a
// rotated refresh token. Screenshots of the page go to the test's folder
// (kept under ENGRAM_TEST_SCREENSHOTS when set).
func TestMCPSDKSignsInThroughTheBrowser(t *testing.T) {
	node, browser := nodeSDKAndBrowser(t)
	base, out := startOnKnownPort(t, nil)
	m := signInCodeRe.FindStringSubmatch(out.String())
	require.NotNil(t, m, out.String())
	shots := os.Getenv("ENGRAM_TEST_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(shots, 0o755))

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "run.mjs")
	cmd.Dir = oauthSDKDir
	cmd.Env = append(os.Environ(), "ENGRAM_URL="+base, "ENGRAM_SIGNIN_CODE="+m[1], "CHROMIUM="+browser, "SCREENSHOT_DIR="+shots)
	raw, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", raw)
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	var f struct {
		ClientID          string   `json:"clientId"`
		ConsentTitle      string   `json:"consentTitle"`
		ScopesListed      []string `json:"scopesListed"`
		WrongCodeMessage  string   `json:"wrongCodeMessage"`
		ISS               string   `json:"iss"`
		Tools             []string `json:"tools"`
		ToolsAfterRefresh int      `json:"toolsAfterRefresh"`
		RefreshRotated    bool     `json:"refreshRotated"`
		CSPViolations     []string `json:"cspViolations"`
	}
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &f), "%s", raw)
	t.Logf("%s", raw)
	require.True(t, strings.HasPrefix(f.ClientID, "egc_"), f.ClientID)
	require.Contains(t, f.ConsentTitle, "Authorize MCP SDK test client")
	require.NotEmpty(t, f.ScopesListed)
	require.Equal(t, "Wrong user, organisation, password or one-time code.", f.WrongCodeMessage)
	require.Equal(t, base, f.ISS)
	require.Contains(t, f.Tools, "search_memory")
	require.Equal(t, len(f.Tools), f.ToolsAfterRefresh)
	require.True(t, f.RefreshRotated)
	require.Empty(t, f.CSPViolations, "the page runs under its CSP without violations")
	for _, png := range []string{"consent.png", "consent-wrong-code.png"} {
		st, err := os.Stat(filepath.Join(shots, png))
		require.NoError(t, err)
		require.Positive(t, st.Size())
	}
}

// TestMCPRemoteSignsInThroughTheBrowser: mcp-remote 0.15.1, the stdio
// bridge Claude Desktop users configure with only a URL, signs in to
// engramd with no token or header: it registers, opens the system browser
// (xdg-open's BROWSER hook hands the URL to headless Chromium, which signs
// in with the one-time code), receives the code on its own callback, and
// then bridges stdio JSON-RPC to /mcp: initialize, tools/list, an add and a
// search that finds it. Its tokens are kept in its own store.
func TestMCPRemoteSignsInThroughTheBrowser(t *testing.T) {
	node, browser := nodeSDKAndBrowser(t)
	base, out := startOnKnownPort(t, nil)
	m := signInCodeRe.FindStringSubmatch(out.String())
	require.NotNil(t, m, out.String())
	shots := os.Getenv("ENGRAM_TEST_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(shots, 0o755))

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "mcpremote.mjs")
	cmd.Dir = oauthSDKDir
	cmd.Env = append(os.Environ(), "ENGRAM_URL="+base, "ENGRAM_SIGNIN_CODE="+m[1], "CHROMIUM="+browser,
		"SCREENSHOT_DIR="+shots, "WORK_DIR="+t.TempDir())
	raw, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", raw)
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	var f struct {
		AuthorizeURL  string   `json:"authorizeURL"`
		ConsentTitle  string   `json:"consentTitle"`
		ServerName    string   `json:"serverName"`
		Tools         []string `json:"tools"`
		AddError      bool     `json:"addError"`
		SearchText    string   `json:"searchText"`
		TokensStored  bool     `json:"tokensStored"`
		CSPViolations []string `json:"cspViolations"`
	}
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &f), "%s", raw)
	t.Logf("%s", raw)
	require.Equal(t, base+"/authorize", f.AuthorizeURL, "mcp-remote found the authorization server from the metadata")
	require.Contains(t, f.ConsentTitle, "Authorize")
	require.NotEmpty(t, f.ServerName)
	require.Contains(t, f.Tools, "add_memories")
	require.Contains(t, f.Tools, "search_memory")
	require.False(t, f.AddError, "add_memories through the bridge")
	require.Contains(t, f.SearchText, "mcp-remote with no token pasted")
	require.Contains(t, f.SearchText, `\"app\":\"claude-desktop\"`, "filed under the client's own name, not the bridge's version")
	require.True(t, f.TokensStored, "mcp-remote keeps its tokens for the next start")
	require.Empty(t, f.CSPViolations)
	st, err := os.Stat(filepath.Join(shots, "mcp-remote-consent.png"))
	require.NoError(t, err)
	require.Positive(t, st.Size())
}
