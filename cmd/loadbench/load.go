package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"
)

// load is what one measurement saw from the client side.
type load struct {
	serverCPU float64 // share of one core the server used while measured
	loadCPU   float64 // share of one core the generator used
	storeCPU  float64 // share of one core ClickHouse used (on the generator's core); 0 without
	elapsed   time.Duration
	requests  int             // completed in the measured window
	status    map[int]int     // by HTTP status, measured window
	errors    int             // connection errors, whole run
	lat       []time.Duration // per request, measured window (Go generator)
	tails     *tails          // wrk's percentiles instead of lat (wrk generator)
}

// tails are the latency figures wrk reports. Rounds merge conservatively:
// p99 and max are the worst round's, p50 the request-weighted mean.
type tails struct {
	p50, p99, max time.Duration
}

func (l load) rate() float64 {
	if l.elapsed <= 0 {
		return 0
	}
	return float64(l.requests) / l.elapsed.Seconds()
}

// cpuPerRequest is the server's CPU time per request in microseconds: the
// cost of a request, whatever else ran on the machine (which the rate
// shows, this hardly does).
func (l load) cpuPerRequest() float64 {
	if l.requests == 0 {
		return 0
	}
	return l.serverCPU * l.elapsed.Seconds() / float64(l.requests) * 1e6
}

// merge adds the measurements of m to l.
func (l load) merge(m load) load {
	total := l.elapsed + m.elapsed
	out := load{
		elapsed:   total,
		requests:  l.requests + m.requests,
		status:    map[int]int{},
		errors:    l.errors + m.errors,
		lat:       append(append([]time.Duration(nil), l.lat...), m.lat...),
		serverCPU: (l.serverCPU*l.elapsed.Seconds() + m.serverCPU*m.elapsed.Seconds()) / total.Seconds(),
		loadCPU:   (l.loadCPU*l.elapsed.Seconds() + m.loadCPU*m.elapsed.Seconds()) / total.Seconds(),
		storeCPU:  (l.storeCPU*l.elapsed.Seconds() + m.storeCPU*m.elapsed.Seconds()) / total.Seconds(),
	}
	switch {
	case l.tails == nil:
		out.tails = m.tails
	case m.tails == nil:
		out.tails = l.tails
	default:
		w := float64(l.requests) / float64(max(1, out.requests))
		out.tails = &tails{
			p50: time.Duration(w*float64(l.tails.p50) + (1-w)*float64(m.tails.p50)),
			p99: max(l.tails.p99, m.tails.p99),
			max: max(l.tails.max, m.tails.max),
		}
	}
	for _, s := range []map[int]int{l.status, m.status} {
		for k, v := range s {
			out.status[k] += v
		}
	}
	slices.Sort(out.lat)
	return out
}

// percentile is the latency below which a share p of the requests
// finished; with wrk's figures only p50, p99 and the maximum are known.
func (l load) percentile(p float64) time.Duration {
	if l.tails != nil {
		switch {
		case p >= 1:
			return l.tails.max
		case p >= 0.99:
			return l.tails.p99
		default:
			return l.tails.p50
		}
	}
	if len(l.lat) == 0 {
		return 0
	}
	return l.lat[min(len(l.lat)-1, int(float64(len(l.lat))*p))]
}

// statusText is the responses by status: by code from the Go generator,
// 2xx and other from wrk (status 0 counts the others).
func (l load) statusText() string {
	if l.tails != nil {
		return fmt.Sprintf("2xx:%d other:%d", l.status[2], l.status[0])
	}
	return fmt.Sprint(l.status)
}

// drive sends requests (raw HTTP/1.1, rotated) over conns keep-alive
// connections: warmup unmeasured, then measure. A hand-written client keeps
// the generator cheap, so its core is not what limits the figures.
// store, if not nil, is a store server whose CPU share is measured too.
func drive(ctx context.Context, addr string, server, store *process, requests [][]byte, conns int, warmup, measure time.Duration) load {
	start := time.Now()
	var cpu0, self0, store0 time.Duration
	cpuDone := make(chan [3]float64, 1)
	go func() {
		time.Sleep(warmup)
		cpu0, self0, store0 = server.cpuTime(), selfCPU(), storeCPUTime(store)
		time.Sleep(measure)
		cpuDone <- [3]float64{(server.cpuTime() - cpu0).Seconds() / measure.Seconds(), (selfCPU() - self0).Seconds() / measure.Seconds(),
			(storeCPUTime(store) - store0).Seconds() / measure.Seconds()}
	}()
	from, to := start.Add(warmup), start.Add(warmup+measure)
	type connLoad struct {
		status map[int]int
		lat    []time.Duration
		errors int
	}
	results := make([]connLoad, conns)
	var wg sync.WaitGroup
	for c := range conns {
		wg.Go(func() {
			r := &results[c]
			r.status = map[int]int{}
			r.lat = make([]time.Duration, 0, 1<<16)
			next := c * len(requests) / conns
			var conn net.Conn
			var br *bufio.Reader
			for ctx.Err() == nil {
				if conn == nil {
					var err error
					conn, err = net.Dial("tcp", addr)
					if err != nil {
						r.errors++
						time.Sleep(10 * time.Millisecond)
						if time.Now().After(to) {
							return
						}
						continue
					}
					br = bufio.NewReaderSize(conn, 4096)
				}
				req := requests[next%len(requests)]
				next++
				t0 := time.Now()
				if t0.After(to) {
					break
				}
				_, err := conn.Write(req)
				var code int
				var keep bool
				if err == nil {
					code, keep, err = readResponse(br)
				}
				t1 := time.Now()
				if err != nil {
					r.errors++
					conn.Close()
					conn = nil
					continue
				}
				if !t0.Before(from) {
					r.status[code]++
					r.lat = append(r.lat, t1.Sub(t0))
				}
				if !keep {
					conn.Close()
					conn = nil
				}
			}
			if conn != nil {
				conn.Close()
			}
		})
	}
	wg.Wait()
	cpu := <-cpuDone
	out := load{elapsed: measure, status: map[int]int{}, serverCPU: cpu[0], loadCPU: cpu[1], storeCPU: cpu[2]}
	for _, r := range results {
		for k, v := range r.status {
			out.status[k] += v
			out.requests += v
		}
		out.errors += r.errors
		out.lat = append(out.lat, r.lat...)
	}
	slices.Sort(out.lat)
	return out
}

var (
	headerContentLength = []byte("content-length:")
	headerConnClose     = []byte("connection: close")
)

// readResponse reads one response and discards its body.
func readResponse(br *bufio.Reader) (code int, keepAlive bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, fmt.Errorf("bad status line %q", line)
	}
	code, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, fmt.Errorf("bad status line %q", line)
	}
	length, keepAlive := 0, true
	for {
		h, err := br.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		if len(h) <= 2 {
			break
		}
		if hasPrefixFold(h, headerContentLength) {
			length, err = strconv.Atoi(string(bytes.TrimSpace(h[len(headerContentLength):])))
			if err != nil {
				return 0, false, fmt.Errorf("bad content-length %q", h)
			}
		} else if hasPrefixFold(h, headerConnClose) {
			keepAlive = false
		}
	}
	if _, err := io.CopyN(io.Discard, br, int64(length)); err != nil {
		return 0, false, err
	}
	return code, keepAlive, nil
}

// hasPrefixFold is bytes.HasPrefix ignoring ASCII case, without a copy.
func hasPrefixFold(s, prefix []byte) bool {
	return len(s) >= len(prefix) && bytes.EqualFold(s[:len(prefix)], prefix)
}
