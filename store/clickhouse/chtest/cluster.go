package chtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// ClusterName is the name of the throwaway cluster in its servers'
// remote_servers config.
const ClusterName = "footfall_test"

// envZooKeeperJar overrides where NewCluster looks for ZooKeeper.
const envZooKeeperJar = "FOOTFALL_ZOOKEEPER_JAR"

// Cluster is a throwaway ClickHouse cluster on loopback: a ZooKeeper and
// shards × replicas clickhouse-server processes sharing one remote_servers
// config (cluster ClusterName, internal_replication on), each with its own
// {shard} and {replica} macros.
type Cluster struct {
	Name string
	// Addrs are the servers' host:port, shard by shard.
	Addrs [][]string
}

// All returns every server's address.
func (c Cluster) All() []string {
	var out []string
	for _, shard := range c.Addrs {
		out = append(out, shard...)
	}
	return out
}

// NewCluster starts a ZooKeeper (Debian's zookeeper package, run with the
// system java) and shards × replicas ClickHouse servers, stopped and removed
// when t ends. Without a clickhouse-server binary, java or ZooKeeper it
// skips t, or fails it when FOOTFALL_REQUIRE_CLICKHOUSE=1. A cluster that is
// found but does not start fails t.
func NewCluster(t testing.TB, shards, replicas int) Cluster {
	t.Helper()
	unavailable := func(why string) {
		t.Helper()
		if os.Getenv(envRequire) == "1" {
			t.Fatalf("ClickHouse cluster required (%s=1) but not available: %s", envRequire, why)
		}
		t.Skipf("ClickHouse cluster not available: %s", why)
	}
	bin, err := findServer()
	if err != nil {
		unavailable(err.Error())
	}
	if _, err := os.Stat(systemConfig); err != nil {
		unavailable(err.Error())
	}
	java, err := exec.LookPath("java")
	if err != nil {
		unavailable("no java on PATH (apt-get install zookeeper)")
	}
	jar := os.Getenv(envZooKeeperJar)
	if jar == "" {
		jar = "/usr/share/java/zookeeper.jar"
	}
	if _, err := os.Stat(jar); err != nil {
		unavailable(fmt.Sprintf("zookeeper: %v (apt-get install zookeeper)", err))
	}

	dir := t.TempDir()
	n := shards * replicas
	ports, err := freePorts(1 + 3*n)
	if err != nil {
		t.Fatal(err)
	}
	zkPort := ports[0]
	zk, err := startZooKeeper(java, jar, filepath.Join(dir, "zookeeper"), zkPort)
	if err != nil {
		t.Fatalf("start zookeeper: %v", err)
	}
	t.Cleanup(zk.stop)

	c := Cluster{Name: ClusterName, Addrs: make([][]string, shards)}
	var remote strings.Builder
	for s := range shards {
		remote.WriteString("      <shard>\n        <internal_replication>true</internal_replication>\n")
		for r := range replicas {
			tcp := ports[1+3*(s*replicas+r)]
			fmt.Fprintf(&remote, "        <replica><host>127.0.0.1</host><port>%d</port></replica>\n", tcp)
			c.Addrs[s] = append(c.Addrs[s], net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp)))
		}
		remote.WriteString("      </shard>\n")
	}
	systemXML, err := os.ReadFile(systemConfig)
	if err != nil {
		t.Fatal(err)
	}
	var servers []*server
	t.Cleanup(func() {
		for _, srv := range servers {
			if t.Failed() {
				t.Logf("cluster server %s:\n%s", srv.addr, srv.logTail())
			}
			if err := srv.stop(); err != nil {
				t.Errorf("stop clickhouse-server: %v", err)
			}
		}
	})
	for s := range shards {
		for r := range replicas {
			i := s*replicas + r
			srvDir := filepath.Join(dir, fmt.Sprintf("s%dr%d", s+1, r+1))
			if err := os.MkdirAll(filepath.Join(srvDir, "config.d"), 0o755); err != nil {
				t.Fatal(err)
			}
			config := filepath.Join(srvDir, "config.xml")
			users := filepath.Join(srvDir, "users.xml")
			clusterXML := fmt.Sprintf(clusterConfig, ClusterName, remote.String(), zkPort, s+1, s+1, r+1)
			for name, body := range map[string][]byte{
				config: systemXML, users: []byte(clusterUsersXML),
				filepath.Join(srvDir, "config.d", "cluster.xml"): []byte(clusterXML),
			} {
				if err := os.WriteFile(name, body, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			tcp, http, interserver := ports[1+3*i], ports[2+3*i], ports[3+3*i]
			srv := &server{
				bin:  bin,
				dir:  srvDir,
				addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp)),
				args: []string{
					"--config-file=" + config,
					"--",
					"--users_config=" + users,
					"--tcp_port=" + strconv.Itoa(tcp),
					"--http_port=" + strconv.Itoa(http),
					"--interserver_http_port=" + strconv.Itoa(interserver),
					"--interserver_http_host=127.0.0.1",
					"--path=" + filepath.Join(srvDir, "data") + "/",
					"--tmp_path=" + filepath.Join(srvDir, "tmp") + "/",
					"--user_files_path=" + filepath.Join(srvDir, "user_files") + "/",
					"--format_schema_path=" + filepath.Join(srvDir, "format_schemas") + "/",
					"--logger.log=" + filepath.Join(srvDir, "server.log"),
					"--logger.errorlog=" + filepath.Join(srvDir, "error.log"),
					"--logger.level=warning",
					"--mark_cache_size=" + strconv.Itoa(64<<20),
					"--uncompressed_cache_size=" + strconv.Itoa(64<<20),
				},
			}
			if err := srv.start(); err != nil {
				t.Fatalf("cluster server shard %d replica %d: %v", s+1, r+1, err)
			}
			servers = append(servers, srv)
		}
	}
	for _, srv := range servers {
		if err := waitZooKeeper(srv.addr); err != nil {
			t.Fatalf("cluster server %s: %v", srv.addr, err)
		}
	}
	return c
}

