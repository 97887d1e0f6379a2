// Package layers holds one test: the import graph of the module keeps the
// direction STYLE.md §1 draws. Every package of the module is placed in a
// layer below; a package imports only packages of lower layers, or of its own
// layer where the layer allows it (protocol packages build on each other,
// wiring calls wiring). A package the table does not place fails the test,
// so a new package is placed on purpose.
//
// Only the packages' own imports are checked, not their tests': a driver's
// test may import web to prove it implements web.SessionStore, and tests
// import the contract suites and helpers beside them.
package layers_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/gpcm/gpcm"

type layer struct {
	rank int
	name string
	// sideways: packages of this layer may import each other.
	sideways bool
}

var (
	leaf     = layer{1, "leaf (imports no other layer)", true}
	protocol = layer{2, "protocol", true}
	service  = layer{3, "service", false}
	mapping  = layer{4, "driver mapping", false}
	edge     = layer{5, "UI, driver, contract-suite and bench", false}
	wiring   = layer{6, "wiring", true}
)

// layers places every package by its path inside the module; a path ending
// in "/..." places the package and everything under it.
var layers = map[string]layer{
	// wiring: chooses and constructs adapters.
	"cmd/gpcm":               wiring,
	"internal/cli":           wiring,
	"internal/e2e":           wiring,
	"meshtest":               wiring,
	"deploy":                 wiring,
	"pgstore/pgstoretest":    wiring, // opens pgstore on the test database
	"blob/s3blob/s3blobtest": wiring, // opens s3blob on the test gateway

	// the UI, the drivers, the contract suites every driver runs, and the
	// load drivers behind gpcm bench: each imports services (for their
	// methods or the record types it persists) and nothing beside it.
	"web":                    edge,
	"sqlitestore":            edge,
	"pgstore":                edge,
	"blob/fileblob":          edge,
	"blob/s3blob":            edge,
	"blob/tier":              edge,
	"storetest":              edge,
	"blob/blobtest":          edge,
	"internal/meshbench":     edge,
	"internal/receiverbench": edge,

	// the tables both SQL drivers share, declared once: they import the
	// services whose record types they map, and the drivers import them.
	"internal/meshsql":   mapping,
	"internal/rcvsql":    mapping,
	"internal/sendersql": mapping,

	"meshserver": service,
	"receiver":   service,
	"sender":     service,

	"fhir":         protocol,
	"itk3":         protocol,
	"senddoc":      protocol,
	"updaterecord": protocol,
	"docview":      protocol,
	"mesh":         protocol,
	"report":       protocol,
	"patient":      protocol,

	"blob":                   leaf, // the payload store interface
	"account":                leaf, // web user accounts, the record both drivers store
	"authlimit":              leaf,
	"httptimeout":            leaf,
	"internal/uuid":          leaf,
	"internal/tlscert":       leaf,
	"internal/testutil/...":  leaf,
	"internal/layers":        leaf,
	"fhir/fhirtest":          leaf,
	"web/internal/htmlcheck": leaf,
}

// exceptions are imports that break the direction on purpose, each with its
// reason; "from → to" as module-relative paths. There are none: storetest
// declares the session store it checks instead of importing web's.
var exceptions = map[string]string{}

func place(rel string) (layer, bool) {
	if l, ok := layers[rel]; ok {
		return l, true
	}
	for p, l := range layers {
		if base, ok := strings.CutSuffix(p, "/..."); ok && (rel == base || strings.HasPrefix(rel, base+"/")) {
			return l, true
		}
	}
	return layer{}, false
}

type pkg struct {
	ImportPath string
	Imports    []string
}

// listPackages runs go list over the module. go test puts the toolchain
// running it first in the test's PATH, so "go" is that toolchain.
func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", module+"/...")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages of %s, want the whole module", len(pkgs), module)
	}
	return pkgs
}

func rel(path string) (string, bool) {
	if path == module {
		return ".", true
	}
	return strings.CutPrefix(path, module+"/")
}

func TestImportsPointDown(t *testing.T) {
	pkgs := listPackages(t)
	used := map[string]bool{}
	for _, p := range pkgs {
		from, _ := rel(p.ImportPath)
		fl, ok := place(from)
		if !ok {
			t.Errorf("%s is in no layer: place it in internal/layers/layers_test.go (STYLE.md §1)", from)
			continue
		}
		for _, imp := range p.Imports {
			to, ok := rel(imp)
			if !ok {
				continue // standard library or another module
			}
			tl, ok := place(to)
			if !ok {
				continue // reported as a package of its own
			}
			if tl.rank < fl.rank || (tl.rank == fl.rank && fl.sideways) {
				continue
			}
			edge := from + " → " + to
			if _, ok := exceptions[edge]; ok {
				used[edge] = true
				continue
			}
			if tl.rank == fl.rank {
				t.Errorf("%s: %s packages do not import each other (STYLE.md §1)", edge, fl.name)
			} else {
				t.Errorf("%s: a %s package imports a %s package; imports point down (STYLE.md §1)", edge, fl.name, tl.name)
			}
		}
	}
	for _, e := range slices.Sorted(maps.Keys(exceptions)) {
		if !used[e] {
			t.Errorf("exception %s (%s) no longer happens: remove it from the list", e, exceptions[e])
		}
	}
	// The table names only packages (or trees) go list finds.
	for _, path := range slices.Sorted(maps.Keys(layers)) {
		base, tree := strings.CutSuffix(path, "/...")
		if !slices.ContainsFunc(pkgs, func(p pkg) bool {
			r, _ := rel(p.ImportPath)
			return r == base || (tree && strings.HasPrefix(r, base+"/"))
		}) {
			t.Errorf("the layer table places %s, which go list does not find: remove it or fix its path", path)
		}
	}
}
