package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/engram-memory/engram/adapters/archive"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/wiring"
)

// Exit codes of `engram backup verify`, distinct so that a cron job or a
// Kubernetes CronJob can alert on each.
const (
	exitVerifyMissing  = 2 // no file
	exitVerifyStale    = 3 // older than --max-age
	exitVerifySize     = 4 // smaller than --min-size
	exitVerifyCorrupt  = 5 // manifest, checksum, count or a row refused
	exitVerifyRestore  = 6 // the trial restore differs from the manifest
	exitVerifyInternal = 7 // the check itself could not run (scratch store, disk)
)

// exitError carries a process exit code up to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// verifyResult is the --json output and the source of the metrics file.
type verifyResult struct {
	File       string              `json:"file"`
	OK         bool                `json:"ok"`
	Check      string              `json:"failed_check,omitempty"`
	Error      string              `json:"error,omitempty"`
	SizeBytes  int64               `json:"size_bytes"`
	CreatedAt  *time.Time          `json:"created_at,omitempty"`
	AgeSeconds float64             `json:"age_seconds"`
	Tables     []verifyTable       `json:"tables"`
	Restore    *verifyRestoreStats `json:"trial_restore,omitempty"`
	Took       float64             `json:"took_seconds"`
	code       int
}

type verifyTable struct {
	Table  string `json:"table"`
	Rows   int64  `json:"rows"`
	SHA256 string `json:"sha256"`
}

type verifyRestoreStats struct {
	Store   string  `json:"store"`
	Seconds float64 `json:"seconds"`
}

