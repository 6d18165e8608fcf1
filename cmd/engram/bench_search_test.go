package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBenchSearchSmoke(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"bench", "search", "--user-memories", "300", "--total", "600",
		"--per-other-user", "150", "--duration", "50ms"}, &out, &out)
	require.NoError(t, err, out.String())
	s := out.String()
	require.Contains(t, s, "ingest with indexing")
	require.Contains(t, s, "600 memories")
	for _, line := range []string{"search hybrid", "search lexical", "search vector"} {
		require.Equal(t, 2, strings.Count(s, line), "concurrency 1 and 8 for %s:\n%s", line, s)
	}
	require.NotContains(t, s, "err=1")
	require.Error(t, run(context.Background(), []string{"bench", "search", "--user-memories", "10", "--total", "5"}, &out, &out))
}

func TestBenchSearchConversational(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"bench", "search", "--user-memories", "300", "--total", "600",
		"--per-other-user", "150", "--duration", "50ms", "--conv", "../../testdata/conv"}, &out, &out)
	require.NoError(t, err, out.String())
	require.Contains(t, out.String(), "search hybrid")
	require.NotContains(t, out.String(), "err=1")
	require.Error(t, run(context.Background(), []string{"bench", "search", "--conv", "no/such/dir"}, &out, &out))
}
