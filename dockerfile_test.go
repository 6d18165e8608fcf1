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

// The image is built with go.mod's toolchain line, the release
// scripts/govulncheck.sh scans with, not whatever Go the base image holds
// (the official image sets GOTOOLCHAIN=local, which ignores the line).
func TestDockerfileBuildsWithTheModulesToolchain(t *testing.T) {
	mod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^toolchain go1\.\d+\.\d+$`).Match(mod) {
		t.Fatal("go.mod names no toolchain release")
	}
	raw, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	build := strings.Split(string(raw), "\nRUN go build")[0]
	if !regexp.MustCompile(`(?m)^ENV GOTOOLCHAIN=auto$`).MatchString(build) {
		t.Error("the Dockerfile's build stage does not set ENV GOTOOLCHAIN=auto before building: the image would build with the base image's Go")
	}
}
