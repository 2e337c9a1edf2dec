package rules

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/prometheus/promql/parser"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/rhoai-demo/step07/api/kpi"
	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/internal/testenv"
)

func defaulted(t testing.TB) *v1alpha1.ModelPerformanceMetrics {
	t.Helper()
	c := &v1alpha1.ModelPerformanceMetrics{}
	if err := c.Default(); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestObjects(t *testing.T) {
	c := defaulted(t)
	c.Spec.Namespace = "perf-ns"
	objs, err := Objects(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 {
		t.Fatalf("%d objects", len(objs))
	}
	pr, ok := objs[0].(*monitoringv1.PrometheusRule)
	if !ok || pr.Kind != "PrometheusRule" || pr.APIVersion != "monitoring.coreos.com/v1" || pr.Namespace != "perf-ns" || pr.Name != PrometheusRuleName {
		t.Fatalf("PrometheusRule: %T %+v", objs[0], objs[0])
	}
	cm, ok := objs[1].(*corev1.ConfigMap)
	if !ok || cm.Kind != "ConfigMap" || cm.APIVersion != "v1" || cm.Name != v1alpha1.RulesConfigMapName || cm.Namespace != "perf-ns" {
		t.Fatalf("ConfigMap: %T %+v", objs[1], objs[1])
	}
	// the ConfigMap's file and the PrometheusRule hold the same groups
	var file File
	if err := yaml.UnmarshalStrict([]byte(cm.Data[FileName]), &file); err != nil {
		t.Fatal(err)
	}
	var fromCR []Group
	for _, g := range pr.Spec.Groups {
		fg := Group{Name: g.Name}
		for _, r := range g.Rules {
			fr := Rule{Record: r.Record, Alert: r.Alert, Expr: r.Expr.String(), Labels: r.Labels, Annotations: r.Annotations}
			if r.For != nil {
				fr.For = string(*r.For)
			}
			fg.Rules = append(fg.Rules, fr)
		}
		fromCR = append(fromCR, fg)
	}
	if diff := cmp.Diff(file.Groups, fromCR); diff != "" {
		t.Errorf("PrometheusRule and rules file differ: %s", diff)
	}
	again, _ := Objects(c)
	if diff := cmp.Diff(objs, again); diff != "" {
		t.Errorf("not deterministic: %s", diff)
	}
}

func TestRulesWellFormed(t *testing.T) {
	c := defaulted(t)
	// every KPI's alert: ITL p99's exists once the SLA grades it
	c.Spec.Sweep.SLA.ITLP99 = v1alpha1.DurationThresholds{Excellent: v1alpha1.D(50 * time.Millisecond),
		Acceptable: v1alpha1.D(100 * time.Millisecond), Degraded: v1alpha1.D(250 * time.Millisecond)}
	p := parser.NewParser(parser.Options{})
	alerts := map[string]bool{}
	for _, g := range Groups(c) {
		for _, r := range g.Rules {
			if _, err := p.ParseExpr(r.Expr); err != nil {
				t.Errorf("%s%s: %v", r.Record, r.Alert, err)
			}
			if r.Alert == "" {
				continue
			}
			alerts[r.Alert] = true
			for _, k := range []string{"summary", "description", "runbook_url", "runbook"} {
				if r.Annotations[k] == "" {
					t.Errorf("%s: no %s", r.Alert, k)
				}
			}
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("%s: severity %q", r.Alert, s)
			}
			if r.For == "" {
				t.Errorf("%s: no for", r.Alert)
			}
			want := "https://github.com/rhoai-demo/step07/blob/main/docs/alerts.md#" + strings.ToLower(r.Alert)
			if r.Annotations["runbook_url"] != want {
				t.Errorf("%s: runbook_url %q, want %q", r.Alert, r.Annotations["runbook_url"], want)
			}
		}
	}
	// every alert has its runbook section in docs/alerts.md: those of this
	// config, and every KPI's in the table whether this config grades it
	// or not (a KPI added to the table without its runbook fails here)
	for _, x := range kpi.KPIs {
		if x.Alert != nil {
			alerts[x.Alert.Name] = true
		}
	}
	readme, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "docs", "alerts.md"))
	if err != nil {
		t.Fatal(err)
	}
	for a := range alerts {
		if !strings.Contains(string(readme), "\n#### "+a+"\n") {
			t.Errorf("docs/alerts.md has no runbook heading \"#### %s\"", a)
		}
	}
}

