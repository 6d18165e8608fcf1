package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWithRequestIDAddsTheID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(WithRequestID(slog.NewJSONHandler(&buf, nil))).With("component", "app")
	ctx := context.WithValue(context.Background(), requestIDKey{}, "req-7")

	log.WarnContext(ctx, "access log: record failed")
	log.InfoContext(ctx, "already named", "request_id", "req-7")
	log.Info("no request")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 3)
	var l map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &l))
	require.Equal(t, "req-7", l["request_id"])
	require.Equal(t, "app", l["component"])
	require.Equal(t, 1, strings.Count(lines[1], "request_id"), "not added twice")
	require.NotContains(t, lines[2], "request_id")
}
