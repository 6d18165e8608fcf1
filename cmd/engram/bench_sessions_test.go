package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/contracttest"
)

func TestBenchSessionsSmallRun(t *testing.T) {
	addr := contracttest.BackendAddr(t, contracttest.Valkey)
	if !strings.Contains(addr, "://") {
		addr = "redis://" + addr
	}
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"bench-sessions", "--valkey-url", addr,
		"--ops", "200", "--append-events", "1000", "--memories", "500", "--context-runs", "20", "--session-events", "120"}, &out, &errOut)
	require.NoError(t, err, errOut.String())
	s := out.String()
	for _, want := range []string{
		`PING\s+[\d.]+`, `replay SET NX PXAT\s+[\d.]+`, `rate limit \(Lua\)\s+[\d.]+`,
		`session append, pipelined: 1000 events .*: \d+ events/s`,
		`loaded 500 memories`, `context assembly: 20 runs, session of 120 events`, `p95 [\d.]+ ms`,
		`cleanup: deleted \d+ keys`,
	} {
		require.Regexp(t, regexp.MustCompile(want), s)
	}
	require.NotContains(t, s, "cleanup: deleted 0 keys", "the run wrote keys and must remove them")

	err = run(context.Background(), []string{"bench-sessions", "--ops", "1"}, &out, &errOut)
	require.Error(t, err)
}
