package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeEntry(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBuildWritesTheV1Layout builds a database from OSV entries shaped like
// x/vulndb's data/osv (package.name, zero modified times) and reads back
// what govulncheck reads: index/db.json, index/modules.json, ID/<id>.json.
func TestBuildWritesTheV1Layout(t *testing.T) {
	src := t.TempDir()
	writeEntry(t, src, "GO-2099-0001.json", `{"id":"GO-2099-0001","modified":"0001-01-01T00:00:00Z","affected":[
		{"package":{"name":"example.com/a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.0"},{"introduced":"1.3.0"},{"fixed":"1.3.4"}]}]},
		{"package":{"name":"stdlib"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.26.10"}]}]}]}`)
	writeEntry(t, src, "GO-2099-0002.json", `{"id":"GO-2099-0002","modified":"0001-01-01T00:00:00Z","affected":[
		{"package":{"name":"example.com/a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"},{"introduced":"2.0.0-rc.1"}]}]}]}`)
	out := filepath.Join(t.TempDir(), "db")
	at := time.Date(2026, 11, 5, 23, 49, 57, 0, time.UTC)
	n, err := build(src, out, at)
	if err != nil || n != 2 {
		t.Fatalf("build = %d, %v", n, err)
	}
	var db struct{ Modified time.Time }
	readJSON(t, filepath.Join(out, "index", "db.json"), &db)
	if !db.Modified.Equal(at) {
		t.Errorf("db modified %v, want %v", db.Modified, at)
	}
	var mods []moduleMeta
	readJSON(t, filepath.Join(out, "index", "modules.json"), &mods)
	got := map[string]string{}
	for _, m := range mods {
		for _, v := range m.Vulns {
			got[m.Path+" "+v.ID] = v.Fixed
			if !v.Modified.Equal(at) {
				t.Errorf("%s %s modified %v, want the database's date", m.Path, v.ID, v.Modified)
			}
		}
	}
	want := map[string]string{
		"example.com/a GO-2099-0001": "1.3.4",
		"example.com/a GO-2099-0002": "", // introduced again after the fix
		"stdlib GO-2099-0001":        "1.26.10",
	}
	if len(got) != len(want) {
		t.Errorf("index %v, want %v", got, want)
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s: fixed %q (present %v), want %q", k, g, ok, v)
		}
	}
	if mods[0].Path != "example.com/a" || mods[0].Vulns[0].ID != "GO-2099-0001" {
		t.Errorf("modules not sorted: %+v", mods)
	}
	raw, err := os.ReadFile(filepath.Join(out, "ID", "GO-2099-0002.json"))
	if err != nil || !bytes.Contains(raw, []byte(`"2.0.0-rc.1"`)) {
		t.Errorf("ID/GO-2099-0002.json = %q, %v", raw, err)
	}
}

func TestBuildRefusesAnEntryInTheWrongFile(t *testing.T) {
	src := t.TempDir()
	writeEntry(t, src, "GO-2099-0001.json", `{"id":"GO-2099-0009","affected":[]}`)
	out := filepath.Join(t.TempDir(), "db")
	if _, err := build(src, out, time.Now()); err == nil || !strings.Contains(err.Error(), "<ID>.json") {
		t.Fatalf("build = %v, want a refusal naming <ID>.json", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused build left a database behind")
	}
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func TestLessOrdersLikeSemver(t *testing.T) {
	ordered := []string{"", "0.0.0-20250721152936-fe86ceb2c3fa", "0.0.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.2.0", "1.10.0", "v1.26.9", "go1.26.10", "2.0.0"}
	for i := range ordered {
		for j := range ordered {
			if got := less(ordered[i], ordered[j]); got != (i < j) {
				t.Errorf("less(%q, %q) = %v", ordered[i], ordered[j], got)
			}
		}
	}
}

const config = `{"config":{"protocol_version":"v1.0.0","scanner_version":"v1.10.0","db":"file:///x","db_last_modified":"2026-11-05T23:49:57Z","go_version":"go1.26.11"}}`

func TestCheckFailsOnAReachableVulnerability(t *testing.T) {
	stream := config + `
{"osv":{"id":"GO-2099-0001","summary":"bad thing"}}
{"finding":{"osv":"GO-2099-0001","fixed_version":"v1.3.4","trace":[{"module":"example.com/a","version":"v1.3.0","package":"example.com/a","function":"Parse"},{"module":"github.com/engram-memory/engram","package":"github.com/engram-memory/engram/app","function":"Run","position":{"filename":"app/run.go","line":7}}]}}
{"finding":{"osv":"GO-2099-0002","trace":[{"module":"example.com/b","version":"v0.1.0","package":"example.com/b"}]}}
`
	var out bytes.Buffer
	if code := check(strings.NewReader(stream), &out, nil); code != 1 {
		t.Fatalf("check = %d, want 1:\n%s", code, &out)
	}
	for _, want := range []string{"database file:///x, modified 2026-11-05T23:49:57Z", "REACHABLE GO-2099-0001: bad thing", "example.com/a@v1.3.0, fixed in: v1.3.4; called from github.com/engram-memory/engram/app.Run (app/run.go:7)", "1 reachable"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, &out)
		}
	}
	if strings.Contains(out.String(), "GO-2099-0002") {
		t.Errorf("a finding in an imported package that is not called was reported:\n%s", &out)
	}

	out.Reset()
	if code := check(strings.NewReader(stream), &out, map[string]string{"GO-2099-0001": "we never call Parse"}); code != 0 {
		t.Fatalf("accepted: check = %d, want 0:\n%s", code, &out)
	}
}

func TestCheckFailsWhenGovulncheckDidNotRun(t *testing.T) {
	var out bytes.Buffer
	if code := check(strings.NewReader(""), &out, nil); code != 1 {
		t.Fatalf("check of nothing = %d, want 1", code)
	}
}

func TestAcceptedNeedsAReason(t *testing.T) {
	name := filepath.Join(t.TempDir(), "accepted")
	writeEntry(t, filepath.Dir(name), filepath.Base(name), "# comment\nGO-2099-0001\n")
	if _, err := readAccepted(name); err == nil {
		t.Fatal("an id without a reason was accepted")
	}
}
