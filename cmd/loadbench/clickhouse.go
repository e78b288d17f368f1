package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// clickhouseServer is a throwaway clickhouse-server, started the way the
// tests start theirs (store/clickhouse/chtest): the packaged config with
// ports, folders and logs overridden on the command line.
type clickhouseServer struct {
	p    *process
	addr string
}

const clickhouseUsers = `<?xml version="1.0"?>
<yandex>
    <profiles><default><poll_interval>1</poll_interval></default></profiles>
    <users><default>
        <password></password>
        <networks><ip>::1</ip><ip>127.0.0.1</ip></networks>
        <profile>default</profile><quota>default</quota>
    </default></users>
    <quotas><default></default></quotas>
</yandex>
`

func startClickHouse(dir, cpus string) (*clickhouseServer, error) {
	bin := os.Getenv("FOOTFALL_CLICKHOUSE_SERVER")
	if bin == "" {
		for _, b := range []string{"/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"} {
			if _, err := os.Stat(b); err == nil {
				bin = b
				break
			}
		}
	}
	if bin == "" {
		return nil, errors.New("no clickhouse-server (apt-get install clickhouse-server, or set FOOTFALL_CLICKHOUSE_SERVER)")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	users := filepath.Join(dir, "users.xml")
	if err := os.WriteFile(users, []byte(clickhouseUsers), 0o644); err != nil {
		return nil, err
	}
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	argv := pinned(cpus, bin,
		"--config-file=/etc/clickhouse-server/config.xml", "--",
		"--users_config="+users,
		"--tcp_port="+strconv.Itoa(ports[0]),
		"--http_port="+strconv.Itoa(ports[1]),
		"--interserver_http_port="+strconv.Itoa(ports[2]),
		"--path="+filepath.Join(dir, "data")+"/",
		"--tmp_path="+filepath.Join(dir, "tmp")+"/",
		"--user_files_path="+filepath.Join(dir, "user_files")+"/",
		"--format_schema_path="+filepath.Join(dir, "format_schemas")+"/",
		"--logger.log="+filepath.Join(dir, "server.log"),
		"--logger.errorlog="+filepath.Join(dir, "error.log"),
		"--logger.level=warning",
	)
	p, err := start(filepath.Join(dir, "stdout.log"), nil, argv...)
	if err != nil {
		return nil, err
	}
	s := &clickhouseServer{p: p, addr: addr}
	conn, err := ch.Open(&ch.Options{Addr: []string{addr}, DialTimeout: time.Second})
	if err != nil {
		s.stop()
		return nil, err
	}
	defer conn.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = conn.Ping(ctx)
		cancel()
		if err == nil {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("clickhouse-server on %s did not answer: %w", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *clickhouseServer) stop() { s.p.stop(10 * time.Second) }

// freePorts returns n distinct TCP ports free on 127.0.0.1 right now.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer ln.Close() // held until all are chosen, so they differ
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
