package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The wrk generator: Debian's wrk (C, epoll, open connections) posting the
// same raw requests as the Go generator, rotated by a Lua script. The two
// generators see different tails (#22); both are reported.

// wrkScript returns the Lua that sends reqs in turn and prints the
// measurement as one JSON line when wrk is done.
func wrkScript(reqs [][]byte) string {
	var b strings.Builder
	b.WriteString("local reqs = {\n")
	for _, r := range reqs {
		b.WriteString("  \"")
		for _, c := range r {
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c >= 0x20 && c < 0x7f:
				b.WriteByte(c)
			default:
				fmt.Fprintf(&b, "\\%03d", c)
			}
		}
		b.WriteString("\",\n")
	}
	b.WriteString(`}
local i = 0
request = function()
  i = i % #reqs + 1
  return reqs[i]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"errors":%d,"non_2xx":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout, e.status))
end
`)
	return b.String()
}

// wrkResult is the JSON line the script prints.
type wrkResult struct {
	Requests   int   `json:"requests"`
	DurationUS int64 `json:"duration_us"`
	P50US      int64 `json:"p50_us"`
	P99US      int64 `json:"p99_us"`
	MaxUS      int64 `json:"max_us"`
	Errors     int   `json:"errors"`
	Non2xx     int   `json:"non_2xx"`
}

// driveWrk runs wrk with one thread and conns connections: warmup
// unmeasured, then measure, and returns what the measured run saw. The
// latencies are wrk's percentiles, not every request's (tails).
func driveWrk(ctx context.Context, tmp string, t *target, conns int, warmup, measure time.Duration) (load, error) {
	script := filepath.Join(tmp, t.name+".lua")
	if _, err := os.Stat(script); err != nil {
		if err := os.WriteFile(script, []byte(wrkScript(t.reqs)), 0o600); err != nil {
			return load{}, err
		}
	}
	var wrkCPU time.Duration
	run := func(d time.Duration) (wrkResult, error) {
		secs := max(1, int(d.Round(time.Second).Seconds()))
		cmd := exec.CommandContext(ctx, "wrk", "-t1", fmt.Sprintf("-c%d", conns), fmt.Sprintf("-d%ds", secs), "--timeout", "10s",
			"-s", script, "http://"+t.addr+"/api/event")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return wrkResult{}, fmt.Errorf("wrk: %v\n%s", err, out)
		}
		wrkCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		for _, line := range strings.Split(string(out), "\n") {
			if js, ok := strings.CutPrefix(line, "WRKJSON "); ok {
				var r wrkResult
				return r, json.Unmarshal([]byte(js), &r)
			}
		}
		return wrkResult{}, fmt.Errorf("wrk printed no result:\n%s", out)
	}
	if warmup > 0 {
		if _, err := run(warmup); err != nil {
			return load{}, err
		}
	}
	var store *process
	if t.ch != nil {
		store = t.ch.p
	}
	cpu0, store0 := t.p.cpuTime(), storeCPUTime(store)
	r, err := run(measure)
	if err != nil {
		return load{}, err
	}
	elapsed := time.Duration(r.DurationUS) * time.Microsecond
	share := func(d time.Duration) float64 { return d.Seconds() / elapsed.Seconds() }
	l := load{
		elapsed:   elapsed,
		requests:  r.Requests,
		status:    map[int]int{0: r.Non2xx, 2: r.Requests - r.Non2xx},
		errors:    r.Errors,
		serverCPU: share(t.p.cpuTime() - cpu0),
		loadCPU:   share(wrkCPU),
		storeCPU:  share(storeCPUTime(store) - store0),
		tails:     &tails{p50: us(r.P50US), p99: us(r.P99US), max: us(r.MaxUS)},
	}
	return l, nil
}

func us(n int64) time.Duration { return time.Duration(n) * time.Microsecond }

func storeCPUTime(p *process) time.Duration {
	if p == nil {
		return 0
	}
	return p.cpuTime()
}
