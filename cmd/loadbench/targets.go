package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	_ "modernc.org/sqlite" // database/sql driver "sqlite", for counting
)

const benchSite = "bench.example"

// result is one target's figures.
type result struct {
	name     string
	load     load
	rss      int64 // peak resident set of the server, bytes
	accepted int64 // footfall_events_accepted_total before shutdown; -1 for the baseline
	dropped  string
	stored   int64 // events in the store after shutdown (distinct ids)
	rows     int64 // rows before deduplication (ClickHouse: without FINAL)
	spooled  string
	shutdown time.Duration
}

func (r result) print(w io.Writer) {
	fmt.Fprintf(w, "  %-10s %9.0f req/s  p50 %-8s p99 %-8s max %-8s  peak RSS %5.1f MiB  status %s  conn errors %d  CPU: server %.0f%% (%.1f µs/request), generator %.0f%%\n",
		r.name, r.load.rate(), r.load.percentile(0.50).Round(time.Microsecond), r.load.percentile(0.99).Round(time.Microsecond),
		r.load.percentile(1).Round(time.Microsecond), float64(r.rss)/(1<<20), r.load.statusText(), r.load.errors, 100*r.load.serverCPU,
		r.load.cpuPerRequest(), 100*r.load.loadCPU)
	if r.load.storeCPU > 0 {
		fmt.Fprintf(w, "  %-10s ClickHouse (on the generator's CPU) %.0f%%\n", "", 100*r.load.storeCPU)
	}
	if r.accepted >= 0 {
		verdict := "OK: every accepted event stored once"
		if r.stored != r.accepted {
			verdict = fmt.Sprintf("MISMATCH: %d accepted events not stored", r.accepted-r.stored)
		}
		fmt.Fprintf(w, "  %-10s accepted %d, stored %d (rows before dedup %d), dropped %s, spooled %s, shutdown %s — %s\n",
			"", r.accepted, r.stored, r.rows, r.dropped, r.spooled, r.shutdown.Round(time.Millisecond), verdict)
	}
}

