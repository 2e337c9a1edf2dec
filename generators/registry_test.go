package generators_test

import (
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/generators"
	"github.com/rhoai-demo/step07/internal/kit"
	"github.com/rhoai-demo/step07/internal/manifest"
)

func demo(t *testing.T) *v1alpha1.ModelPerformanceMetrics {
	c, err := v1alpha1.LoadConfig([]byte("apiVersion: step07.rhoai-demo.io/v1alpha1\nkind: ModelPerformanceMetrics\nspec: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestStreamStableAndOrdered(t *testing.T) {
	c := demo(t)
	a, err := generators.Objects(c)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := generators.Objects(c)
	sa, err := manifest.Stream(a)
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := manifest.Stream(b)
	if string(sa) != string(sb) {
		t.Fatal("two renders differ")
	}
	first := strings.SplitN(string(sa), "\n", 4)
	if !strings.HasPrefix(first[0], "apiVersion: ") || !strings.HasPrefix(first[1], "kind: ") || first[2] != "metadata:" {
		t.Errorf("field order: %q", first[:3])
	}
	if strings.Contains(string(sa), "creationTimestamp") || strings.Contains(string(sa), "\nstatus:") {
		t.Error("creationTimestamp or status in output")
	}
}

// TestRegistry: every generator has a distinct component, the argocd one is
// the only one not deployed, and every object carries its component's label.
func TestRegistry(t *testing.T) {
	c := demo(t)
	seen := map[string]bool{}
	for _, g := range generators.Registry {
		if seen[g.Component] || g.Component == "" || g.Objects == nil {
			t.Errorf("registry entry %+v", g)
		}
		seen[g.Component] = true
		if g.Deployed == (g.Component == "argocd") {
			t.Errorf("%s: deployed %v", g.Component, g.Deployed)
		}
	}
	comps, err := generators.Components(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, comp := range comps {
		for _, o := range comp.Objects {
			if l := o.GetLabels(); l[kit.LabelManagedBy] != kit.ManagedBy || l[kit.LabelComponent] == "" {
				t.Errorf("%s: labels %v", kit.ID(o), l)
			}
		}
	}
	app, err := generators.ArgoCD(c)
	if err != nil || len(app) != 2 || kit.Kind(app[0]) != "ConfigMap" || kit.Kind(app[1]) != "Application" {
		t.Errorf("ArgoCD objects: %d, err %v", len(app), err)
	}
}
