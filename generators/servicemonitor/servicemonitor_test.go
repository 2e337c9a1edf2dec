package servicemonitor

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/generators/rules"
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
// with the rules file the rules generator puts in the mounted ConfigMap.
func TestPrometheusConfigChecks(t *testing.T) {
	promtool := testtools.Promtool(t)
	for name, spec := range map[string]string{
		"demo":    "spec: {}\n",
		"kubeish": "spec:\n  platform: kubernetes\n  prometheus: {scrapeInterval: 1m}\n  models:\n  - name: a\n    metricsPort: 8000\n  - name: b\n",
	} {
		t.Run(name, func(t *testing.T) {
			c := load(t, spec)
			cfg, err := Config(c)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(cfg, "scrape_interval: "+PromDuration(c.Spec.Prometheus.ScrapeInterval)+"\n") {
				t.Errorf("scrape interval missing:\n%s", cfg)
			}
			dir := t.TempDir()
			objs, err := rules.Objects(c)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range objs {
				if cm, ok := o.(*corev1.ConfigMap); ok && cm.Name == v1alpha1.RulesConfigMapName {
					for k, v := range cm.Data {
						os.WriteFile(filepath.Join(dir, k), []byte(v), 0o644)
					}
				}
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

func TestServiceMonitorNames(t *testing.T) {
	c := load(t, "spec: {}\n")
	for _, o := range ServiceMonitors(c) {
		if !strings.HasSuffix(o.GetName(), "-perf-metrics") {
			t.Errorf("%s could clash with RHOAI's <isvc>-metrics", o.GetName())
		}
	}
	if PromDuration(v1alpha1.D(90e9)) != "1m30s" || PromDuration(v1alpha1.D(60e9)) != "1m" {
		t.Errorf("PromDuration: %s %s", PromDuration(v1alpha1.D(90e9)), PromDuration(v1alpha1.D(60e9)))
	}
}
