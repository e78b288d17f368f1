package clickhouse

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// defaultPort is the native protocol's port, used for hosts given without one.
const defaultPort = "9000"

// ParseDSN parses
//
//	clickhouse://[user[:password]@]host[:port][,host2[:port]…][/database][?dial_timeout=2s&read_timeout=30s&cluster=NAME]
//
// into Options. cluster=NAME turns on cluster mode (Options.Cluster). A host without a port gets 9000; IPv6 hosts go in brackets.
// User and password may be percent-encoded. Fields left out get Open's
// defaults, so the result shows what Open will use. Errors never repeat the
// password.
func ParseDSN(dsn string) (Options, error) {
	var opts Options
	rest, ok := strings.CutPrefix(dsn, "clickhouse://")
	if !ok {
		scheme, _, found := strings.Cut(dsn, "://")
		if !found {
			return Options{}, errors.New("clickhouse dsn: want clickhouse://host:port/database")
		}
		return Options{}, fmt.Errorf("clickhouse dsn: scheme %q, want clickhouse:// (native protocol)", scheme)
	}
	rest, rawQuery, _ := strings.Cut(rest, "?")
	rest, path, _ := strings.Cut(rest, "/")
	hosts := rest
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		userinfo := rest[:at]
		hosts = rest[at+1:]
		rawUser, rawPass, hasPass := strings.Cut(userinfo, ":")
		user, err := url.PathUnescape(rawUser)
		if err != nil {
			return Options{}, fmt.Errorf("clickhouse dsn: user: %w", err)
		}
		opts.Username = user
		if hasPass {
			pass, err := url.PathUnescape(rawPass)
			if err != nil {
				return Options{}, errors.New("clickhouse dsn: password: invalid percent-encoding")
			}
			opts.Password = pass
		}
	}

	var errs []error
	if hosts == "" {
		errs = append(errs, errors.New("no host"))
	} else {
		for h := range strings.SplitSeq(hosts, ",") {
			addr, err := hostPort(h)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			opts.Addr = append(opts.Addr, addr)
		}
	}

	if path != "" {
		if err := validDatabase(path); err != nil {
			errs = append(errs, err)
		} else {
			opts.Database = path
		}
	}

	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		errs = append(errs, fmt.Errorf("parameters: %w", err))
	}
	for _, key := range slices.Sorted(maps.Keys(query)) {
		value := query.Get(key)
		switch key {
		case "dial_timeout":
			opts.DialTimeout, err = positiveDuration(key, value)
		case "read_timeout":
			opts.ReadTimeout, err = positiveDuration(key, value)
		case "cluster":
			opts.Cluster, err = value, nil
			if !databaseName.MatchString(value) {
				err = fmt.Errorf("cluster: %q: use only letters, digits and underscores", value)
			}
		default:
			err = fmt.Errorf("unknown parameter %q (known: dial_timeout, read_timeout, cluster)", key)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Options{}, fmt.Errorf("clickhouse dsn: %w", err)
	}
	return opts.withDefaults(), nil
}

// hostPort checks one host[:port] of a DSN and adds the default port.
func hostPort(h string) (string, error) {
	if h == "" {
		return "", errors.New("empty host in host list")
	}
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		// No port: h must be a name, an IPv4 address or a bracketed IPv6
		// address.
		bracketed := strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]")
		host, port = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"), defaultPort
		if strings.ContainsAny(host, "[]") || !bracketed && strings.Contains(host, ":") {
			return "", fmt.Errorf("host %q: %w", h, err)
		}
	}
	if host == "" {
		return "", fmt.Errorf("host %q: no host name", h)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return "", fmt.Errorf("host %q: port %q is not a number from 1 to 65535", h, port)
	}
	return net.JoinHostPort(host, port), nil
}

func positiveDuration(key, value string) (time.Duration, error) {
	d, err := time.ParseDuration(value)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a duration like 2s or 500ms", key, value)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%s: %s is not positive", key, value)
	}
	return d, nil
}
