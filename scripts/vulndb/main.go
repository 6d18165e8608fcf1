// Command vulndb serves scripts/govulncheck.sh.
//
// "vulndb build" builds a Go vulnerability database in the v1 layout that
// govulncheck reads with -db file:///dir (https://go.dev/security/vuln/database#api):
//
//	index/db.json       {"modified": <time>}
//	index/modules.json  [{"path", "vulns": [{"id", "modified", "fixed"}]}] sorted by path, vulns by id
//	ID/<id>.json        the OSV entry, unchanged
//
// from a directory of OSV entries, such as data/osv of the golang.org/x/vulndb
// module, which the Go module proxy serves when vuln.go.dev cannot be
// reached. Those files carry no modification time (it comes from the
// repository's history when vuln.go.dev is deployed), so -modified gives the
// database's date: scripts/govulncheck.sh passes the time of the pinned
// vulndb version.
//
// The database is written beside -out and renamed into place, so a reader
// never sees half of one.
//
// "vulndb check" reads govulncheck's JSON stream and fails on a
// vulnerability reachable from our code (a finding whose trace names a
// function), unless its id is in the -accept file with a reason (see check.go).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "build":
		buildMain(os.Args[2:])
	case "check":
		os.Exit(checkMain(os.Args[2:], os.Stdin, os.Stdout))
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: vulndb build -src DIR -out DIR [-modified RFC3339]\n       govulncheck -format json ./... | vulndb check [-accept FILE]")
	os.Exit(2)
}

func buildMain(args []string) {
	fs := flag.NewFlagSet("build", flag.ExitOnError)
	src := fs.String("src", "", "directory of OSV entries named <ID>.json")
	out := fs.String("out", "", "directory to create (must not exist)")
	modified := fs.String("modified", "", "the database's date (RFC 3339); default: the latest modified time of an entry")
	_ = fs.Parse(args)
	if *src == "" || *out == "" {
		usage()
	}
	var at time.Time
	if *modified != "" {
		t, err := time.Parse(time.RFC3339, *modified)
		if err != nil {
			fmt.Fprintln(os.Stderr, "vulndb: -modified:", err)
			os.Exit(2)
		}
		at = t.UTC()
	}
	n, err := build(*src, *out, at)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulndb:", err)
		os.Exit(1)
	}
	fmt.Printf("vulndb: %d entries from %s written to %s\n", n, *src, *out)
}

// entry is the part of an OSV entry the indexes need.
type entry struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Affected []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
		Ranges []osvRange `json:"ranges"`
	} `json:"affected"`
}

type osvRange struct {
	Type   string `json:"type"`
	Events []struct {
		Introduced string `json:"introduced"`
		Fixed      string `json:"fixed"`
	} `json:"events"`
}

type moduleVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Fixed    string    `json:"fixed,omitempty"`
}

type moduleMeta struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

// build writes the database and returns how many entries it holds.
func build(src, out string, at time.Time) (int, error) {
	if _, err := os.Stat(out); err == nil {
		return 0, fmt.Errorf("%s exists", out)
	}
	names, err := filepath.Glob(filepath.Join(src, "*.json"))
	if err != nil {
		return 0, err
	}
	if len(names) == 0 {
		return 0, fmt.Errorf("no OSV entries (*.json) in %s", src)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(out), ".vulndb-*")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	for _, d := range []string{"ID", "index"} {
		if err := os.Mkdir(filepath.Join(tmp, d), 0o755); err != nil {
			return 0, err
		}
	}

	modules := map[string]*moduleMeta{}
	var latest time.Time
	for _, name := range names {
		raw, err := os.ReadFile(name)
		if err != nil {
			return 0, err
		}
		var e entry
		if err := json.Unmarshal(raw, &e); err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		// govulncheck fetches ID/<id>.json for an id of the index: the
		// two must agree.
		if filepath.Base(name) != e.ID+".json" {
			return 0, fmt.Errorf("%s holds entry %q: an entry's file must be named <ID>.json", name, e.ID)
		}
		if e.Modified.After(latest) {
			latest = e.Modified
		}
		mod := e.Modified
		if mod.IsZero() {
			mod = at
		}
		for _, a := range e.Affected {
			path := a.Package.Name
			if path == "" {
				return 0, fmt.Errorf("%s: an affected package without a name", name)
			}
			m := modules[path]
			if m == nil {
				m = &moduleMeta{Path: path, Vulns: []moduleVuln{}}
				modules[path] = m
			}
			m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: mod, Fixed: nonSupersededFix(a.Ranges)})
		}
		if err := os.WriteFile(filepath.Join(tmp, "ID", e.ID+".json"), raw, 0o644); err != nil {
			return 0, err
		}
	}
	if at.IsZero() {
		at = latest
	}
	if at.IsZero() {
		return 0, errors.New("no entry has a modified time: give the database's date with -modified")
	}

	list := make([]*moduleMeta, 0, len(modules))
	for _, m := range modules {
		sort.SliceStable(m.Vulns, func(i, j int) bool { return m.Vulns[i].ID < m.Vulns[j].ID })
		list = append(list, m)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Path < list[j].Path })
	if err := writeJSON(filepath.Join(tmp, "index", "modules.json"), list); err != nil {
		return 0, err
	}
	if err := writeJSON(filepath.Join(tmp, "index", "db.json"), map[string]time.Time{"modified": at}); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp, out); err != nil {
		return 0, err
	}
	return len(names), nil
}