func report(w io.Writer, results []result) {
	var base float64
	var baseP99 time.Duration
	for _, r := range results {
		if r.name == "baseline" {
			base, baseP99 = r.load.rate(), r.load.percentile(0.99)
		}
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\treq/s\tvs baseline\tp50\tp99\tp99 ÷ baseline p99\tmax\tpeak RSS\tserver CPU/req\taccepted\tstored\t")
	for _, r := range results {
		ratio, tail, acc, st := "-", "-", "-", "-"
		if base > 0 {
			ratio = fmt.Sprintf("%.2fx", r.load.rate()/base)
		}
		if baseP99 > 0 {
			tail = fmt.Sprintf("%.1fx", float64(r.load.percentile(0.99))/float64(baseP99))
		}
		if r.accepted >= 0 {
			acc, st = strconv.FormatInt(r.accepted, 10), strconv.FormatInt(r.stored, 10)
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\t%s\t%s\t%.1f MiB\t%.1f µs\t%s\t%s\t\n", r.name, r.load.rate(), ratio,
			r.load.percentile(0.5).Round(time.Microsecond), r.load.percentile(0.99).Round(time.Microsecond), tail,
			r.load.percentile(1).Round(time.Microsecond), float64(r.rss)/(1<<20), r.load.cpuPerRequest(), acc, st)
	}
	tw.Flush()
}

// target is one server under load: the baseline or footfall on a store.
type target struct {
	name string
	p    *process
	addr string
	// metrics is footfall's -metrics-addr.
	metrics string
	dsn     string // the store; "" for the baseline
	reqs    [][]byte
	ch      *clickhouseServer // stopped with the target
	load    load              // what the rounds measured, merged
}

// close stops the target's processes if they still run.
func (t *target) close() {
	if t.p != nil {
		t.p.stop(10 * time.Second)
	}
	if t.ch != nil {
		t.ch.stop()
	}
}

func startBaseline(ctx context.Context, o options, tmp string) (*target, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	p, err := start(filepath.Join(tmp, "baseline.log"), nil, pinned(o.serverCPU, self, "baseline", "-addr", addr)...)
	if err != nil {
		return nil, err
	}
	t := &target{name: "baseline", p: p, addr: addr}
	if err := waitHTTP(ctx, p, "http://"+addr+"/", 10*time.Second); err != nil {
		t.close()
		return nil, err
	}
	// The same requests as Footfall gets; the tokens are never checked.
	t.reqs = requests(addr, []string{"v1.baseline-does-not-verify-tokens"})
	return t, nil
}

// serveBaseline is the baseline server: read the body, answer 204.
func serveBaseline(args []string) error {
	addr := "127.0.0.1:0"
	if len(args) == 2 && args[0] == "-addr" {
		addr = args[1]
	}
	srv := &http.Server{Addr: addr, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/" {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})}
	return srv.ListenAndServe()
}

func startClickHouseTarget(ctx context.Context, o options, tmp string) (*target, error) {
	fmt.Println("starting a throwaway clickhouse-server ...")
	chs, err := startClickHouse(filepath.Join(tmp, "clickhouse"), o.loadCPU)
	if err != nil {
		return nil, err
	}
	t, err := startFootfall(ctx, o, tmp, "clickhouse", "clickhouse://default:@"+chs.addr+"/footfall_bench")
	if err != nil {
		chs.stop()
		return nil, err
	}
	t.ch = chs
	return t, nil
}

// startFootfall registers the benchmark site, starts footfall serve on
// dsn and obtains consent tokens for the requests.
func startFootfall(ctx context.Context, o options, tmp, name, dsn string) (*target, error) {
	dir := filepath.Join(tmp, name)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	add := exec.Command(o.footfallBin, "site", "add", "-store", dsn, benchSite)
	if out, err := add.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("site add: %v\n%s", err, out)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	metricsAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := pinned(o.serverCPU, o.footfallBin, "serve", "-addr", addr, "-metrics-addr", metricsAddr, "-store", dsn,
		"-spool-dir", filepath.Join(dir, "spool"), "-durability", o.durability, "-log-level", "warn",
		"-consent-rate", "0") // the tokens below come from one client
	p, err := start(filepath.Join(dir, "serve.log"), o.serverEnv, args...)
	if err != nil {
		return nil, err
	}
	t := &target{name: name, p: p, addr: addr, metrics: metricsAddr, dsn: dsn}
	if err := waitHTTP(ctx, p, "http://"+addr+"/readyz", 60*time.Second); err != nil {
		t.close()
		return nil, err
	}
	tokens, err := grantTokens("http://"+addr, 256)
	if err != nil {
		t.close()
		return nil, err
	}
	t.reqs = requests(addr, tokens)
	return t, nil
}

// finish reads the target's peak memory and, for footfall, what it
// accepted; stops it (SIGTERM: footfall writes what it holds) and counts
// what its store has.
func (t *target) finish(ctx context.Context) (result, error) {
	res := result{name: t.name, load: t.load, accepted: -1}
	var err error
	if res.rss, err = t.p.peakRSS(); err != nil {
		return res, err
	}
	if t.dsn == "" {
		return res, t.p.stop(5 * time.Second)
	}
	m, err := scrape("http://" + t.metrics + "/metrics")
	if err != nil {
		return res, err
	}
	res.accepted = int64(m.sum("footfall_events_accepted_total"))
	res.dropped = m.labels("footfall_events_dropped_total")
	res.spooled = m.labels("footfall_events_spooled_total")
	stopAt := time.Now()
	if err := t.p.stop(60 * time.Second); err != nil {
		return res, fmt.Errorf("shutdown: %v\n%s", err, t.p.tail())
	}
	res.shutdown = time.Since(stopAt)
	res.stored, res.rows, err = countStored(ctx, t.dsn)
	return res, err
}

// grantTokens records n consent decisions and returns their tokens.
func grantTokens(base string, n int) ([]string, error) {
	r := rand.New(rand.NewPCG(1, 2))
	tokens := make([]string, 0, n)
	for i := range n {
		body, _ := json.Marshal(map[string]any{
			"site": benchSite, "language": "en",
			"categories": map[string]bool{"analytics": true, "personalization": r.IntN(2) == 0, "marketing": r.IntN(3) == 0},
		})
		resp, err := http.Post(base+"/api/consent", "application/json", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		var out struct{ Token string }
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || out.Token == "" {
			return nil, fmt.Errorf("consent %d: status %d, %v", i, resp.StatusCode, err)
		}
		tokens = append(tokens, out.Token)
	}
	return tokens, nil
}

var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.71 Mobile Safari/537.36",
	"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36 Edg/125.0.2535.92",
	"Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
}

var referrers = []string{
	"", "", "https://www.google.com/", "https://www.bing.com/search?q=shoes", "https://news.ycombinator.com/item?id=1",
	"https://t.co/abc", "https://duckduckgo.com/", "https://" + benchSite + "/",
}

// requests builds the raw requests the generator rotates through: what the
// snippet sends (sendBeacon, text/plain), a mix of page views, clicks and
// custom events over many pages, referrers, user agents and consents.
func requests(addr string, tokens []string) [][]byte {
	r := rand.New(rand.NewPCG(3, 4))
	out := make([][]byte, 4096)
	for i := range out {
		page := fmt.Sprintf("https://%s/products/item-%d?utm_source=newsletter&utm_medium=email&color=%d", benchSite, r.IntN(2000), r.IntN(9))
		b := map[string]any{"site": benchSite, "url": page, "token": tokens[r.IntN(len(tokens))],
			"sid": strconv.FormatUint(r.Uint64(), 36), "w": []int{390, 768, 1280, 1440, 1920}[r.IntN(5)]}
		if ref := referrers[r.IntN(len(referrers))]; ref != "" {
			b["referrer"] = ref
		}
		switch k := r.IntN(10); {
		case k < 7:
			b["type"] = "pageview"
		case k < 9:
			b["type"] = "click"
			b["target"] = "https://partner.example/offer/" + strconv.Itoa(r.IntN(50))
			b["name"] = "outbound"
		default:
			b["type"] = "event"
			b["name"] = "signup"
			b["props"] = map[string]any{"plan": []string{"free", "pro", "team"}[r.IntN(3)], "step": r.IntN(4)}
		}
		// Like the snippet's JSON.stringify: no HTML escaping of & < >.
		var enc bytes.Buffer
		e := json.NewEncoder(&enc)
		e.SetEscapeHTML(false)
		e.Encode(b)
		body := bytes.TrimSpace(enc.Bytes())
		var req bytes.Buffer
		fmt.Fprintf(&req, "POST /api/event HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nContent-Type: text/plain;charset=UTF-8\r\n"+
			"Accept: */*\r\nAccept-Language: en-US,en;q=0.9\r\nOrigin: https://%s\r\nContent-Length: %d\r\n\r\n",
			addr, userAgents[r.IntN(len(userAgents))], benchSite, len(body))
		req.Write(body)
		out[i] = req.Bytes()
	}
	return out
}

// metrics is a scraped Prometheus text exposition: series to value.
type metrics map[string]float64

func scrape(url string) (metrics, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	m := metrics{}
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			m[line[:i]] = v
		}
	}
	return m, nil
}