func runBackupVerify(ctx context.Context, args []string, _ func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	maxAge := fs.Duration("max-age", 0, "fail when the backup is older than this (e.g. 26h); 0 skips the check")
	minSize := fs.Int64("min-size", 1, "fail when the file is smaller than this many bytes")
	trial := fs.Bool("trial-restore", true, "restore into a scratch SQLite store and compare counts and checksums")
	scratch := fs.String("scratch-dir", "", "where the scratch store goes (default a temporary directory)")
	scratchPG := fs.String("scratch-postgres", "", "restore into a scratch schema of this PostgreSQL database instead of a scratch SQLite store (created and dropped; the role needs CREATE)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	metrics := fs.String("metrics-file", "", "write Prometheus textfile metrics here (node_exporter's textfile collector)")
	if err := interleaved(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("backup verify: usage: engram backup verify FILE [--max-age 26h] [--json] [--metrics-file F]")
	}
	start := time.Now()
	target := scratchTarget{dir: *scratch, postgres: *scratchPG}
	res := verifyBackup(ctx, fs.Arg(0), *maxAge, *minSize, *trial, target, start)
	res.Took = time.Since(start).Seconds()
	if *metrics != "" {
		if err := writeVerifyMetrics(*metrics, res, start); err != nil {
			fmt.Fprintf(stderr, "backup verify: metrics file: %v\n", err)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
	} else {
		printVerify(stdout, res)
	}
	if !res.OK {
		return &exitError{code: res.code, err: fmt.Errorf("backup verify: %s: %s", res.Check, res.Error)}
	}
	return nil
}

// scratchTarget is where a trial restore goes: a new schema of the
// PostgreSQL database at postgres when set, otherwise a fresh SQLite store
// in a temporary directory under dir ("" for the system's).
type scratchTarget struct{ dir, postgres string }

func (s scratchTarget) store() string {
	if s.postgres != "" {
		return "postgres"
	}
	return "sqlite"
}

func verifyBackup(ctx context.Context, file string, maxAge time.Duration, minSize int64, trial bool, scratch scratchTarget, now time.Time) verifyResult {
	res := verifyResult{File: file, Tables: []verifyTable{}}
	fail := func(code int, check string, err error) verifyResult {
		res.OK, res.code, res.Check, res.Error = false, code, check, err.Error()
		return res
	}
	st, err := os.Stat(file)
	if err != nil {
		return fail(exitVerifyMissing, "exists", err)
	}
	res.SizeBytes = st.Size()
	if st.Size() < minSize {
		return fail(exitVerifySize, "size", fmt.Errorf("%d bytes, less than --min-size %d", st.Size(), minSize))
	}
	m, _, err := archive.Verify(file, archive.Limits{})
	if m.CreatedAt.IsZero() && err == nil {
		err = errors.New("the manifest has no created_at")
	}
	if !m.CreatedAt.IsZero() {
		created := m.CreatedAt
		res.CreatedAt = &created
		res.AgeSeconds = now.Sub(created).Seconds()
	}
	for _, x := range m.Members {
		res.Tables = append(res.Tables, verifyTable{Table: x.Table, Rows: x.Rows, SHA256: x.SHA256})
	}
	if err != nil {
		return fail(exitVerifyCorrupt, "integrity", err)
	}
	if maxAge > 0 && now.Sub(m.CreatedAt) > maxAge {
		return fail(exitVerifyStale, "freshness", fmt.Errorf("made %s ago, older than --max-age %s", now.Sub(m.CreatedAt).Round(time.Second), maxAge))
	}
	if trial {
		t0 := time.Now()
		code, err := trialRestore(ctx, file, m, scratch)
		res.Restore = &verifyRestoreStats{Store: scratch.store(), Seconds: time.Since(t0).Seconds()}
		if err != nil {
			return fail(code, "trial restore", err)
		}
	}
	res.OK = true
	return res
}

// trialRestore restores file into a fresh scratch store (SQLite, or a
// PostgreSQL schema created for it and dropped after), exports that store
// again and compares every table's rows and checksum with the manifest:
// only a backup that restores to the same data passes.
func trialRestore(ctx context.Context, file string, want archive.Manifest, scratch scratchTarget) (int, error) {
	var be wiring.ArchiveBackend
	if scratch.postgres != "" {
		loc, drop, err := wiring.ScratchPostgresSchema(ctx, scratch.postgres)
		if err != nil {
			return exitVerifyInternal, err
		}
		defer func() { _ = drop(context.WithoutCancel(ctx)) }()
		if be, err = openLocation(ctx, loc, func(string) string { return "" }); err != nil {
			return exitVerifyInternal, err
		}
	} else {
		dir, err := os.MkdirTemp(scratch.dir, "engram-verify-*")
		if err != nil {
			return exitVerifyInternal, err
		}
		defer os.RemoveAll(dir)
		cfg, err := config.Load([]string{"--data-dir", dir}, func(string) string { return "" })
		if err != nil {
			return exitVerifyInternal, err
		}
		if be, err = wiring.OpenArchiveStore(ctx, cfg); err != nil {
			return exitVerifyInternal, err
		}
	}
	defer be.Close()
	if _, err := archive.ImportFile(ctx, be.Sink, file, archive.ImportOptions{BatchSize: 5000, Checked: true}); err != nil {
		return exitVerifyRestore, err
	}
	got, err := archive.Export(ctx, be.Source, io.Discard, archive.ExportOptions{Profile: be.Profile, SumsOnly: true})
	if err != nil {
		return exitVerifyInternal, err
	}
	for _, w := range want.Members {
		if w.Table == archive.VectorsTable {
			// Derived, not restored into the store: archive.Verify has
			// checked its rows, checksum and every line already.
			continue
		}
		g, ok := got.Member(w.Table)
		switch {
		case !ok:
			return exitVerifyRestore, fmt.Errorf("%s: not restored", w.Table)
		case g.Rows != w.Rows:
			return exitVerifyRestore, fmt.Errorf("%s: %d rows restored, the manifest says %d", w.Table, g.Rows, w.Rows)
		case g.SHA256 != w.SHA256:
			return exitVerifyRestore, fmt.Errorf("%s: the restored rows' checksum differs from the manifest's", w.Table)
		}
	}
	return 0, nil
}

func printVerify(w io.Writer, r verifyResult) {
	status := "OK"
	if !r.OK {
		status = "FAILED (" + r.Check + ")"
	}
	fmt.Fprintf(w, "backup %s: %s\n", r.File, status)
	if r.CreatedAt != nil {
		fmt.Fprintf(w, "  made %s (%s ago), %d bytes\n", r.CreatedAt.Format(time.RFC3339), time.Duration(r.AgeSeconds*float64(time.Second)).Round(time.Second), r.SizeBytes)
	}
	for _, t := range r.Tables {
		fmt.Fprintf(w, "  %-24s %10d rows\n", t.Table, t.Rows)
	}
	if r.Restore != nil && r.OK {
		fmt.Fprintf(w, "  trial restore into scratch %s: counts and checksums match (%.1fs)\n", r.Restore.Store, r.Restore.Seconds)
	}
	if !r.OK {
		fmt.Fprintf(w, "  error: %s\n", r.Error)
	}
}

// writeVerifyMetrics writes a Prometheus textfile atomically. The last
// success time survives a failed run (read back from the previous file),
// so an alert can say "no good backup for N hours".
func writeVerifyMetrics(path string, r verifyResult, now time.Time) error {
	lastOK := previousMetric(path, "engram_backup_verify_last_success_timestamp_seconds")
	if r.OK {
		lastOK = float64(now.Unix())
	}
	ok := 0
	if r.OK {
		ok = 1
	}
	var b []byte
	add := func(format string, args ...any) { b = fmt.Appendf(b, format, args...) }
	add("# HELP engram_backup_verify_success Whether the last engram backup verify passed.\n# TYPE engram_backup_verify_success gauge\n")
	add("engram_backup_verify_success %d\n", ok)
	add("# HELP engram_backup_verify_exit_code Exit code of the last run (0 ok, 2 missing, 3 stale, 4 size, 5 corrupt, 6 restore, 7 internal).\n# TYPE engram_backup_verify_exit_code gauge\n")
	add("engram_backup_verify_exit_code %d\n", r.code)
	add("# HELP engram_backup_verify_last_run_timestamp_seconds When verification last ran.\n# TYPE engram_backup_verify_last_run_timestamp_seconds gauge\n")
	add("engram_backup_verify_last_run_timestamp_seconds %d\n", now.Unix())
	add("# HELP engram_backup_verify_last_success_timestamp_seconds When verification last passed.\n# TYPE engram_backup_verify_last_success_timestamp_seconds gauge\n")
	add("engram_backup_verify_last_success_timestamp_seconds %.0f\n", lastOK)
	add("# HELP engram_backup_age_seconds Age of the verified backup.\n# TYPE engram_backup_age_seconds gauge\n")
	add("engram_backup_age_seconds %.0f\n", r.AgeSeconds)
	add("# HELP engram_backup_size_bytes Size of the verified backup.\n# TYPE engram_backup_size_bytes gauge\n")
	add("engram_backup_size_bytes %d\n", r.SizeBytes)
	add("# HELP engram_backup_rows Rows per table in the verified backup.\n# TYPE engram_backup_rows gauge\n")
	for _, t := range r.Tables {
		add("engram_backup_rows{table=%q} %d\n", t.Table, t.Rows)
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func previousMetric(path, name string) float64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	var v float64
	for _, line := range splitLines(string(b)) {
		if _, err := fmt.Sscanf(line, name+" %g", &v); err == nil {
			return v
		}
	}
	return 0
}
