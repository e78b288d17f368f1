// Package deploy_test keeps Footfall's compose files correct without a
// Docker engine: it loads them with the compose-spec loader (the one docker
// compose uses) and checks them against the footfall binary's own settings.
package deploy_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// composeFiles are the files checked, relative to the repository root.
var composeFiles = []string{"docker-compose.yml", "deploy/cluster/docker-compose.yml"}

// footfallBin is the binary built once for every test.
var footfallBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "footfall-deploy-")
	if err != nil {
		panic(err)
	}
	footfallBin = filepath.Join(dir, "footfall")
	build := exec.Command("go", "build", "-o", footfallBin, "../cmd/footfall")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(dir)
		panic("build footfall: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// envExample reads .env.example: every variable, with a placeholder for the
// ones left empty (the passwords).
func envExample(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf(".env.example: %q is not NAME=value", line)
			continue
		}
		if v == "" {
			v = "test-secret"
		}
		env[k] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return env
}

func load(t *testing.T, file string, env map[string]string) *types.Project {
	t.Helper()
	var list []string
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	// Both files run from the repository root (the cluster one with
	// --project-directory .), so their paths are relative to it.
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, file)},
		cli.WithWorkingDirectory(root),
		cli.WithEnv(list),
		cli.WithProfiles([]string{"*"}),
	)
	if err != nil {
		t.Fatal(err)
	}
	p, err := cli.ProjectFromOptions(context.Background(), opts)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return p
}

