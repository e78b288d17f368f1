package store_test

import (
	"os/exec"
	"strings"
	"testing"
)

// module is the import path of the Footfall module.
const module = "github.com/footfall/footfall"

// layers places every package of the module, by path prefix: a package may
// import packages of its own layer or below, never above. The model (store)
// is at the bottom, ingestion and summaries in the middle, what wires and
// shows on top. httpapi and deploy import nothing of the module.
var layers = []struct {
	prefix string
	layer  int
}{
	{"cmd", 3},
	{"server", 3},
	{"web", 3},
	{"aggregator", 2},
	{"collector", 2},
	{"config", 2},
	{"store", 1},
	{"httpapi", 0},
	{"deploy", 0},
}

// siblings are arrows forbidden within a layer: summaries and ingestion
// share the model, not each other's code.
var siblings = [][2]string{
	{"aggregator", "collector"},
	{"collector", "aggregator"},
}

func layerOf(pkg string) (int, bool) {
	for _, l := range layers {
		if pkg == l.prefix || strings.HasPrefix(pkg, l.prefix+"/") {
			return l.layer, true
		}
	}
	return 0, false
}

func within(pkg, prefix string) bool { return pkg == prefix || strings.HasPrefix(pkg, prefix+"/") }

// TestImportDirection fails for every import (not counting _test.go files)
// that points up a layer or across a forbidden sibling arrow, and for a
// package that has no layer yet.
func TestImportDirection(t *testing.T) {
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"/...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var n int
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		from := strings.TrimPrefix(fields[0], module+"/")
		fromLayer, ok := layerOf(from)
		if !ok {
			t.Errorf("package %s has no layer: add it to layers in store/imports_test.go", from)
			continue
		}
		n++
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			to := strings.TrimPrefix(imp, module+"/")
			toLayer, ok := layerOf(to)
			if !ok {
				continue // reported as the importing side of its own line
			}
			if toLayer > fromLayer {
				t.Errorf("%s -> %s points up (layer %d imports layer %d)", from, to, fromLayer, toLayer)
			}
			for _, s := range siblings {
				if within(from, s[0]) && within(to, s[1]) {
					t.Errorf("%s -> %s: %s must not import %s", from, to, s[0], s[1])
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("go list found no packages")
	}
}
