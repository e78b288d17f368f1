// Package chtest gives tests a real ClickHouse server and a fresh database on
// it.
//
// Call Main from TestMain. The server is, in order of preference:
//
//   - the one at FOOTFALL_TEST_CLICKHOUSE (host:port, native protocol);
//   - a throwaway clickhouse-server started on free ports with its own data
//     folder, on first use, and stopped when the tests end. The binary is
//     FOOTFALL_CLICKHOUSE_SERVER if set, else clickhouse-server on PATH, in
//     /usr/sbin or in /usr/bin.
//
// Without either, NewDatabase skips the test, or fails it when
// FOOTFALL_REQUIRE_CLICKHOUSE=1 (set that in CI so a missing server cannot
// pass silently). A server binary that is found but does not start fails the
// tests, with the end of its logs.
//
// NewCluster starts a throwaway cluster (ZooKeeper and several servers) for
// one test; see cluster.go.
package chtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/footfall/footfall/store/clickhouse"
)

// The environment variables chtest reads.
const (
	envAddr    = "FOOTFALL_TEST_CLICKHOUSE"    // host:port of a server to use instead of starting one
	envServer  = "FOOTFALL_CLICKHOUSE_SERVER"  // path of the clickhouse-server binary to start
	envRequire = "FOOTFALL_REQUIRE_CLICKHOUSE" // "1": fail, not skip, when no server is available
)

const (
	// systemConfig is the packaged config the throwaway server starts from;
	// everything that touches the machine (ports, folders, logs) is
	// overridden on the command line.
	systemConfig = "/etc/clickhouse-server/config.xml"
	// readyTimeout bounds waiting for a started server to answer.
	readyTimeout = 60 * time.Second
	// stopGrace is how long a server gets to exit after SIGTERM before SIGKILL.
	stopGrace = 5 * time.Second
)

// env is the state of one test binary: the server is shared by every test
// of the package, as TestMain is.
var env struct {
	mainCalled bool

	once        sync.Once
	addr        string // host:port in use; "" if none
	unavailable string // why there is no server, if there is none
	startErr    error  // the throwaway server was found but did not start

	mu  sync.Mutex
	srv *server // the throwaway server; nil when using FOOTFALL_TEST_CLICKHOUSE

	skipped atomic.Int64 // tests skipped for want of a server
}

// Main runs the tests of a package and then stops the server chtest started,
// if any. Use it as
//
//	func TestMain(m *testing.M) { os.Exit(chtest.Main(m)) }
func Main(m *testing.M) int {
	flag.Parse()
	env.mainCalled = true
	code := m.Run()
	if n := env.skipped.Load(); n > 0 {
		fmt.Fprintf(os.Stderr, "chtest: %d tests SKIPPED: ClickHouse not available (%s); install clickhouse-server or set %s\n", n, env.unavailable, envAddr)
	}
	env.mu.Lock()
	srv := env.srv
	env.mu.Unlock()
	if srv != nil {
		if err := srv.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "chtest: stop clickhouse-server: %v\n", err)
			code = max(code, 1)
		}
		if err := os.RemoveAll(srv.dir); err != nil {
			fmt.Fprintf(os.Stderr, "chtest: %v\n", err)
			code = max(code, 1)
		}
	}
	return code
}

// Addr returns the host:port of the server the tests use, starting the
// throwaway server if this is the first use, or "" if there is none.
func Addr() string {
	setup()
	return env.addr
}

// Stop stops the throwaway server (SIGTERM, then SIGKILL after a grace
// period), keeping its data and address for Restart. It fails when the
// server is not chtest's own. A test that calls Stop should call Restart
// before it ends; if it fails first, the cleanup of its NewDatabase restarts
// the server so the tests after it still have one.
func Stop() error {
	srv, err := ownServer()
	if err != nil {
		return err
	}
	return srv.stop()
}

// Restart stops the throwaway server if it runs and starts it again on the
// same address and data, returning once it answers.
func Restart() error {
	srv, err := ownServer()
	if err != nil {
		return err
	}
	if err := srv.stop(); err != nil {
		return err
	}
	return srv.start()
}

// Freeze stops the throwaway server's process (SIGSTOP): connections stay
// open and nothing answers, as with a hung server. Call Thaw before the
// test ends (t.Cleanup); it fails when the server is not chtest's own.
func Freeze() error { return signal(syscall.SIGSTOP) }

// Thaw resumes a frozen server (SIGCONT).
func Thaw() error { return signal(syscall.SIGCONT) }

func ownServer() (*server, error) {
	setup()
	env.mu.Lock()
	defer env.mu.Unlock()
	if env.srv == nil {
		return nil, errors.New("chtest: no clickhouse-server started by chtest (using " + envAddr + " or none available)")
	}
	return env.srv, nil
}

