package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"time"
)

// healthcheckCommand probes a running server's /healthz, for container
// HEALTHCHECKs: the runtime image is distroless, with no shell or curl.
func healthcheckCommand() *command {
	var (
		url     string
		timeout time.Duration
	)
	c := &command{
		name:    "healthcheck",
		summary: "Exit 0 if a running footfall serve answers GET /healthz with 200, else 1. For container health checks.",
		flags:   flag.NewFlagSet("healthcheck", flag.ContinueOnError),
		check:   noArgs,
	}
	c.flags.StringVar(&url, "url", "http://127.0.0.1:8080/healthz", "`URL` to probe")
	c.flags.DurationVar(&timeout, "timeout", 3*time.Second, "give up after this long")
	c.run = func(ctx context.Context, env *runEnv, _ []string) error {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", url, resp.Status)
		}
		fmt.Fprintln(env.stdout, "ok")
		return nil
	}
	return c
}