// TestThresholdsFromConfig: the alert thresholds are the config's SLA.
func TestThresholdsFromConfig(t *testing.T) {
	c := defaulted(t)
	c.Spec.Sweep.SLA.TTFT.Degraded = v1alpha1.D(3500 * time.Millisecond)
	c.Spec.Sweep.SLA.ReadingSpeed.Degraded = 7
	c.Spec.Sweep.SLA.KVCache.Degraded = 98
	c.Spec.Sweep.SLA.Success.Degraded = 90
	want := map[string]string{
		AlertTTFT:         RecTTFTP95 + " > 3.5",
		AlertReadingSpeed: RecReadingSpeed + " < 7",
		AlertKVCache:      RecKVCacheUsage + " > 0.98",
		AlertSuccess:      RecSuccessRatio + " < 0.9",
		AlertQueue:        RecQueue + " > 0",
	}
	check := func(c *v1alpha1.ModelPerformanceMetrics, want map[string]string) {
		t.Helper()
		for _, g := range Groups(c) {
			for _, r := range g.Rules {
				if r.Alert != "" && r.Expr != want[r.Alert] {
					t.Errorf("%s: %q, want %q", r.Alert, r.Expr, want[r.Alert])
				}
			}
		}
	}
	check(c, want)
	// ITL p99, graded once the SLA sets it, gets its alert from the KPI table
	c.Spec.Sweep.SLA.ITLP99 = v1alpha1.DurationThresholds{Excellent: v1alpha1.D(50 * time.Millisecond),
		Acceptable: v1alpha1.D(100 * time.Millisecond), Degraded: v1alpha1.D(250 * time.Millisecond)}
	want[AlertITLP99] = "model_name:vllm_inter_token_latency_seconds:p99_rate5m > 0.25"
	check(c, want)
	if n := len(alertNames(c)); n != 6 {
		t.Errorf("%d alerts with ITL p99 graded, want 6: %v", n, alertNames(c))
	}
	// A sweep of simulators at a time scale judges by the scaled SLA
	// (EffectiveSLA); the alerts on those simulators draw the same lines.
	c.Spec.Sweep.TimeScale = 0.5
	want[AlertTTFT], want[AlertReadingSpeed] = RecTTFTP95+" > 1.75", RecReadingSpeed+" < 14"
	want[AlertITLP99] = "model_name:vllm_inter_token_latency_seconds:p99_rate5m > 0.125"
	check(c, want)
}

// alertNames are the alerts of a config's rules.
func alertNames(c *v1alpha1.ModelPerformanceMetrics) []string {
	var out []string
	for _, g := range Groups(c) {
		for _, r := range g.Rules {
			if r.Alert != "" {
				out = append(out, r.Alert)
			}
		}
	}
	return out
}

func TestPromtoolCheckRules(t *testing.T) {
	promtool := testenv.Promtool(t)
	dir := t.TempDir()
	f, err := RulesFile(defaulted(t))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, FileName)
	if err := os.WriteFile(path, f, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SUCCESS") {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
}

// gen is one vLLM metric generation's names.
type gen struct{ itl, kv string }

var (
	v1 = gen{"vllm:inter_token_latency_seconds", "vllm:kv_cache_usage_perc"}
	v0 = gen{"vllm:time_per_output_token_seconds", "vllm:gpu_cache_usage_perc"}
)

// scrapes are the label sets under which each of a model's pods is
// scraped: by our ServiceMonitor and by RHOAI's <isvc>-metrics one (another
// job, Service, endpoint and, here, port), as user-workload monitoring
// labels them. Every series of a pod exists twice.
func scrapes(model string, pods int) []string {
	var out []string
	for i := range pods {
		pod := fmt.Sprintf("%s-predictor-%d", model, i)
		ip := fmt.Sprintf("10.0.0.%d", i+1)
		out = append(out,
			fmt.Sprintf(`job="%[1]s-perf-metrics", service="%[1]s-predictor", endpoint="8080", instance="%[2]s:8080", pod="%[3]s", container="kserve-container"`, model, ip, pod),
			fmt.Sprintf(`job="%[1]s-metrics", service="%[1]s-metrics", endpoint="metrics", instance="%[2]s:8082", pod="%[3]s", container="kserve-container"`, model, ip, pod))
	}
	return out
}