// NewDatabase creates a migrated database with a unique name on the test
// server and returns the Options to open it. The database is dropped when
// the test ends. Without a server the test is skipped, or failed when
// FOOTFALL_REQUIRE_CLICKHOUSE=1.
func NewDatabase(t testing.TB) clickhouse.Options {
	t.Helper()
	return newDatabase(t, true)
}

// NewEmptyDatabase is NewDatabase without the migrations, for testing them.
func NewEmptyDatabase(t testing.TB) clickhouse.Options {
	t.Helper()
	return newDatabase(t, false)
}

func newDatabase(t testing.TB, migrate bool) clickhouse.Options {
	t.Helper()
	if !env.mainCalled && os.Getenv(envAddr) == "" {
		t.Fatal("chtest: call chtest.Main from TestMain to start and stop the ClickHouse server")
	}
	setup()
	if env.startErr != nil {
		t.Fatalf("chtest: %v", env.startErr)
	}
	if env.addr == "" {
		reason := "ClickHouse not available: install clickhouse-server or set " + envAddr + " (" + env.unavailable + ")"
		if os.Getenv(envRequire) == "1" {
			t.Fatalf("%s; %s=1 requires it", reason, envRequire)
		}
		env.skipped.Add(1)
		t.Skip(reason)
	}

	name := "footfall_test_" + randomHex(8)
	opts := clickhouse.Options{Addr: []string{env.addr}, Database: name}
	ctx := context.Background()
	create := opts
	create.CreateDatabase = true
	s, err := clickhouse.Open(ctx, create)
	if err != nil {
		t.Fatalf("chtest: %v", err)
	}
	t.Cleanup(func() {
		if err := ensureRunning(); err != nil {
			t.Errorf("chtest: %v", err)
			return
		}
		if err := dropDatabase(env.addr, name); err != nil {
			t.Errorf("chtest: %v", err)
		}
	})
	defer s.Close()
	if migrate {
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatalf("chtest: database %s: %v", name, err)
		}
	}
	return opts
}

// ensureRunning starts chtest's own server again if a test stopped it.
func ensureRunning() error {
	env.mu.Lock()
	srv := env.srv
	env.mu.Unlock()
	if srv == nil || srv.pid() != 0 {
		return nil
	}
	return srv.start()
}

// dropDatabase drops a test database. name is made by NewDatabase, so it is
// a safe identifier.
func dropDatabase(addr, name string) error {
	conn, err := ch.Open(&ch.Options{Addr: []string{addr}, DialTimeout: 3 * time.Second, ReadTimeout: 3 * time.Minute})
	if err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	defer conn.Close()
	// 18.16 drops each table after stopping its merges: a freshly
	// aggregated database took over 30 s at load 40 (web/dashboard's
	// TestBrowserSampled), so the drop gets longer, and its own read
	// timeout, which is otherwise shorter than the context.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// setup finds or starts the server once per test binary.
func setup() {
	env.once.Do(func() {
		if addr := os.Getenv(envAddr); addr != "" {
			env.addr = addr
			return
		}
		bin, err := findServer()
		if err != nil {
			env.unavailable = err.Error()
			return
		}
		if !env.mainCalled {
			env.unavailable = "chtest.Main was not called from TestMain, so a started server would never be stopped"
			return
		}
		srv, err := newServer(bin)
		if err != nil {
			env.startErr = err
			return
		}
		if err := srv.start(); err != nil {
			os.RemoveAll(srv.dir)
			env.startErr = err
			return
		}
		env.mu.Lock()
		env.srv = srv
		env.mu.Unlock()
		env.addr = srv.addr
		if testing.Verbose() {
			fmt.Fprintf(os.Stderr, "chtest: started %s on %s (pid %d, data in %s)\n", bin, srv.addr, srv.pid(), srv.dir)
		}
	})
}

// findServer locates the clickhouse-server binary.
func findServer() (string, error) {
	if bin := os.Getenv(envServer); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("%s=%s: %w", envServer, bin, err)
		}
		return bin, nil
	}
	if bin, err := exec.LookPath("clickhouse-server"); err == nil {
		return bin, nil
	}
	for _, bin := range []string{"/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"} {
		if _, err := os.Stat(bin); err == nil {
			return bin, nil
		}
	}
	return "", errors.New("no clickhouse-server on PATH, in /usr/sbin or in /usr/bin")
}

