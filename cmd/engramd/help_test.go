package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/engram-memory/engram/cmd/internal/config"
)

// TestHelpPrintsEveryFlagAndExitsZero: engramd -h is a request, not an
// error (issue 11): usage on stdout with every flag and its variable.
func TestHelpPrintsEveryFlagAndExitsZero(t *testing.T) {
	for _, h := range []string{"-h", "--help", "-help"} {
		var out, errb bytes.Buffer
		if err := run(context.Background(), []string{h}, func(string) string { return "" }, &out, &errb); err != nil {
			t.Fatalf("engramd %s: %v", h, err)
		}
		table := config.MarkdownTable()
		for _, line := range strings.Split(table, "\n")[2:] {
			cells := strings.Split(line, "|")
			if len(cells) < 4 {
				continue
			}
			env, flag := strings.Trim(cells[1], " `"), strings.Trim(cells[2], " `")
			if !strings.Contains(out.String(), env) || !strings.Contains(out.String(), flag) {
				t.Errorf("engramd %s: usage lacks %s / %s:\n%s", h, flag, env, out.String())
			}
		}
	}
}