// series writes the input series of one model: healthy or degraded on every
// signal, with one generation's names, for each of its pods, each pod
// scraped by two jobs (scrapes). Samples every minute for 20 minutes.
func series(model string, g gen, degraded bool, pods int) string {
	var b strings.Builder
	for _, scrape := range scrapes(model, pods) {
		onePod(&b, model, g, degraded, scrape)
	}
	return b.String()
}

// onePod writes one pod's series as one scrape job labels them.
func onePod(b *strings.Builder, model string, g gen, degraded bool, scrape string) {
	lbl := func(extra string) string {
		l := fmt.Sprintf(`namespace="ns", model_name="%s", %s`, model, scrape)
		if g == v1 {
			l += `, engine="0"`
		}
		if extra != "" {
			l += ", " + extra
		}
		return "{" + l + "}"
	}
	s := func(name, labels, values string) {
		fmt.Fprintf(b, "      - series: '%s%s'\n        values: '%s'\n", name, labels, values)
	}
	// TTFT: 1 request/s, all under 0.1 s (healthy) or all in (2.5 s, 5 s]
	if degraded {
		s("vllm:time_to_first_token_seconds_bucket", lbl(`le="0.1"`), "0+0x20")
		s("vllm:time_to_first_token_seconds_bucket", lbl(`le="2.5"`), "0+0x20")
	} else {
		s("vllm:time_to_first_token_seconds_bucket", lbl(`le="0.1"`), "0+60x20")
		s("vllm:time_to_first_token_seconds_bucket", lbl(`le="2.5"`), "0+60x20")
	}
	s("vllm:time_to_first_token_seconds_bucket", lbl(`le="5"`), "0+60x20")
	s("vllm:time_to_first_token_seconds_bucket", lbl(`le="+Inf"`), "0+60x20")
	// inter-token latency: 10 tokens/s; mean 0.01 s (100 tok/s) or 0.2 s (5 tok/s)
	s(g.itl+"_count", lbl(""), "0+600x20")
	if degraded {
		s(g.itl+"_sum", lbl(""), "0+120x20")
	} else {
		s(g.itl+"_sum", lbl(""), "0+6x20")
	}
	// inter-token latency buckets: all in (0, 0.25 s] (healthy, p99 0.2475 s)
	// or in (0.25 s, 0.5 s] (degraded, p99 0.4975 s)
	if degraded {
		s(g.itl+"_bucket", lbl(`le="0.25"`), "0+0x20")
	} else {
		s(g.itl+"_bucket", lbl(`le="0.25"`), "0+600x20")
	}
	s(g.itl+"_bucket", lbl(`le="0.5"`), "0+600x20")
	s(g.itl+"_bucket", lbl(`le="+Inf"`), "0+600x20")
	if degraded {
		s(g.kv, lbl(""), "0.97x20")
		s("vllm:num_requests_waiting", lbl(""), "3x20")
		s("vllm:request_success_total", lbl(`finished_reason="stop"`), "0+45x20")
		s("vllm:request_success_total", lbl(`finished_reason="error"`), "0+15x20")
	} else {
		s(g.kv, lbl(""), "0.5x20")
		s("vllm:num_requests_waiting", lbl(""), "0x20")
		s("vllm:request_success_total", lbl(`finished_reason="stop"`), "0+50x20")
		s("vllm:request_success_total", lbl(`finished_reason="length"`), "0+10x20")
		s("vllm:request_success_total", lbl(`finished_reason="error"`), "0+0x20")
	}
	s("vllm:request_success_total", lbl(`finished_reason="abort"`), "0+0x20")
}

