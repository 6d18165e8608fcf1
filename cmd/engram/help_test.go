package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestEveryCommandHelpExitsZero: engram <command> -h prints the command's
// usage on stdout and succeeds, for every command (issue 11).
func TestEveryCommandHelpExitsZero(t *testing.T) {
	for name := range commands {
		for _, h := range []string{"-h", "--help"} {
			var out, errb bytes.Buffer
			if err := run(context.Background(), []string{name, h}, &out, &errb); err != nil {
				t.Errorf("engram %s %s: %v (stderr %q)", name, h, err, errb.String())
				continue
			}
			if !strings.Contains(out.String(), "-") || errb.Len() != 0 {
				t.Errorf("engram %s %s: usage should be on stdout; stdout %q, stderr %q", name, h, out.String(), errb.String())
			}
		}
	}
}
