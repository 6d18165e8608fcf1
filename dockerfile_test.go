package engram_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// Every base image of the Dockerfile is pinned by digest (issue 12): a tag
// moved upstream must not change what the image is built from.
func TestDockerfileBaseImagesPinnedByDigest(t *testing.T) {
	raw, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	pinned := regexp.MustCompile(`^FROM\s+\S+@sha256:[0-9a-f]{64}(\s+AS\s+\S+)?\s*$`)
	froms := 0
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(strings.ToUpper(strings.TrimSpace(line)), "FROM ") {
			continue
		}
		froms++
		if !pinned.MatchString(strings.TrimSpace(line)) {
			t.Errorf("base image not pinned by digest: %s", line)
		}
	}
	if froms == 0 {
		t.Fatal("no FROM line found")
	}
}
