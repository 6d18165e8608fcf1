package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
)

// asEngramd is set in the environment of a test binary started as engramd:
// the crash test needs engramd in its own process to SIGKILL it, and
// re-running the test binary needs no separate build.
const asEngramd = "ENGRAM_TEST_RUN_AS_ENGRAMD"

func TestMain(m *testing.M) {
	if os.Getenv(asAttacker) == "1" {
		attackerMain()
		os.Exit(0)
	}
	if os.Getenv(asEngramd) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, nil, os.Getenv, os.Stdout, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "engramd:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	if engramdBuild.dir != "" {
		_ = os.RemoveAll(engramdBuild.dir)
	}
	os.Exit(code)
}
