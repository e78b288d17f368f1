// Command loadbench measures Footfall's beacon ingestion against a minimal
// Go server that answers 204, under the same load in the same run.
//
// It builds footfall, registers a site, obtains real consent tokens through
// POST /api/consent, and drives POST /api/event with realistic bodies over
// keep-alive connections, on loopback only. The server runs pinned to one
// core and the load generator (with ClickHouse) to the other, with taskset;
// without taskset it runs unpinned and says so. Each target is measured for
// a bounded time after a warm-up. For Footfall it then stops the server
// with SIGTERM (the graceful shutdown writes what is buffered) and counts
// the events in the store: every accepted event must be there, once.
//
//	go run ./cmd/loadbench                  # baseline, ClickHouse, SQLite
//	make bench-load                         # the same
//	go run ./cmd/loadbench -targets clickhouse -duration 30s -profile cpu.pprof
//
// ClickHouse is a throwaway clickhouse-server on free ports with its own
// data folder (as the tests start it), removed afterwards.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// pinnedEnv marks the re-executed, pinned generator process.
const pinnedEnv = "FOOTFALL_LOADBENCH_PINNED"

type options struct {
	duration    time.Duration
	rounds      int
	warmup      time.Duration
	conns       int
	targets     []string
	serverCPU   string
	loadCPU     string
	durability  string
	profile     string
	keep        bool
	serverEnv   []string
	footfallBin string
	generator   string
	trace       string
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "baseline" {
		if err := serveBaseline(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "loadbench baseline:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	var targets string
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per target, over all rounds")
	flag.IntVar(&o.rounds, "rounds", 2, "rounds the measurement is cut into, each visiting every target in turn")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured load before each measurement")
	flag.IntVar(&o.conns, "conns", 32, "concurrent keep-alive connections")
	flag.StringVar(&o.generator, "generator", "go", "load generator: go (this program's own client, every request's latency) or wrk (Debian's wrk with a Lua body script, one thread; its p50/p99/max)")
	flag.StringVar(&targets, "targets", "baseline,clickhouse,sqlite", "what to measure, in order: baseline, clickhouse, sqlite")
	flag.StringVar(&o.serverCPU, "server-cpu", "0", "CPU list (taskset -c) of the server under test")
	flag.StringVar(&o.loadCPU, "load-cpu", "1", "CPU list of the load generator and of ClickHouse")
	flag.StringVar(&o.durability, "durability", "memory", "footfall serve -durability: memory or fsync")
	flag.StringVar(&o.profile, "profile", "", "write a CPU profile of footfall during each measurement to this `file` (suffixed with the target); builds footfall with -tags pprof")
	flag.StringVar(&o.trace, "trace", "", "write a runtime execution trace of footfall during each first measured round to this `file` (suffixed with the target; read with go tool trace); builds footfall with -tags pprof")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary folder (binaries, logs, stores)")
	var serverEnv string
	flag.StringVar(&serverEnv, "server-env", "", "extra `KEY=VALUE,...` environment of the footfall servers, for experiments (GOGC=200, GOMAXPROCS=2)")
	flag.Parse()
	o.targets = strings.Split(targets, ",")
	if o.generator != "go" && o.generator != "wrk" {
		fmt.Fprintln(os.Stderr, "loadbench: -generator is go or wrk")
		os.Exit(2)
	}
	if _, err := exec.LookPath("wrk"); o.generator == "wrk" && err != nil {
		fmt.Fprintln(os.Stderr, "loadbench: -generator wrk needs wrk (apt-get install wrk)")
		os.Exit(2)
	}
	if serverEnv != "" {
		o.serverEnv = strings.Split(serverEnv, ",")
	}
	if o.rounds < 1 || o.duration/time.Duration(max(1, o.rounds)) < time.Second {
		fmt.Fprintln(os.Stderr, "loadbench: want -rounds of at least 1 and at least 1s of -duration per round")
		os.Exit(2)
	}

	if os.Getenv(pinnedEnv) == "" {
		if path, err := exec.LookPath("taskset"); err == nil {
			// Re-run this program on the generator's core: GOMAXPROCS
			// follows the affinity.
			self, err := os.Executable()
			if err == nil {
				cmd := exec.Command(path, append([]string{"-c", o.loadCPU, self}, os.Args[1:]...)...)
				cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
				cmd.Env = append(os.Environ(), pinnedEnv+"=1")
				signal.Ignore(os.Interrupt) // the child handles it
				if err := cmd.Run(); err != nil {
					var ee *exec.ExitError
					if errors.As(err, &ee) {
						os.Exit(ee.ExitCode())
					}
					fmt.Fprintln(os.Stderr, "loadbench:", err)
					os.Exit(1)
				}
				return
			}
		} else {
			fmt.Println("NOTE: taskset (util-linux) not found: server, generator and ClickHouse run UNPINNED; figures are not comparable with pinned runs")
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}

// pinned prefixes a command line with taskset when this run pins.
func pinned(cpus string, argv ...string) []string {
	if os.Getenv(pinnedEnv) == "" || cpus == "" {
		return argv
	}
	return append([]string{"taskset", "-c", cpus}, argv...)
}

func run(ctx context.Context, o options) error {
	tmp, err := os.MkdirTemp("", "footfall-loadbench-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Println("temporary folder kept:", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	pin := "server on CPU " + o.serverCPU + ", generator and ClickHouse on CPU " + o.loadCPU
	if os.Getenv(pinnedEnv) == "" {
		pin = "UNPINNED (no taskset)"
	}
	fmt.Printf("loadbench: %s generator, %d connections, %s warm-up + %s measured per target in %d interleaved rounds, %s, GOMAXPROCS(generator)=%d, %s/%s, %s, load average %s\n",
		o.generator, o.conns, o.warmup, o.duration, o.rounds, pin, runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version(), loadAverage())

	root, err := moduleRoot()
	if err != nil {
		return err
	}
	o.footfallBin = filepath.Join(tmp, "footfall")
	build := []string{"build", "-o", o.footfallBin}
	if o.profile != "" || o.trace != "" {
		build = append(build, "-tags", "pprof")
	}
	fmt.Println("building footfall ...")
	if err := goCmd(root, append(build, "./cmd/footfall")...); err != nil {
		return err
	}

	var targets []*target
	defer func() {
		for _, t := range targets {
			t.close()
		}
	}()
	for _, name := range o.targets {
		var t *target
		var err error
		switch name {
		case "baseline":
			t, err = startBaseline(ctx, o, tmp)
		case "clickhouse":
			t, err = startClickHouseTarget(ctx, o, tmp)
		case "sqlite":
			t, err = startFootfall(ctx, o, tmp, "sqlite", "sqlite:"+filepath.Join(tmp, "sqlite", "footfall.db"))
		default:
			return fmt.Errorf("-targets: unknown target %q (want baseline, clickhouse or sqlite)", name)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		targets = append(targets, t)
	}

	// All servers run from here on, idle but for the one under load. The
	// measurement is cut into rounds that visit every target in turn, so
	// a change in the machine's speed during the run (other work, the
	// host's) affects each target alike.
	slice := o.duration / time.Duration(o.rounds)
	for r := range o.rounds {
		fmt.Printf("round %d/%d:", r+1, o.rounds)
		for _, t := range targets {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			warmup := time.Duration(0)
			if r == 0 {
				warmup = o.warmup
			}
			var profileDone chan error
			if (o.profile != "" || o.trace != "") && r == 0 && t.dsn != "" {
				profileDone = make(chan error, 1)
				go func() {
					time.Sleep(warmup)
					if o.trace != "" {
						profileDone <- saveURL(fmt.Sprintf("http://%s/debug/pprof/trace?seconds=%d", t.addr, max(1, int(slice.Seconds()))), o.trace+"."+t.name)
						return
					}
					profileDone <- saveProfile("http://"+t.addr, o.profile+"."+t.name, slice)
				}()
			}
			var store *process
			if t.ch != nil {
				store = t.ch.p
			}
			var l load
			if o.generator == "wrk" {
				var err error
				if l, err = driveWrk(ctx, tmp, t, o.conns, warmup, slice); err != nil {
					return fmt.Errorf("%s: %w", t.name, err)
				}
			} else {
				l = drive(ctx, t.addr, t.p, store, t.reqs, o.conns, warmup, slice)
			}
			fmt.Printf("  %s %.0f req/s", t.name, l.rate())
			t.load = t.load.merge(l)
			if profileDone != nil {
				if err := <-profileDone; err != nil {
					fmt.Printf(" (profile: %v)", err)
				}
				if o.profile != "" {
					if err := saveURL("http://"+t.addr+"/debug/pprof/allocs", o.profile+"."+t.name+".allocs"); err != nil {
						fmt.Printf(" (allocation profile: %v)", err)
					}
				}
			}
		}
		fmt.Println()
	}
	if o.profile != "" {
		fmt.Printf("CPU and allocation profiles of footfall's first measured round: %s.<target>[.allocs]\n", o.profile)
	}

	var results []result
	for _, t := range targets {
		res, err := t.finish(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		results = append(results, res)
		res.print(os.Stdout)
	}
	report(os.Stdout, results)
	return nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run loadbench inside the footfall module")
	}
	return filepath.Dir(mod), nil
}

func goCmd(dir string, args ...string) error {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// process is a started server.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has exited
	err    error         // how it exited; read after exited is closed
	log    string
}

func start(logPath string, env []string, argv ...string) (*process, error) {
	out, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, err
	}
	p := &process{cmd: cmd, exited: make(chan struct{}), log: logPath}
	go func() {
		p.err = cmd.Wait()
		out.Close()
		close(p.exited)
	}()
	return p, nil
}

// stop sends SIGTERM and waits up to grace for the exit, then kills. An
// exit by the SIGTERM itself (the baseline has no handler) is a clean one.
func (p *process) stop(grace time.Duration) error {
	select {
	case <-p.exited:
		return p.exitError()
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return p.exitError()
	case <-time.After(grace):
		p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("did not exit within %s of SIGTERM; killed", grace)
	}
}

func (p *process) exitError() error {
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
			return nil
		}
	}
	return p.err
}

// peakRSS is the process's high-water resident set, from /proc.
func (p *process) peakRSS() (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// cpuTime is the CPU time the process has used so far, from /proc (in
// clock ticks of 10ms, the Linux default USER_HZ).
func (p *process) cpuTime() time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) start at ")".
	i := strings.LastIndexByte(string(data), ')')
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// selfCPU is this process's CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAverage is the first field of /proc/loadavg: how busy the machine
// was before this run (other work on it skews the figures).
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(data))[0]
}

func (p *process) tail() string {
	data, _ := os.ReadFile(p.log)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return strings.Join(lines[max(0, len(lines)-15):], "\n")
}

// waitHTTP polls url until it answers 200, the process exits or timeout.
func waitHTTP(ctx context.Context, p *process, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		select {
		case <-p.exited:
			return fmt.Errorf("exited (%v) before %s answered:\n%s", p.err, url, p.tail())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer within %s: %v\n%s", url, timeout, err, p.tail())
		}
	}
}
