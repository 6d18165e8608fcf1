package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// dockerfileRuntime reads the final stage of the Dockerfile: its ENV
// settings and its ENTRYPOINT arguments (exec form).
func dockerfileRuntime(t *testing.T) (env map[string]string, args []string) {
	t.Helper()
	f, err := os.Open("../../Dockerfile")
	require.NoError(t, err)
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	cont := ""
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasSuffix(l, "\\") {
			cont += strings.TrimSuffix(l, "\\") + " "
			continue
		}
		lines = append(lines, cont+l)
		cont = ""
	}
	env = map[string]string{}
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "FROM "):
			env, args = map[string]string{}, nil // a new stage
		case strings.HasPrefix(l, "ENV "):
			for _, kv := range strings.Fields(strings.TrimPrefix(l, "ENV ")) {
				k, v, ok := strings.Cut(kv, "=")
				require.True(t, ok, "ENV %q: only KEY=VALUE is parsed here", kv)
				env[k] = v
			}
		case strings.HasPrefix(l, "ENTRYPOINT "):
			require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(l, "ENTRYPOINT ")), &args))
		case strings.HasPrefix(l, "CMD "):
			var more []string
			require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(l, "CMD ")), &more))
			args = append(args, more...)
		}
	}
	require.NotEmpty(t, args, "the final stage has an ENTRYPOINT")
	return env, args
}

// The image's own defaults give a clear outcome: the built binary, run with
// exactly the Dockerfile's ENV and ENTRYPOINT, refuses at once, naming the
// settings that make it start (an identity provider, or the demo switch),
// instead of an unexplained exit.
func TestContainerDefaultsGiveAClearOutcome(t *testing.T) {
	if testing.Short() {
		t.Skip("builds engramd")
	}
	env, args := dockerfileRuntime(t)
	require.Equal(t, "/usr/local/bin/engramd", args[0])
	bin := builtEngramd(t)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args[1:]...)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "engramd must exit with an error, not run: %s", out)
	require.Equal(t, 1, exit.ExitCode(), "%s", out)
	msg := string(out)
	require.Contains(t, msg, "ENGRAM_AUTH_JWKS_URL", msg)
	require.Contains(t, msg, "ENGRAM_INSECURE_LOCAL_KEY=true", msg)
	require.NotContains(t, env, "ENGRAM_ADMIN_ADDR", "the image keeps the admin listener on loopback")
}

// engramdBuild is engramd built once per test run as users build it:
// without the race detector this test binary carries.
var engramdBuild struct {
	once sync.Once
	dir  string
	out  []byte
	err  error
}

// builtEngramd returns the path of that binary, building it on first use.
func builtEngramd(t *testing.T) string {
	t.Helper()
	engramdBuild.once.Do(func() {
		engramdBuild.dir, engramdBuild.err = os.MkdirTemp("", "engramd-build-")
		if engramdBuild.err == nil {
			engramdBuild.out, engramdBuild.err = exec.Command("go", "build", "-o", filepath.Join(engramdBuild.dir, "engramd"), ".").CombinedOutput()
		}
	})
	require.NoError(t, engramdBuild.err, "%s", engramdBuild.out)
	return filepath.Join(engramdBuild.dir, "engramd")
}
