package engram_test

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/engram-memory/engram"

// TestDependencyRule enforces the hexagon: domain imports only the standard
// library; ports only domain; app only domain and ports; driven adapters never
// import app or another adapter; contracttest never imports an adapter.
func TestDependencyRule(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps=false", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	type pkg struct {
		ImportPath string
		Imports    []string
		Standard   bool
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	var pkgs []pkg
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 4 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	checked := 0
	for _, p := range pkgs {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		for _, imp := range p.Imports {
			if reason := forbidden(rel, imp); reason != "" {
				t.Errorf("%s imports %s: %s", p.ImportPath, imp, reason)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no imports checked")
	}
}

func isStd(imp string) bool {
	first := strings.SplitN(imp, "/", 2)[0]
	return !strings.Contains(first, ".")
}

func forbidden(rel, imp string) string {
	internal := strings.HasPrefix(imp, module)
	irel := strings.TrimPrefix(strings.TrimPrefix(imp, module), "/")
	top := func(s string) string { return strings.SplitN(s, "/", 2)[0] }
	switch top(rel) {
	case "domain":
		if !isStd(imp) && !(internal && top(irel) == "domain") {
			return "domain may import the standard library only"
		}
	case "ports":
		if !isStd(imp) && !(internal && (top(irel) == "domain" || top(irel) == "ports")) {
			return "ports may import domain only"
		}
	case "app":
		if !isStd(imp) && !(internal && (top(irel) == "domain" || top(irel) == "ports" || top(irel) == "app")) {
			return "app may import domain and ports only (no adapters, no client libraries)"
		}
	case "cmd":
		// One composition root: engram's subcommands open backends
		// through cmd/internal/wiring, never by importing one themselves.
		other := strings.SplitN(irel, "/", 3)
		if strings.HasPrefix(rel, "cmd/engram") && !strings.HasPrefix(rel, "cmd/engramd") && internal &&
			len(other) >= 2 && other[0] == "adapters" && backendAdapters[other[1]] {
			return "cmd/engram chooses no backend: open it through cmd/internal/wiring"
		}
	case "contracttest":
		if internal && top(irel) != "domain" && top(irel) != "ports" && top(irel) != "contracttest" {
			return "contracttest may import domain and ports only"
		}
	case "adapters":
		self := strings.SplitN(rel, "/", 3)
		if !internal || len(self) < 2 {
			return ""
		}
		driving := map[string]bool{"httpapi": true, "mcpserver": true}
		switch top(irel) {
		case "app":
			if !driving[self[1]] {
				return "driven adapters must not import app"
			}
		case "adapters":
			other := strings.SplitN(irel, "/", 3)
			if len(other) >= 2 && other[1] != self[1] && !driving[self[1]] && !shared[other[1]] {
				return "an adapter must not import another adapter"
			}
		}
	}
	return ""
}

// shared are the adapters another may import: code that several adapters
// run and that chooses no backend of its own — SQL both stores run (no
// driver, no connection), the word folding both stores' text indexes use
// and the HTTP calls both OpenAI-compatible adapters make.
var shared = map[string]bool{"graphsql": true, "textfold": true, "openaihttp": true}

// backendAdapters are the adapters that choose where data lives or how it is
// computed; transports and token handling (httpapi, mcpserver, jwtauth) are
// not backends.
var backendAdapters = map[string]bool{
	"sqlitestore": true, "pgstore": true, "valkeystore": true, "inproc": true, "qdrantindex": true,
	"esindex": true, "openaiembed": true, "localembed": true, "resilience": true, "telemetry": true,
}

func TestForbiddenCatchesViolations(t *testing.T) {
	cases := []struct{ rel, imp string }{
		{"domain", "github.com/lib/pq"},
		{"domain", module + "/ports"},
		{"ports", module + "/adapters/pgstore"},
		{"app", module + "/adapters/sqlitestore"},
		{"app", "github.com/jmoiron/sqlx"},
		{"adapters/pgstore", module + "/app"},
		{"adapters/pgstore", module + "/adapters/sqlitestore"},
		{"contracttest", module + "/adapters/inproc"},
		{"cmd/engram", module + "/adapters/sqlitestore"},
		{"cmd/engram", module + "/adapters/qdrantindex"},
		{"cmd/engram", module + "/adapters/valkeystore"},
	}
	for _, c := range cases {
		if forbidden(c.rel, c.imp) == "" {
			t.Errorf("%s importing %s should be forbidden", c.rel, c.imp)
		}
	}
	if r := forbidden("app", module+"/ports"); r != "" {
		t.Errorf("app importing ports refused: %s", r)
	}
	for _, ok := range []struct{ rel, imp string }{
		{"cmd/engram", module + "/adapters/jwtauth"},
		{"cmd/engram", module + "/cmd/internal/wiring"},
		{"cmd/internal/wiring", module + "/adapters/sqlitestore"},
		{"cmd/engramd", module + "/adapters/telemetry"},
		{"adapters/pgstore", module + "/adapters/graphsql"},
		{"adapters/openaiembed", module + "/adapters/openaihttp"},
		{"adapters/sqlitestore", module + "/adapters/textfold"},
	} {
		if r := forbidden(ok.rel, ok.imp); r != "" {
			t.Errorf("%s importing %s refused: %s", ok.rel, ok.imp, r)
		}
	}
}

// TestAcceptedVulnerabilitiesStayUnreachable holds the reasons of
// scripts/govulncheck-accepted.txt: echo/v4's advisories GO-2026-6875
// (middleware.Proxy forwards X-Real-IP) and GO-2026-6872 (the rate limiter
// trusts X-Forwarded-For through Context.RealIP) have no fixed v4 version and
// name no symbols, so govulncheck cannot tell that Engram stays clear of them.
// This test can: no package may import echo/v4/middleware, and no source may
// call RealIP.
func TestAcceptedVulnerabilitiesStayUnreachable(t *testing.T) {
	out, err := exec.Command("go", "list", "-test", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if pkg, imports, ok := strings.Cut(line, " "); ok && !seen[pkg] && strings.Contains(" "+imports+" ", " github.com/labstack/echo/v4/middleware ") {
			seen[pkg] = true
			t.Errorf("%s imports github.com/labstack/echo/v4/middleware: scripts/govulncheck-accepted.txt accepts GO-2026-6875 only because nothing does", pkg)
		}
	}
	grep := exec.Command("git", "grep", "--untracked", "-n", "-I", "-E", `\.RealIP\(`, "--", "*.go")
	hits, err := grep.Output()
	if err != nil && len(hits) != 0 {
		t.Fatalf("git grep: %v", err)
	}
	if len(hits) > 0 {
		t.Errorf("echo's RealIP is called (it trusts X-Forwarded-For; scripts/govulncheck-accepted.txt accepts GO-2026-6872 only because nothing calls it):\n%s", hits)
	}
}
