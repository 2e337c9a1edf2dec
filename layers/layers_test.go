// Package layers holds the test of the module's import layers: what each
// layer may import, read from `go list`, so a new import that breaks the
// picture in docs/architecture.md fails here rather than in review.
package layers

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/api/kpi"
)

const mod = "github.com/rhoai-demo/step07/"

// imports maps each package of the module (path relative to the module)
// to the module packages it imports (tests excluded).
func imports(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "github.com/rhoai-demo/step07/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		p := strings.TrimPrefix(f[0], mod)
		m[p] = nil
		for _, i := range f[1:] {
			if r, ok := strings.CutPrefix(i, mod); ok {
				m[p] = append(m[p], r)
			}
		}
	}
	return m
}

func top(p string) string { a, _, _ := strings.Cut(p, "/"); return a }

// TestLayers: internal/ holds bottom-layer libraries only (they import
// nothing of the module but each other: neither the config nor the
// generators nor the programs); a generator imports no other generator
// (what two share is in api/v1alpha1 or internal/); api/ imports only
// api/ and internal/.
func TestLayers(t *testing.T) {
	m := imports(t)
	if len(m) < 20 {
		t.Fatalf("go list found %d packages", len(m))
	}
	for _, v := range violations(m) {
		t.Error(v)
	}
}

// TestLayerRules: the rules catch each kind of wrong import.
func TestLayerRules(t *testing.T) {
	m := map[string][]string{
		"internal/kit":       {"api/v1alpha1"},
		"internal/manifest":  {"internal/kit"},
		"generators/rules":   {"generators/dashboards", "internal/kit", "api/v1alpha1"},
		"generators":         {"generators/rules"},
		"api/v1alpha1":       {"generators/rules", "internal/k8sname"},
		"cmd/step07gen/tree": {"generators"},
	}
	if v := violations(m); len(v) != 3 {
		t.Errorf("want 3 violations, got %q", v)
	}
}

func violations(m map[string][]string) []string {
	var out []string
	for p, imps := range m {
		for _, i := range imps {
			switch {
			case top(p) == "internal" && top(i) != "internal":
				out = append(out, p+" imports "+i+": internal/ is the bottom layer and knows neither the config nor the generators")
			case top(p) == "generators" && strings.Contains(p, "/") && top(i) == "generators" && strings.Split(p, "/")[1] != strings.Split(i, "/")[1]:
				out = append(out, p+" imports "+i+": generators never import each other")
			case top(p) == "api" && top(i) != "internal" && top(i) != "api":
				out = append(out, p+" imports "+i+": the config types and the KPI table import only api/ and internal/")
			}
		}
	}
	return out
}

// TestOneDefinitionOfEachRule: each breaking rule is defined once, in
// api/kpi; no other non-test file spells its name, except where the same
// word means something else (listed, with why).
func TestOneDefinitionOfEachRule(t *testing.T) {
	other := map[string]string{
		"sweep-runner/report/charts.go " + kpi.RuleQueue:         "a chart's kind (waiting requests vs concurrency)",
		"sweep-runner/guidellm/prometheus.go " + kpi.RuleSuccess: "the Prometheus API's status",
		"internal/testenv/prometheus.go " + kpi.RuleSuccess:      "the Prometheus API's status",
	}
	names := map[string]bool{}
	for _, r := range kpi.Rules {
		names[r.Name] = true
	}
	if len(names) < 3 {
		t.Fatalf("kpi.Rules holds %d rules", len(names))
	}
	found := ruleLiterals(t, "..", names)
	for _, f := range found {
		if strings.HasPrefix(f, "api/kpi/") {
			continue
		}
		if _, ok := other[f]; !ok {
			t.Errorf("%s: a breaking rule's name outside api/kpi (use kpi.Rules or its Rule* constants)", f)
		}
	}
	// The check sees a planted copy.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x.go"), []byte("package x\nconst r = \""+kpi.RuleTTFT+"\"\n"), 0o644)
	if got := ruleLiterals(t, dir, names); len(got) != 1 {
		t.Errorf("planted rule name not found: %q", got)
	}
}

// ruleLiterals lists "path name" for every string literal in the non-test
// Go files under root whose value is one of names.
func ruleLiterals(t *testing.T, root string, names map[string]bool) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if v, err := strconv.Unquote(lit.Value); err == nil && names[v] {
					out = append(out, filepath.ToSlash(rel)+" "+v)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