// commandFlags runs `footfall help WORDS…` and returns the command's flag
// names, or ok false if there is no such command.
func commandFlags(t *testing.T, words []string) (flags []string, ok bool) {
	t.Helper()
	out, err := exec.Command(footfallBin, append([]string{"help"}, words...)...).Output()
	if err != nil {
		return nil, false
	}
	// help matches the longest command prefix; insist on all the words.
	first, _, _ := strings.Cut(string(out), "\n")
	name := strings.Join(words, " ")
	if first != "Usage: footfall "+name && !strings.HasPrefix(first, "Usage: footfall "+name+" ") {
		return nil, false
	}
	re := regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`)
	for _, m := range re.FindAllStringSubmatch(string(out), -1) {
		flags = append(flags, m[1])
	}
	return flags, true
}

func envName(flag string) string {
	return "FOOTFALL_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// footfallCommand splits a service's command into the subcommand's words
// and its flags, by asking the binary which prefix of the words before the
// first flag is a command.
func footfallCommand(t *testing.T, args []string) (words, rest []string, flags []string) {
	t.Helper()
	k := slices.IndexFunc(args, func(a string) bool { return strings.HasPrefix(a, "-") })
	if k < 0 {
		k = len(args)
	}
	for n := k; n > 0; n-- {
		if f, ok := commandFlags(t, args[:n]); ok {
			return args[:n], args[n:], f
		}
	}
	t.Fatalf("command %q: no footfall command", args)
	return nil, nil, nil
}

func isFootfall(s types.ServiceConfig) bool {
	return s.Build != nil && s.Build.Dockerfile == "deploy/Dockerfile"
}

// TestComposeFiles loads each compose file and checks it against the
// binary and the ClickHouse users.
func TestComposeFiles(t *testing.T) {
	env := envExample(t)
	users, err := os.ReadFile("clickhouse/users.d/footfall.xml")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range composeFiles {
		t.Run(file, func(t *testing.T) {
			p := load(t, file, env)
			published := map[string]string{}
			for _, name := range slices.Sorted(func(yield func(string) bool) {
				for n := range p.Services {
					if !yield(n) {
						return
					}
				}
			}) {
				s := p.Services[name]
				for _, port := range s.Ports {
					key := port.Published + "/" + port.Protocol
					if other, dup := published[key]; dup {
						t.Errorf("%s and %s both publish port %s", other, name, key)
					}
					published[key] = name
				}
				for _, v := range s.Volumes {
					switch v.Type {
					case types.VolumeTypeBind:
						if _, err := os.Stat(v.Source); err != nil {
							t.Errorf("%s: bind mount source: %v", name, err)
						}
					case types.VolumeTypeVolume:
						if _, ok := p.Volumes[v.Source]; !ok {
							t.Errorf("%s: volume %q is not declared", name, v.Source)
						}
					}
				}
				for dep, d := range s.DependsOn {
					if _, ok := p.Services[dep]; !ok {
						t.Errorf("%s depends on unknown service %s", name, dep)
					}
					if dep == "migrate" && d.Condition != types.ServiceConditionCompletedSuccessfully {
						t.Errorf("%s: depends on migrate with %q, want %q", name, d.Condition, types.ServiceConditionCompletedSuccessfully)
					}
					if dep != "migrate" && d.Condition != types.ServiceConditionHealthy {
						t.Errorf("%s: depends on %s with %q, want %q", name, dep, d.Condition, types.ServiceConditionHealthy)
					}
					if d.Condition == types.ServiceConditionHealthy && p.Services[dep].HealthCheck == nil {
						t.Errorf("%s waits for %s to be healthy, but %s has no healthcheck", name, dep, dep)
					}
				}
				if !isFootfall(s) {
					continue
				}
				checkFootfallService(t, p, name, s, users)
			}
			for _, want := range []string{"migrate", "collector", "aggregator"} {
				if _, ok := p.Services[want]; !ok {
					t.Errorf("no %s service", want)
				}
			}
		})
	}
}

func checkFootfallService(t *testing.T, p *types.Project, name string, s types.ServiceConfig, users []byte) {
	t.Helper()
	words, rest, flags := footfallCommand(t, s.Command)
	for _, arg := range rest {
		if !strings.HasPrefix(arg, "-") {
			continue
		}
		flag, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if !slices.Contains(flags, flag) {
			t.Errorf("%s: footfall %s has no flag -%s", name, strings.Join(words, " "), flag)
		}
	}
	for k, v := range s.Environment {
		if !strings.HasPrefix(k, "FOOTFALL_") {
			continue
		}
		if !slices.ContainsFunc(flags, func(f string) bool { return envName(f) == k }) {
			t.Errorf("%s: footfall %s has no setting %s", name, strings.Join(words, " "), k)
		}
		if k == "FOOTFALL_STORE" && v != nil {
			checkStore(t, p, name, *v, users)
		}
		if k == "FOOTFALL_CONFIG" && v != nil && !mounted(s, *v) {
			t.Errorf("%s: FOOTFALL_CONFIG=%s is not mounted", name, *v)
		}
	}
	// Only the migrate service migrates: every other store user waits for
	// it, and serve must not migrate on start.
	if words[0] == "serve" && !slices.Contains(rest, "-auto-migrate=false") {
		t.Errorf("%s: serve without -auto-migrate=false", name)
	}
	if words[0] != "migrate" && s.DependsOn["migrate"].Condition != types.ServiceConditionCompletedSuccessfully {
		t.Errorf("%s: does not wait for migrate to complete", name)
	}
	if words[0] == "serve" {
		if s.HealthCheck == nil || len(s.HealthCheck.Test) < 3 || s.HealthCheck.Test[2] != "healthcheck" {
			t.Errorf("%s: healthcheck %v, want footfall healthcheck", name, s.HealthCheck)
		} else if _, ok := commandFlags(t, []string{"healthcheck"}); !ok {
			t.Error("footfall has no healthcheck command")
		}
		addr := s.Environment["FOOTFALL_ADDR"]
		if addr == nil {
			t.Fatalf("%s: no FOOTFALL_ADDR", name)
		}
		for _, port := range s.Ports {
			if !strings.HasSuffix(*addr, ":"+strconv.FormatUint(uint64(port.Target), 10)) {
				t.Errorf("%s: publishes container port %d but listens on %s", name, port.Target, *addr)
			}
		}
	}
}

func mounted(s types.ServiceConfig, path string) bool {
	for _, v := range s.Volumes {
		if path == v.Target || strings.HasPrefix(path, v.Target+"/") {
			return true
		}
	}
	return false
}

var storeDSN = regexp.MustCompile(`^clickhouse://([a-z_]+):([^@]*)@([^/]+)/([a-z_]+)(\?cluster=([a-z_]+))?$`)

// checkStore checks a ClickHouse DSN: its user exists in users.d, its hosts
// are services of the project, and a cluster is named in the cluster config.
func checkStore(t *testing.T, p *types.Project, service, dsn string, users []byte) {
	t.Helper()
	m := storeDSN.FindStringSubmatch(dsn)
	if m == nil {
		t.Errorf("%s: FOOTFALL_STORE %q is not clickhouse://user:password@host:9000/db", service, dsn)
		return
	}
	user, pass, hosts, cluster := m[1], m[2], m[3], m[6]
	if !strings.Contains(string(users), "<"+user+">") {
		t.Errorf("%s: ClickHouse user %s is not in users.d/footfall.xml", service, user)
	}
	if pass == "" {
		t.Errorf("%s: empty ClickHouse password", service)
	}
	for _, h := range strings.Split(hosts, ",") {
		host, port, _ := strings.Cut(h, ":")
		if _, ok := p.Services[host]; !ok {
			t.Errorf("%s: store host %s is not a service", service, host)
		}
		if port != "9000" {
			t.Errorf("%s: store host %s: want the native port 9000", service, h)
		}
		if s, ok := p.Services[host]; ok {
			if _, ok := s.Environment["CLICKHOUSE_"+strings.ToUpper(strings.TrimPrefix(user, "footfall_"))+"_PASSWORD"]; !ok {
				t.Errorf("%s: %s does not get the password of %s", service, host, user)
			}
		}
	}
	if cluster != "" {
		cfg, err := os.ReadFile("cluster/cluster.xml")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(cfg), "<"+cluster+">") {
			t.Errorf("%s: cluster %s is not in cluster/cluster.xml", service, cluster)
		}
	}
}