// server is a throwaway clickhouse-server process.
type server struct {
	bin  string
	dir  string   // temporary folder: data, logs, stdout
	args []string // the same on every start, so a restart finds its data
	addr string   // 127.0.0.1:<tcp port>

	mu   sync.Mutex
	cmd  *exec.Cmd     // nil when stopped
	done chan struct{} // closed when cmd has exited
}

// newServer prepares a server on free ports in a new temporary folder.
func newServer(bin string) (*server, error) {
	if _, err := os.Stat(systemConfig); err != nil {
		return nil, fmt.Errorf("clickhouse-server config: %w", err)
	}
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "footfall-clickhouse-")
	if err != nil {
		return nil, err
	}
	// The packaged users.xml would do, but its profile keeps idle client
	// connections (a test's open store) for poll_interval, 10s, after SIGTERM.
	users := filepath.Join(dir, "users.xml")
	if err := os.WriteFile(users, []byte(usersXML), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	tcp, http, interserver := ports[0], ports[1], ports[2]
	return &server{
		bin:  bin,
		dir:  dir,
		addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp)),
		args: []string{
			"--config-file=" + systemConfig,
			"--",
			"--users_config=" + users,
			"--tcp_port=" + strconv.Itoa(tcp),
			"--http_port=" + strconv.Itoa(http),
			"--interserver_http_port=" + strconv.Itoa(interserver),
			"--path=" + filepath.Join(dir, "data") + "/",
			"--tmp_path=" + filepath.Join(dir, "tmp") + "/",
			"--user_files_path=" + filepath.Join(dir, "user_files") + "/",
			"--format_schema_path=" + filepath.Join(dir, "format_schemas") + "/",
			"--logger.log=" + filepath.Join(dir, "server.log"),
			"--logger.errorlog=" + filepath.Join(dir, "error.log"),
			"--logger.level=warning",
			"--mark_cache_size=" + strconv.Itoa(64<<20),
			"--uncompressed_cache_size=" + strconv.Itoa(64<<20),
		},
	}, nil
}

// usersXML is the throwaway server's users config: the user "default" with
// no password, reachable from localhost only, with no quota, in a profile
// whose connections notice a shutdown within a second.
const usersXML = `<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <poll_interval>1</poll_interval>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks>
                <ip>::1</ip>
                <ip>127.0.0.1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
        </default>
    </quotas>
</yandex>
`

// freePorts returns n distinct TCP ports free on 127.0.0.1 right now.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		defer l.Close() // held until all are chosen, so they differ
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func (s *server) pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// start runs the server and waits until it answers a ping.
func (s *server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("clickhouse-server already running")
	}
	out, err := os.OpenFile(filepath.Join(s.dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.Command(s.bin, s.args...)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	done := make(chan struct{})
	started := make(chan error, 1)
	// Start and wait on one locked OS thread: the parent-death signal
	// (Linux) is tied to the thread that started the child, so a test binary
	// that dies without running Main's cleanup takes the server with it.
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		cmd.Wait()
		close(done)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	s.cmd, s.done = cmd, done
	if err := s.waitReady(); err != nil {
		s.killLocked()
		return fmt.Errorf("clickhouse-server on %s did not start: %w\n%s", s.addr, err, s.logTail())
	}
	return nil
}

// waitReady polls the server with a ping until it answers, exits or
// readyTimeout passes.
func (s *server) waitReady() error {
	conn, err := ch.Open(&ch.Options{Addr: []string{s.addr}, DialTimeout: time.Second})
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline := time.Now().Add(readyTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = conn.Ping(ctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer after %v: %w", readyTimeout, err)
		}
		select {
		case <-s.done:
			return fmt.Errorf("exited: %s", s.cmd.ProcessState)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop ends the server: SIGTERM, then SIGKILL after stopGrace.
func (s *server) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop clickhouse-server (pid %d): %w", s.cmd.Process.Pid, err)
	}
	select {
	case <-s.done:
		s.cmd = nil
		return nil
	case <-time.After(stopGrace):
	}
	s.killLocked()
	return nil
}

// killLocked kills the server and waits for it to exit. s.mu is held.
func (s *server) killLocked() {
	s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// logTail is the end of the server's error log and console output, for
// reporting why it did not start.
func (s *server) logTail() string {
	var b bytes.Buffer
	for _, name := range []string{"error.log", "stdout.log"} {
		data, err := os.ReadFile(filepath.Join(s.dir, name))
		if err != nil || len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
		lines = lines[max(0, len(lines)-20):]
		fmt.Fprintf(&b, "--- %s (last %d lines) ---\n%s\n", name, len(lines), bytes.Join(lines, []byte("\n")))
	}
	if b.Len() == 0 {
		return "(the server wrote no log)"
	}
	return b.String()
}

// randomHex returns n random bytes as hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
