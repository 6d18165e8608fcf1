package main

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoSubcommandChoosesABackend holds issue 13's rule: engram's
// subcommands take their stores, indexes, caches and embedders from
// cmd/internal/wiring, so no file of this command imports a backend
// adapter to choose one itself. Formats and transports it speaks (the
// archive format, token minting, the MCP stdio transport, the key file,
// the password hasher) are not backends and may be imported.
func TestNoSubcommandChoosesABackend(t *testing.T) {
	backends := []string{"sqlitestore", "pgstore", "valkeystore", "qdrantindex", "esindex", "inproc",
		"localembed", "openaiembed", "openaichat", "resilience", "telemetry", "graphsql"}
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files: %v", err)
	}
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ast, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range ast.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, b := range backends {
				if path == "github.com/engram-memory/engram/adapters/"+b {
					t.Errorf("%s imports %s: choose backends in cmd/internal/wiring", f, path)
				}
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d files checked: is the test running in cmd/engram?", checked)
	}
}