// sum adds every series of a metric name.
func (m metrics) sum(name string) float64 {
	var s float64
	for k, v := range m {
		if k == name || strings.HasPrefix(k, name+"{") {
			s += v
		}
	}
	return s
}

// labels lists a labelled metric's non-zero series, as reason=count.
func (m metrics) labels(name string) string {
	var parts []string
	for k, v := range m {
		if rest, ok := strings.CutPrefix(k, name+"{"); ok && v != 0 {
			rest = strings.TrimSuffix(rest, "}")
			if _, val, ok := strings.Cut(rest, "="); ok {
				rest = strings.Trim(val, `"`)
			}
			parts = append(parts, fmt.Sprintf("%s=%.0f", rest, v))
		}
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

func saveProfile(base, path string, d time.Duration) error {
	return saveURL(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", base, max(1, int(d.Seconds()))), path)
}

// saveURL writes what url answers to path.
func saveURL(url, path string) error {
	client := &http.Client{Timeout: 5 * time.Minute}
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d (is footfall built with -tags pprof?)", resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// countStored counts the benchmark site's events after shutdown: distinct
// ids as every reader sees them, and raw rows.
func countStored(ctx context.Context, dsn string) (stored, rows int64, err error) {
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			return 0, 0, err
		}
		defer db.Close()
		err = db.QueryRowContext(ctx, "SELECT count(*), count(DISTINCT event_id) FROM events").Scan(&rows, &stored)
		return stored, rows, err
	}
	opts, err := ch.ParseDSN(dsn)
	if err != nil {
		return 0, 0, err
	}
	conn, err := ch.Open(opts)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close()
	var final, raw, distinct uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM events FINAL").Scan(&final); err != nil {
		return 0, 0, fmt.Errorf("count: %w", err)
	}
	if err := conn.QueryRow(ctx, "SELECT count(), uniqExact(event_id) FROM events").Scan(&raw, &distinct); err != nil {
		return 0, 0, fmt.Errorf("count: %w", err)
	}
	if final != distinct {
		return 0, 0, errors.New("count FINAL differs from distinct ids: " + strconv.FormatUint(final, 10) + " vs " + strconv.FormatUint(distinct, 10))
	}
	return int64(final), int64(raw), nil
}
