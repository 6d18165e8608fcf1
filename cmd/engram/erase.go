package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/domain"
)

func init() {
	register("erase", command{
		summary: "erase a user (--org O --user U) or a whole org (--org O --whole-org) from every store, as an erasure job",
		run:     runErase,
	})
}

// runErase starts (or joins) an erasure job and waits for it. By default
// the running engramd does the work (its worker polls every few seconds):
// only it can reach its in-process sessions and idempotency records.
// --here runs the job in this process instead, for when no server runs or
// every store is shared (PostgreSQL and Valkey).
func runErase(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("erase", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cc := config.ForCommand(fs, getenv, "data-dir", "postgres-url", "valkey-url", "valkey-prefix", "privacy-key")
	org := fs.String("org", "", "org of the subject (required)")
	user := fs.String("user", "", "user to erase")
	wholeOrg := fs.Bool("whole-org", false, "erase every user of --org")
	here := fs.Bool("here", false, "run the job in this process instead of leaving it to engramd")
	wait := fs.Duration("wait", 2*time.Minute, "how long to wait for the job to finish (0: start it and return)")
	actor := fs.String("actor", "operator", "who asks, recorded in the audit trail only as a keyed hash")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 || *org == "" || (*user == "") == !*wholeOrg {
		return errors.New("erase: usage: engram erase --org ORG (--user USER | --whole-org) [--here] [--wait 2m]")
	}
	subj := domain.Subject{OrgID: domain.OrgID(*org), UserID: domain.UserID(*user)}
	if err := subj.Validate(); err != nil {
		return fmt.Errorf("erase: %w", err)
	}
	cfg, err := cc.Load()
	if err != nil {
		return fmt.Errorf("erase: %w", err)
	}
	sys, err := wiring.Build(ctx, cfg, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return fmt.Errorf("erase: %w", err)
	}
	defer func() { _ = sys.Close() }()
	job, joined, err := sys.Privacy.EraseAsOperator(ctx, subj, *actor)
	if err != nil {
		return fmt.Errorf("erase: %w", err)
	}
	if joined {
		fmt.Fprintf(stderr, "joined unfinished erasure %s\n", job.ID)
	} else {
		fmt.Fprintf(stderr, "started erasure %s\n", job.ID)
	}
	job, err = waitErasure(ctx, sys.Privacy, job, *here, *wait, stderr)
	if err := printErasure(stdout, job); err != nil {
		return err
	}
	return err
}

// waitErasure runs (with --here) or watches the job until it is done or
// wait has passed; a failed attempt is retried with backoff, never
// reported as done.
func waitErasure(ctx context.Context, p *app.PrivacyService, job domain.Erasure, here bool, wait time.Duration, stderr io.Writer) (domain.Erasure, error) {
	deadline := time.Now().Add(wait)
	backoff := 500 * time.Millisecond
	for job.Status != domain.ErasureDone {
		if here {
			done, err := p.RunJob(ctx, job)
			if err == nil {
				job = done
				break
			}
			fmt.Fprintf(stderr, "attempt failed, will retry: %v\n", err)
		}
		if wait == 0 || time.Now().Add(backoff).After(deadline) {
			return job, fmt.Errorf("erase: job %s is %s after %s; it resumes on its own (engramd) or with engram erase again", job.ID, job.Status, wait)
		}
		select {
		case <-ctx.Done():
			return job, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
		got, err := p.OperatorErasure(ctx, job.OrgID, job.ID)
		if err != nil {
			return job, fmt.Errorf("erase: %w", err)
		}
		job = got
	}
	// The counts as stored, added by every attempt.
	return p.OperatorErasure(ctx, job.OrgID, job.ID)
}

func printErasure(w io.Writer, e domain.Erasure) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{
		"id": e.ID, "org_id": e.OrgID, "org_wide": e.OrgWide, "status": e.Status, "counts": e.Counts,
		"attempts": e.Attempts, "last_error": e.LastError,
	})
}
