package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/engram-memory/engram/adapters/archive"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/ports"
)

func init() {
	register("migrate-data", command{
		summary: "copy every row from one store to another (SQLite <-> PostgreSQL), verified per table and org",
		run:     runMigrateData,
	})
}

func runMigrateData(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate-data", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "source: an SQLite data directory or a postgres:// URL")
	to := fs.String("to", "", "target: an SQLite data directory or a postgres:// URL (must be empty, or this migration's unfinished target)")
	batch := fs.Int("batch", 1000, "rows per transaction")
	rollback := fs.Bool("rollback", false, "empty the unfinished target given by --to and clear its mark")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *to == "" || (*from == "" && !*rollback) || fs.NArg() > 0 {
		return errors.New("migrate-data: usage: engram migrate-data --from SRC --to DST [--batch N] | --rollback --to DST")
	}
	dst, err := openLocation(ctx, *to, getenv)
	if err != nil {
		return fmt.Errorf("migrate-data: --to: %w", err)
	}
	defer dst.Close()
	if *rollback {
		if err := dst.Migration.RollbackMigration(ctx); err != nil {
			return fmt.Errorf("migrate-data: rollback: %w", err)
		}
		fmt.Fprintf(stdout, "rolled back: %s is empty and unmarked\n", describeLocation(*to))
		return nil
	}
	src, err := openLocation(ctx, *from, getenv)
	if err != nil {
		return fmt.Errorf("migrate-data: --from: %w", err)
	}
	defer src.Close()
	if _, _, ok, err := src.Migration.MigrationInProgress(ctx); err != nil || ok {
		return fmt.Errorf("migrate-data: the source is itself an unfinished migration target: %v", err)
	}
	desc := describeLocation(*from)
	marked, since, ok, err := dst.Migration.MigrationInProgress(ctx)
	switch {
	case err != nil:
		return fmt.Errorf("migrate-data: %w", err)
	case ok && marked != desc:
		return fmt.Errorf("migrate-data: the target is an unfinished migration from %s, not %s: finish that one or --rollback", marked, desc)
	case ok:
		fmt.Fprintf(stderr, "resuming the unfinished migration from %s%s\n", desc, resumePoint(ctx, dst))
	default:
		if table, empty, err := storeEmpty(ctx, dst.Source); err != nil {
			return fmt.Errorf("migrate-data: %w", err)
		} else if !empty {
			return fmt.Errorf("migrate-data: the target is not empty (it has %s rows)", table)
		}
		since = time.Now()
		if err := dst.Migration.BeginMigration(ctx, desc, since); err != nil {
			return fmt.Errorf("migrate-data: %w", err)
		}
	}
	start := time.Now()
	reports, err := archive.Copy(ctx, src.Source, dst.Sink, archive.CopyOptions{BatchSize: *batch, Progress: newProgress(stderr),
		Checkpoint: dst.Checkpoint})
	if err != nil && ctx.Err() != nil {
		// Interrupted: the store's error is only the cancelled statement
		// ("postgres unavailable" would send the operator looking for an
		// outage that is not there).
		return fmt.Errorf("migrate-data: interrupted, the target stays marked unfinished; run the same command again to resume: %w", context.Cause(ctx))
	}
	if err != nil {
		return fmt.Errorf("migrate-data: copy stopped, the target stays marked unfinished (run again to resume): %w", err)
	}
	fmt.Fprintln(stderr)
	if err := verifyCopy(ctx, src, dst, stdout); err != nil {
		// The rows that differ may lie before the checkpoint (the source
		// was written to during the copy): marking again clears the
		// positions and keeps the mark, so the next run reads everything
		// and skips what is there rather than resume past them forever.
		if merr := dst.Migration.BeginMigration(ctx, desc, since); merr != nil {
			return fmt.Errorf("%w; clearing the checkpoint also failed: %w", err, merr)
		}
		return err
	}
	if err := dst.Migration.EndMigration(ctx); err != nil {
		return fmt.Errorf("migrate-data: %w", err)
	}
	var rows, before int64
	for _, r := range reports {
		fmt.Fprintf(stdout, "  %-24s %10d rows (%d copied now, %d there already", r.Table, r.Rows, r.Inserted, r.Skipped)
		if r.Checkpointed > 0 {
			fmt.Fprintf(stdout, ", %d copied before the checkpoint and not read again", r.Checkpointed)
		}
		fmt.Fprintln(stdout, ")")
		rows += r.Rows
		before += r.Checkpointed
	}
	took := time.Since(start)
	fmt.Fprintf(stdout, "migrated %d rows in %s (%.0f rows/s", rows, took.Round(time.Millisecond), float64(rows-before)/max(took.Seconds(), 1e-9))
	if before > 0 {
		fmt.Fprintf(stdout, ", %d of them by the interrupted run", before)
	}
	fmt.Fprintln(stdout, "); every table of every org verified (rows and SHA-256)")
	return nil
}

