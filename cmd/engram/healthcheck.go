package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"
)

// healthcheck exists for container HEALTHCHECKs on images without curl.
func init() {
	register("healthcheck", command{
		summary: "exit 0 when engramd answers 200 at --url (for container health checks)",
		run: func(ctx context.Context, args []string, _ func(string) string, stdout, stderr io.Writer) error {
			fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
			fs.SetOutput(stderr)
			url := fs.String("url", "http://127.0.0.1:8765/healthz", "URL to probe")
			timeout := fs.Duration("timeout", 3*time.Second, "deadline")
			if err := fs.Parse(args); err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(ctx, *timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
			if err != nil {
				return err
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return fmt.Errorf("healthcheck: %w", err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("healthcheck: %s answered %d", *url, resp.StatusCode)
			}
			fmt.Fprintln(stdout, "ok")
			return nil
		},
	})
}