// waitZooKeeper waits until a server has a ZooKeeper session: ON CLUSTER
// DDL sent before that fails.
func waitZooKeeper(addr string) error {
	conn, err := ch.Open(&ch.Options{Addr: []string{addr}, DialTimeout: time.Second})
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline := time.Now().Add(readyTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		var n uint64
		err := conn.QueryRow(ctx, "SELECT count() FROM system.zookeeper WHERE path = '/'").Scan(&n)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no ZooKeeper session after %v: %w", readyTimeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// clusterConfig is each server's config.d/cluster.xml: cluster name,
// shards, ZooKeeper port, then the server's shard and replica macros.
const clusterConfig = `<?xml version="1.0"?>
<yandex>
    <remote_servers replace="replace">
    <%[1]s>
%[2]s    </%[1]s>
    </remote_servers>
    <zookeeper replace="replace">
        <node><host>127.0.0.1</host><port>%[3]d</port></node>
        <session_timeout_ms>30000</session_timeout_ms>
    </zookeeper>
    <macros replace="replace">
        <shard>%02[4]d</shard>
        <replica>s%[5]dr%[6]d</replica>
    </macros>
    <distributed_ddl>
        <path>/clickhouse/task_queue/ddl</path>
    </distributed_ddl>
</yandex>
`

// clusterUsersXML is usersXML with the profile settings cluster mode needs
// on the servers (docs/operations.md lists them): distributed_product_mode
// = local, so an IN or JOIN subquery on a Distributed table runs on each
// shard's local table (right, as rows are sharded by visitor); and on 18.16
// allow_experimental_low_cardinality_type, as ON CLUSTER DDL runs with the
// server's default profile, not the client's settings. load_balancing =
// in_order makes a test read the replica its inserts went to, not one still
// fetching them.
var clusterUsersXML = strings.Replace(usersXML, "<poll_interval>1</poll_interval>", `<poll_interval>1</poll_interval>
            <load_balancing>in_order</load_balancing>
            <distributed_product_mode>local</distributed_product_mode>
            <allow_experimental_low_cardinality_type>1</allow_experimental_low_cardinality_type>`, 1)

// zooKeeper is a throwaway ZooKeeper standalone server.
type zooKeeper struct {
	cmd  *exec.Cmd
	done chan struct{}
	once sync.Once
}

func startZooKeeper(java, jar, dir string, port int) (*zooKeeper, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	out, err := os.Create(filepath.Join(dir, "zookeeper.log"))
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd := exec.Command(java, "-Xmx256m", "-Dzookeeper.admin.enableServer=false", "-Dzookeeper.4lw.commands.whitelist=srvr",
		"-cp", jar, "org.apache.zookeeper.server.ZooKeeperServerMain",
		strconv.Itoa(port), filepath.Join(dir, "data"))
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	zk := &zooKeeper{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() { // one locked thread: see server.start
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		cmd.Wait()
		close(zk.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(readyTimeout)
	for {
		// ZooKeeper accepts connections before it serves sessions; "srvr"
		// answers with its Mode only once it serves. A ClickHouse 18.16
		// whose DDL worker finds ZooKeeper not yet serving crashes on the
		// first ON CLUSTER query, so wait for that.
		err := zooKeeperServing(addr)
		if err == nil {
			return zk, nil
		}
		if time.Now().After(deadline) {
			zk.stop()
			return nil, fmt.Errorf("zookeeper on %s: no answer after %v: %w", addr, readyTimeout, err)
		}
		select {
		case <-zk.done:
			log, _ := os.ReadFile(filepath.Join(dir, "zookeeper.log"))
			return nil, errors.New("zookeeper exited: " + string(log))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// zooKeeperServing sends ZooKeeper's "srvr" command and checks that the
// server reports a mode (standalone, leader, follower).
func zooKeeperServing(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("srvr")); err != nil {
		return err
	}
	out, err := io.ReadAll(c)
	if err != nil {
		return err
	}
	if !strings.Contains(string(out), "Mode:") {
		return fmt.Errorf("not serving: %q", strings.TrimSpace(string(out)))
	}
	return nil
}

func (z *zooKeeper) stop() {
	z.once.Do(func() {
		z.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-z.done:
		case <-time.After(stopGrace):
			z.cmd.Process.Kill()
			<-z.done
		}
	})
}