// TestEnvExampleComplete checks that .env.example lists every variable the
// compose files use, and nothing else.
func TestEnvExampleComplete(t *testing.T) {
	env := envExample(t)
	used := map[string]bool{}
	ref := regexp.MustCompile(`(^|[^$])\$\{([A-Z0-9_]+)`)
	for _, file := range composeFiles {
		body, err := os.ReadFile(filepath.Join("..", file))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ref.FindAllStringSubmatch(string(body), -1) {
			used[m[2]] = true
		}
	}
	for v := range used {
		if _, ok := env[v]; !ok {
			t.Errorf("compose uses ${%s}; .env.example does not document it", v)
		}
	}
	for v := range env {
		// Read by compose itself, not by a file.
		if !used[v] && v != "COMPOSE_PROJECT_NAME" {
			t.Errorf(".env.example documents %s; no compose file uses it", v)
		}
	}
}

// TestUsersHaveNoDefault checks that the ClickHouse users file removes the
// password-less default user and that every user has a password.
func TestUsersHaveNoDefault(t *testing.T) {
	users, err := os.ReadFile("clickhouse/users.d/footfall.xml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(users), `<default remove="remove"/>`) {
		t.Error("users.d/footfall.xml keeps the default user")
	}
	for _, u := range []string{"footfall_admin", "footfall_collector", "footfall_aggregator"} {
		block := regexp.MustCompile(`(?s)<` + u + `>(.*?)</` + u + `>`).FindStringSubmatch(string(users))
		if block == nil {
			t.Errorf("no user %s", u)
			continue
		}
		if !strings.Contains(block[1], `<password from_env=`) {
			t.Errorf("user %s has no password from the environment", u)
		}
	}
}

// TestUsersGrants checks each ClickHouse user's grants (ClickHouse 20.4+
// enforces them; CI's 18.16 ignores them, so they are checked here): the
// collector never drops, truncates or creates; the aggregator never reads
// consent keys, salts, dashboard users, tokens, sessions or the audit log.
func TestUsersGrants(t *testing.T) {
	users, err := os.ReadFile("clickhouse/users.d/footfall.xml")
	if err != nil {
		t.Fatal(err)
	}
	grants := func(user string) []string {
		block := regexp.MustCompile(`(?s)<` + user + `>(.*?)</` + user + `>`).FindStringSubmatch(string(users))
		if block == nil {
			t.Fatalf("no user %s", user)
		}
		var out []string
		for _, m := range regexp.MustCompile(`<query>(.*?)</query>`).FindAllStringSubmatch(block[1], -1) {
			out = append(out, m[1])
		}
		return out
	}
	// Every table the migrations create is named in each user's grants,
	// or listed here with why not: a new table needs a decision (18.16,
	// the test server, ignores grants, so only this test sees a missing one).
	notNamed := map[string]map[string]string{
		"footfall_collector": { // reads every table (SELECT ON footfall.*)
			"rollups": "the aggregator's", "consent_rollups": "the aggregator's", "rollup_runs": "the aggregator's",
			"report_keys": "the aggregator's", "report_sends": "the aggregator's", "visitor_sketches": "the aggregator's",
		},
		"footfall_aggregator": {
			"consent_keys": "a secret", "salts": "a secret", "auth_users": "access control", "auth_tokens": "access control",
			"auth_token_uses": "access control", "auth_sessions": "access control", "auth_totp": "a secret", "audit_log": "access control",
			"consent_updates": "the collector's", "erasures": "the collector's", "policy_versions": "the collector's",
			"partner_releases": "served by the collector", "share_links": "a secret", "annotations": "the analysts'", "segments": "the analysts'",
		},
	}
	migrations, err := filepath.Glob("../store/clickhouse/migrations/*.sql")
	if err != nil || len(migrations) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	var tables []string
	for _, m := range migrations {
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range regexp.MustCompile(`CREATE TABLE IF NOT EXISTS (\w+)`).FindAllStringSubmatch(string(b), -1) {
			tables = append(tables, c[1])
		}
	}
	for user, skip := range notNamed {
		all := strings.Join(grants(user), "\n")
		for _, table := range tables {
			named := regexp.MustCompile(`footfall\.` + table + `\b`).MatchString(all)
			if _, ok := skip[table]; !named && !ok {
				t.Errorf("%s: no grant names table %s: grant what it needs or list it in notNamed with why not", user, table)
			}
			if named && regexp.MustCompile(`footfall\.`+table+`_local\b`).FindString(all) == "" {
				t.Errorf("%s: table %s is granted, %s_local (cluster mode) is not", user, table, table)
			}
		}
	}
	for _, g := range grants("footfall_collector") {
		for _, bad := range []string{"DROP TABLE", "DROP DATABASE", "TRUNCATE", "CREATE", "GRANT ALL"} {
			if strings.Contains(g, bad) {
				t.Errorf("footfall_collector: %s", g)
			}
		}
	}
	for _, g := range grants("footfall_aggregator") {
		for _, secret := range []string{"consent_keys", "salts", "auth_", "audit_log", "GRANT ALL", "DROP TABLE", "TRUNCATE"} {
			if strings.Contains(g, secret) {
				t.Errorf("footfall_aggregator: %s", g)
			}
		}
		if strings.HasPrefix(g, "GRANT SELECT") && strings.Contains(g, "footfall.*") {
			t.Errorf("footfall_aggregator reads every table: %s", g)
		}
	}
}
