package prometheus_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/generators"
	"github.com/rhoai-demo/step07/generators/prometheus"
	"github.com/rhoai-demo/step07/internal/kit"
	"github.com/rhoai-demo/step07/internal/testenv"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
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
	promtool := testenv.Promtool(t)
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
			if !strings.Contains(cfg, "scrape_interval: "+kit.PromDuration(c.Spec.Prometheus.ScrapeInterval.Duration)+"\n") {
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
			jobs := 0
			for _, sc := range parsed["scrape_configs"].([]any) {
				m := sc.(map[string]any)
				sd := m["kubernetes_sd_configs"].([]any)[0].(map[string]any)
				names := sd["namespaces"].(map[string]any)["names"].([]any)
				// one pod job per model in the config's namespace, the
				// DCGM exporter's endpoints in its namespace
				want := map[bool][2]string{false: {"pod", c.Spec.Namespace}, true: {"endpoints", c.Spec.Monitoring.DCGMNamespace}}[m["job_name"] == prometheus.DCGMJobName]
				if sd["role"] != want[0] || len(names) != 1 || names[0] != want[1] {
					t.Errorf("%s: kubernetes_sd_configs: %v, want role %s in %s", m["job_name"], sd, want[0], want[1])
				}
				if m["scrape_interval"] != kit.PromDuration(c.Spec.Prometheus.ScrapeInterval.Duration) {
					t.Errorf("%s: scrape_interval %v", m["job_name"], m["scrape_interval"])
				}
				jobs++
				delete(m, "kubernetes_sd_configs")
				m["static_configs"] = []any{map[string]any{"targets": []any{"127.0.0.1:8080"}}}
			}
			if jobs != len(c.Spec.Models)+1 {
				t.Errorf("%d scrape jobs, want one per model and the DCGM exporter", jobs)
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

// TestDCGMRBAC: outside the config's namespace the DCGM exporter is
// discovered with a Role and RoleBinding in spec.monitoring.dcgmNamespace,
// named after the config's namespace (two installs share the GPU
// operator's namespace), read-only, bound to perf-prometheus's
// ServiceAccount; with dcgmNamespace the config's own namespace, the
// Prometheus Role there covers it and nothing more is generated.
func TestDCGMRBAC(t *testing.T) {
	rbacIn := func(spec string) (*v1alpha1.ModelPerformanceMetrics, []*rbacv1.Role, []*rbacv1.RoleBinding) {
		c := load(t, spec)
		objs, err := prometheus.Objects(c)
		if err != nil {
			t.Fatal(err)
		}
		var roles []*rbacv1.Role
		var rbs []*rbacv1.RoleBinding
		for _, o := range objs {
			switch x := o.(type) {
			case *rbacv1.Role:
				roles = append(roles, x)
			case *rbacv1.RoleBinding:
				rbs = append(rbs, x)
			}
		}
		return c, roles, rbs
	}
	c, roles, rbs := rbacIn("spec: {namespace: team-a, monitoring: {dcgmNamespace: gpu-operator}}\n")
	if len(roles) != 2 || len(rbs) != 2 {
		t.Fatalf("%d Roles, %d RoleBindings; want perf-prometheus's and the DCGM ones", len(roles), len(rbs))
	}
	r, rb := roles[1], rbs[1]
	if r.Namespace != "gpu-operator" || r.Name != "team-a-perf-prometheus-dcgm" || r.Name != c.PrometheusDCGMRoleName() {
		t.Errorf("DCGM Role %s/%s", r.Namespace, r.Name)
	}
	if fmt.Sprint(r.Rules) != fmt.Sprint(roles[0].Rules) {
		t.Errorf("DCGM Role rules %v, want the namespace Role's %v", r.Rules, roles[0].Rules)
	}
	if rb.Namespace != "gpu-operator" || rb.RoleRef.Name != r.Name || rb.RoleRef.Kind != "Role" ||
		len(rb.Subjects) != 1 || rb.Subjects[0] != (rbacv1.Subject{Kind: "ServiceAccount", Name: v1alpha1.PrometheusName, Namespace: "team-a"}) {
		t.Errorf("DCGM RoleBinding %+v", rb)
	}
	if _, roles, rbs := rbacIn("spec: {namespace: team-a, monitoring: {dcgmNamespace: team-a}}\n"); len(roles) != 1 || len(rbs) != 1 {
		t.Errorf("dcgmNamespace = namespace: %d Roles, %d RoleBindings, want 1 and 1", len(roles), len(rbs))
	}
	cfg, err := prometheus.Config(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"job_name: " + prometheus.DCGMJobName,
		"regex: " + v1alpha1.DCGMExporterService + ";" + v1alpha1.DCGMExporterPortName,
		"- gpu-operator\n",
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("prometheus.yml lacks %q:\n%s", want, cfg)
		}
	}
}