func writeJSON(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(name, b, 0o644)
}

// nonSupersededFix is golang.org/x/vuln's rule for the index's "fixed": the
// latest fixed version of the SEMVER ranges, or "" when the vulnerability is
// introduced again after it. govulncheck skips an entry whose fixed version is
// at or below the module's version without reading it, so a fix reported too
// early would hide a vulnerability; "" only costs a read.
func nonSupersededFix(ranges []osvRange) string {
	var latest string
	for _, r := range ranges {
		if r.Type != "SEMVER" {
			continue
		}
		for _, e := range r.Events {
			if e.Fixed != "" && less(latest, e.Fixed) {
				latest = e.Fixed
			}
		}
		for _, e := range r.Events {
			if e.Introduced != "" && e.Introduced != "0" && less(latest, e.Introduced) {
				latest = ""
				break
			}
		}
	}
	return latest
}

// less reports v1 < v2 for semantic versions with or without a "v" or "go"
// prefix, ordered as golang.org/x/mod/semver.Compare orders them; an invalid
// version is less than every valid one, and two invalid ones are equal.
func less(v1, v2 string) bool { return compare(parse(v1), parse(v2)) < 0 }

type version struct {
	ok                  bool
	major, minor, patch string
	pre                 string
}

func parse(s string) version {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "v"), "go")
	if i := strings.IndexByte(s, '+'); i >= 0 {
		s = s[:i]
	}
	var v version
	if i := strings.IndexByte(s, '-'); i >= 0 {
		s, v.pre = s[:i], s[i+1:]
		if v.pre == "" {
			return version{}
		}
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return version{}
	}
	for _, p := range parts {
		if !numeric(p) || (len(p) > 1 && p[0] == '0') {
			return version{}
		}
	}
	v.ok, v.major, v.minor, v.patch = true, parts[0], parts[1], parts[2]
	return v
}

func numeric(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func compare(a, b version) int {
	switch {
	case !a.ok && !b.ok:
		return 0
	case !a.ok:
		return -1
	case !b.ok:
		return 1
	}
	for _, p := range [][2]string{{a.major, b.major}, {a.minor, b.minor}, {a.patch, b.patch}} {
		if c := compareNum(p[0], p[1]); c != 0 {
			return c
		}
	}
	return comparePre(a.pre, b.pre)
}

func compareNum(x, y string) int {
	if len(x) != len(y) {
		if len(x) < len(y) {
			return -1
		}
		return 1
	}
	return strings.Compare(x, y)
}

// comparePre orders pre-release strings by semver's rules: none sorts after
// any; identifiers compare numerically when both are numbers, numbers before
// words, and a shorter list first when one is a prefix of the other.
func comparePre(x, y string) int {
	switch {
	case x == y:
		return 0
	case x == "":
		return 1
	case y == "":
		return -1
	}
	xs, ys := strings.Split(x, "."), strings.Split(y, ".")
	for i := 0; i < len(xs) && i < len(ys); i++ {
		a, b := xs[i], ys[i]
		if a == b {
			continue
		}
		an, bn := numeric(a), numeric(b)
		switch {
		case an && bn:
			return compareNum(a, b)
		case an:
			return -1
		case bn:
			return 1
		default:
			return strings.Compare(a, b)
		}
	}
	return compareNum(strings.Repeat("x", len(xs)), strings.Repeat("x", len(ys)))
}