// resumePoint says where a resumed copy starts: the last table with a
// position, and how many rows are in.
func resumePoint(ctx context.Context, dst wiring.ArchiveBackend) string {
	if dst.Checkpoint == nil {
		return ""
	}
	pos, err := dst.Checkpoint.CopyPositions(ctx)
	if err != nil || len(pos) == 0 {
		return " (no checkpoint: from the first row, skipping what is there)"
	}
	var rows int64
	last := ""
	for _, t := range ports.ArchiveTables {
		if p, ok := pos[t.Name]; ok {
			rows += p.Copied
			last = t.Name
		}
	}
	return fmt.Sprintf(" after its checkpoint (%d rows in, up to %s of org %q)", rows, last, pos[last].Org)
}

// verifyCopy is the MigrationVerifier: every table of every org must have
// the same rows and checksum on both sides.
func verifyCopy(ctx context.Context, src, dst wiring.ArchiveBackend, stdout io.Writer) error {
	want, err := archive.Digests(ctx, src.Source)
	if err != nil {
		return fmt.Errorf("migrate-data: verify: read source: %w", err)
	}
	got, err := archive.Digests(ctx, dst.Source)
	if err != nil {
		return fmt.Errorf("migrate-data: verify: read target: %w", err)
	}
	bad := archive.Compare(want, got)
	for _, m := range bad {
		fmt.Fprintf(stdout, "MISMATCH %s org %q: source %d rows %.12s, target %d rows %.12s\n",
			m.Table, m.Org, m.Want.Rows, m.Want.SHA256, m.Got.Rows, m.Got.SHA256)
	}
	if len(bad) > 0 {
		return fmt.Errorf("migrate-data: %d table/org pairs differ (was the source written to during the copy?); the target stays marked unfinished: run again, or --rollback", len(bad))
	}
	return nil
}

// openLocation opens a data directory or a PostgreSQL URL as a store. The
// ENGRAM_* store variables are ignored: the location says it all.
func openLocation(ctx context.Context, loc string, getenv func(string) string) (wiring.ArchiveBackend, error) {
	args := []string{"--data-dir", loc}
	if isPostgresURL(loc) {
		args = []string{"--postgres-url", loc}
	}
	cfg, err := config.Load(args, func(k string) string {
		if k == "ENGRAM_POSTGRES_URL" || k == "ENGRAM_DATA_DIR" {
			return ""
		}
		return getenv(k)
	})
	if err != nil {
		return wiring.ArchiveBackend{}, err
	}
	return wiring.OpenArchiveStore(ctx, cfg)
}

func isPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// describeLocation names a location for the target's mark, without a
// password.
func describeLocation(loc string) string {
	if !isPostgresURL(loc) {
		return "sqlite:" + loc
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "postgres"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	return u.String()
}

// newProgress draws a bar with rate and ETA on a terminal and prints a
// plain line every few seconds otherwise (logs, CI).
func newProgress(w io.Writer) func(table string, done, total int64) {
	f, isFile := w.(*os.File)
	tty := isFile && term.IsTerminal(int(f.Fd()))
	start, last := time.Now(), time.Time{}
	var base int64 // rows of finished tables, for the overall rate
	cur := ""
	var curDone int64
	return func(table string, done, total int64) {
		if table != cur {
			base += curDone
			cur = table
		}
		curDone = done
		if !tty && time.Since(last) < 2*time.Second && done < total {
			return
		}
		last = time.Now()
		rate := float64(base+done) / max(time.Since(start).Seconds(), 1e-9)
		eta := time.Duration(float64(total-done) / max(rate, 1e-9) * float64(time.Second)).Round(time.Second)
		pct := 100 * float64(done) / float64(max(total, 1))
		if tty {
			n := int(pct / 5)
			fmt.Fprintf(w, "\r[%s%s] %-22s %d/%d %3.0f%% %.0f rows/s ETA %s   ", strings.Repeat("#", n), strings.Repeat("-", 20-n), table, done, total, pct, rate, eta)
			return
		}
		fmt.Fprintf(w, "migrate-data: %s %d/%d rows (%.0f%%), %.0f rows/s, ETA %s\n", table, done, total, pct, rate, eta)
	}
}