// TestPromtoolUnitTests: with promtool test rules, every alert fires on the
// degraded model after its hold time and stays silent on the healthy one,
// and every recording rule yields the expected value, for both metric
// generations. Every pod is scraped by two jobs (ours and RHOAI's
// <isvc>-metrics) and the degraded model has two pods: the values are those
// of one copy per pod (the queue is 2 pods x 3 waiting, not 12 nor 3).
func TestPromtoolUnitTests(t *testing.T) {
	promtool := testenv.Promtool(t)
	c := defaulted(t)
	// ITL p99 is graded only when the SLA sets it: set here, its alert too
	c.Spec.Sweep.SLA.ITLP99 = v1alpha1.DurationThresholds{Excellent: v1alpha1.D(100 * time.Millisecond),
		Acceptable: v1alpha1.D(200 * time.Millisecond), Degraded: v1alpha1.D(300 * time.Millisecond)}
	dir := t.TempDir()
	f, err := RulesFile(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileName), f, 0o644); err != nil {
		t.Fatal(err)
	}
	ann := map[string]map[string]string{}
	for _, g := range Groups(c) {
		for _, r := range g.Rules {
			if r.Alert != "" {
				ann[r.Alert] = r.Annotations
			}
		}
	}
	// the degraded model's values as the templates render them
	values := map[string]string{
		AlertTTFT:         "4.875s",
		AlertReadingSpeed: "5",
		AlertQueue:        "6",
		AlertKVCache:      "97%",
		AlertSuccess:      "75%",
		AlertITLP99:       "497.5ms",
	}
	render := func(alert, s string) string {
		return strings.NewReplacer(
			"{{ $labels.model_name }}", "bad", "{{ $labels.namespace }}", "ns",
			"{{ $value | humanizeDuration }}", values[alert], "{{ $value | humanize }}", values[alert],
			"{{ $value | humanizePercentage }}", values[alert], "{{ $value }}", values[alert]).Replace(s)
	}
	severity := map[string]string{}
	for _, g := range Groups(c) {
		for _, r := range g.Rules {
			if r.Alert != "" {
				severity[r.Alert] = r.Labels["severity"]
			}
		}
	}
	var tests strings.Builder
	for _, gens := range [][2]gen{{v1, v0}, {v0, v1}} {
		good, bad := gens[0], gens[1]
		fmt.Fprintf(&tests, "  - interval: 1m\n    input_series:\n%s%s", series("good", good, false, 1), series("bad", bad, true, 2))
		// recording rules: exact values for both models
		fmt.Fprintf(&tests, "    promql_expr_test:\n")
		rec := []struct {
			name      string
			good, bad string
		}{
			{RecTTFTP95, "0.095", "4.875"},
			{RecReadingSpeed, "100", "5"},
			{RecKVCacheUsage, "0.5", "0.97"},
			{RecQueue, "0", "6"},
			{RecSuccessRatio, "1", "0.75"},
			{"model_name:vllm_inter_token_latency_seconds:p99_rate5m", "0.2475", "0.4975"},
		}
		for _, r := range rec {
			fmt.Fprintf(&tests, "      - expr: %s\n        eval_time: 10m\n        exp_samples:\n", r.name)
			fmt.Fprintf(&tests, "          - labels: '%s{namespace=\"ns\", model_name=\"good\"}'\n            value: %s\n", r.name, r.good)
			fmt.Fprintf(&tests, "          - labels: '%s{namespace=\"ns\", model_name=\"bad\"}'\n            value: %s\n", r.name, r.bad)
		}
		fmt.Fprintf(&tests, "    alert_rule_test:\n")
		for _, a := range []string{AlertTTFT, AlertReadingSpeed, AlertQueue, AlertKVCache, AlertITLP99, AlertSuccess} {
			// held for less than the hold time: pending, not firing
			fmt.Fprintf(&tests, "      - eval_time: 3m\n        alertname: %s\n        exp_alerts: []\n", a)
			// held long enough: fires for the degraded model only
			fmt.Fprintf(&tests, "      - eval_time: 10m\n        alertname: %s\n        exp_alerts:\n", a)
			fmt.Fprintf(&tests, "          - exp_labels: {severity: %s, namespace: ns, model_name: bad}\n            exp_annotations:\n", severity[a])
			for _, k := range []string{"description", "runbook", "runbook_url", "summary"} {
				fmt.Fprintf(&tests, "              %s: %s\n", k, quote(render(a, ann[a][k])))
			}
		}
	}
	unit := fmt.Sprintf("rule_files: [%s]\nevaluation_interval: 1m\ntests:\n%s", FileName, tests.String())
	path := filepath.Join(dir, "rules_test.yaml")
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool, "test", "rules", path)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SUCCESS") {
		t.Fatalf("promtool test rules: %v\n%s\n--- test file:\n%s", err, out, unit)
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s) // a JSON string is a YAML double-quoted scalar
	return string(b)
}
