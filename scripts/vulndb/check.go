package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// message is the part of govulncheck's JSON stream (protocol v1.0.0) the
// check reads.
type message struct {
	Config *struct {
		ScannerVersion string     `json:"scanner_version"`
		DB             string     `json:"db"`
		DBLastModified *time.Time `json:"db_last_modified"`
		GoVersion      string     `json:"go_version"`
	} `json:"config"`
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
	Finding *struct {
		OSV          string `json:"osv"`
		FixedVersion string `json:"fixed_version"`
		Trace        []struct {
			Module   string `json:"module"`
			Version  string `json:"version"`
			Package  string `json:"package"`
			Function string `json:"function"`
			Receiver string `json:"receiver"`
			Position *struct {
				Filename string `json:"filename"`
				Line     int    `json:"line"`
			} `json:"position"`
		} `json:"trace"`
	} `json:"finding"`
}

// checkMain prints the database govulncheck used and every vulnerability
// reachable from our code, and returns 1 when one of them is not accepted,
// or when the stream holds no config (govulncheck did not run).
func checkMain(args []string, in io.Reader, out io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	acceptFile := fs.String("accept", "", "file of accepted vulnerability ids: one \"ID reason...\" a line, # comments")
	_ = fs.Parse(args)
	accepted := map[string]string{}
	if *acceptFile != "" {
		var err error
		if accepted, err = readAccepted(*acceptFile); err != nil {
			fmt.Fprintln(out, "vulndb check:", err)
			return 1
		}
	}
	return check(in, out, accepted)
}

func readAccepted(name string) (map[string]string, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason, _ := strings.Cut(line, " ")
		if strings.TrimSpace(reason) == "" {
			return nil, fmt.Errorf("%s:%d: %s is accepted without a reason", name, i+1, id)
		}
		m[id] = strings.TrimSpace(reason)
	}
	return m, nil
}

type reach struct {
	id, summary, module, version, fixed, via string
}

func check(in io.Reader, out io.Writer, accepted map[string]string) int {
	dec := json.NewDecoder(bufio.NewReader(in))
	summaries := map[string]string{}
	found := map[string]*reach{}
	sawConfig := false
	for {
		var m message
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			fmt.Fprintln(out, "vulndb check: reading govulncheck's output:", err)
			return 1
		}
		switch {
		case m.Config != nil:
			sawConfig = true
			date := "unknown"
			if m.Config.DBLastModified != nil {
				date = m.Config.DBLastModified.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(out, "govulncheck %s, %s: database %s, modified %s\n", m.Config.ScannerVersion, m.Config.GoVersion, m.Config.DB, date)
		case m.OSV != nil:
			summaries[m.OSV.ID] = m.OSV.Summary
		case m.Finding != nil && len(m.Finding.Trace) > 0 && m.Finding.Trace[0].Function != "":
			// A trace whose innermost frame names a function: the
			// vulnerable symbol is reachable from our code.
			f := m.Finding
			if found[f.OSV] != nil {
				continue
			}
			r := &reach{id: f.OSV, module: f.Trace[0].Module, version: f.Trace[0].Version, fixed: f.FixedVersion}
			last := f.Trace[len(f.Trace)-1]
			r.via = last.Package + "." + last.Function
			if last.Position != nil {
				r.via += fmt.Sprintf(" (%s:%d)", last.Position.Filename, last.Position.Line)
			}
			found[f.OSV] = r
		}
	}
	if !sawConfig {
		fmt.Fprintln(out, "vulndb check: no govulncheck config in the output: govulncheck did not run")
		return 1
	}
	ids := make([]string, 0, len(found))
	for id := range found {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	failed := 0
	for _, id := range ids {
		r := found[id]
		fixed := r.fixed
		if fixed == "" {
			fixed = "no fix"
		}
		verdict := "REACHABLE"
		if reason, ok := accepted[id]; ok {
			verdict = "accepted (" + reason + ")"
		} else {
			failed++
		}
		fmt.Fprintf(out, "%s %s: %s\n    %s@%s, fixed in: %s; called from %s\n", verdict, id, summaries[id], r.module, r.version, fixed, r.via)
	}
	for id := range accepted {
		if found[id] == nil {
			fmt.Fprintf(out, "note: %s is accepted but no longer found; remove it from the accepted list\n", id)
		}
	}
	if failed > 0 {
		fmt.Fprintf(out, "FAIL govulncheck: %d reachable vulnerabilities (of %d found)\n", failed, len(ids))
		return 1
	}
	fmt.Fprintf(out, "ok govulncheck: no reachable vulnerability that is not accepted (%d found, all accepted)\n", len(ids))
	return 0
}
