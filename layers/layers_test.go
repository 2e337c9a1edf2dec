// Package layers holds the test of the module's import layers: what each
// layer may import, read from `go list`, so a new import that breaks the
// picture in docs/architecture.md fails here rather than in review.
package layers

import (
	"os/exec"
	"strings"
	"testing"
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
// (what two share is in api/v1alpha1 or internal/); api/v1alpha1 imports
// only internal/.
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
			case strings.HasPrefix(p, "api/") && top(i) != "internal":
				out = append(out, p+" imports "+i+": the config types import only internal/")
			}
		}
	}
	return out
}
