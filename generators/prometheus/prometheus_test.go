package prometheus_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/generators"
	"github.com/rhoai-demo/step07/generators/prometheus"
	"github.com/rhoai-demo/step07/internal/kit"
	"github.com/rhoai-demo/step07/internal/testtools"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

func load(t *testing.T, spec string) *v1alpha1.ModelPerformanceMetrics {
	t.Helper()
	c, err := v1alpha1.LoadConfig([]byte("apiVersion: step07.rhoai-demo.io/v1alpha1\nkind: ModelPerformanceMetrics\n" + spec))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPrometheusConfigChecks runs promtool on the generated prometheus.yml
// with the rules file the rules generator puts in the mounted ConfigMap, both
// taken from the objects the registry assembles, as the pod sees them.
func TestPrometheusConfigChecks(t *testing.T) {
	promtool := testtools.Promtool(t)
	for name, spec := range map[string]string{
		"demo":    "spec: {}\n",
		"kubeish": "spec:\n  platform: kubernetes\n  prometheus: {scrapeInterval: 1m}\n  models:\n  - name: a\n    metricsPort: 8000\n  - name: b\n",
	} {
		t.Run(name, func(t *testing.T) {
			c := load(t, spec)
			objs, err := generators.Objects(c)
			if err != nil {
				t.Fatal(err)
			}
			data := map[string]map[string]string{}
			for _, o := range objs {
				if cm, ok := o.(*corev1.ConfigMap); ok {
					data[cm.Name] = cm.Data
				}
			}
			cfg := data[prometheus.ConfigMapName]["prometheus.yml"]
			if !strings.Contains(cfg, "scrape_interval: "+kit.PromDuration(c.Spec.Prometheus.ScrapeInterval)+"\n") {
				t.Errorf("scrape interval missing:\n%s", cfg)
			}
			dir := t.TempDir()
			if len(data[v1alpha1.RulesConfigMapName]) == 0 {
				t.Fatalf("no rules ConfigMap %s", v1alpha1.RulesConfigMapName)
			}
			for k, v := range data[v1alpha1.RulesConfigMapName] {
				os.WriteFile(filepath.Join(dir, k), []byte(v), 0o644)
			}
			cfg = strings.ReplaceAll(cfg, v1alpha1.RulesMountPath, dir)
			// Debian's Prometheus is built without Kubernetes discovery: check
			// the SD block's shape here and let promtool check everything else
			// (globals, rule files, relabelling) with a static target instead.
			var parsed map[string]any
			if err := yaml.Unmarshal([]byte(cfg), &parsed); err != nil {
				t.Fatal(err)
			}
			for _, sc := range parsed["scrape_configs"].([]any) {
				m := sc.(map[string]any)
				sd := m["kubernetes_sd_configs"].([]any)[0].(map[string]any)
				if sd["role"] != "pod" || len(sd["namespaces"].(map[string]any)["names"].([]any)) != 1 {
					t.Errorf("kubernetes_sd_configs: %v", sd)
				}
				delete(m, "kubernetes_sd_configs")
				m["static_configs"] = []any{map[string]any{"targets": []any{"127.0.0.1:8080"}}}
			}
			b, _ := yaml.Marshal(parsed)
			p := filepath.Join(dir, "prometheus.yml")
			os.WriteFile(p, b, 0o644)
			out, err := exec.Command(promtool, "check", "config", p).CombinedOutput()
			if err != nil {
				t.Fatalf("promtool check config: %v\n%s\n%s", err, out, cfg)
			}
			if !strings.Contains(string(out), "SUCCESS: 1 rule files found") {
				t.Errorf("rules not loaded:\n%s", out)
			}
		})
	}
}
