package rules

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/rhoai-demo/step07/internal/yamlenc"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/rhoai-demo/step07/api/kpi"
	"github.com/rhoai-demo/step07/api/v1alpha1"
	vm "github.com/rhoai-demo/step07/api/vllmmetrics"
	"github.com/rhoai-demo/step07/internal/kit"
)

// Component is the base/ folder of these objects.
const Component = "rules"

const (
	// PrometheusRuleName names the PrometheusRule.
	PrometheusRuleName = "step07-sla"
	// FileName is the rules file's key in the ConfigMap (and its file name
	// under v1alpha1.RulesMountPath).
	FileName = "step07-rules.yaml"
	// For is how long a degraded signal must hold before an alert fires.
	For = "5m"
	// RateWindow of the recording rules.
	RateWindow = "5m"
)

// Recording rule names (level:metric:operations), one series per
// namespace and model_name: the graded KPIs' (RecordName) and the queue's.
const (
	RecTTFTP95      = "model_name:vllm_time_to_first_token_seconds:p95_rate5m"
	RecReadingSpeed = "model_name:vllm_reading_speed_tokens_per_second:rate5m"
	RecKVCacheUsage = "model_name:vllm_kv_cache_usage:ratio"
	RecQueue        = "model_name:vllm_num_requests_waiting:sum"
	RecSuccessRatio = "model_name:vllm_request_success:ratio_rate5m"
)

// Alert names: the graded KPIs' (kpi.KPIs' Alert) and the queue's.
const (
	AlertTTFT         = "VLLMTimeToFirstTokenP95Degraded"
	AlertReadingSpeed = "VLLMReadingSpeedDegraded"
	AlertQueue        = "VLLMRequestsQueuedSustained"
	AlertKVCache      = "VLLMKVCacheNearlyFull"
	AlertITLP99       = "VLLMInterTokenLatencyP99Degraded"
	AlertSuccess      = "VLLMSuccessRateDegraded"
)

// Rule is one recording or alerting rule, the common model of both outputs.
type Rule struct {
	Record      string            `json:"record,omitempty"`
	Alert       string            `json:"alert,omitempty"`
	Expr        string            `json:"expr"`
	For         string            `json:"for,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Group is a rule group.
type Group struct {
	Name  string `json:"name"`
	Rules []Rule `json:"rules"`
}

// File is a Prometheus rules file.
type File struct {
	Groups []Group `json:"groups"`
}

const by = "namespace, model_name"

// Groups returns the rule groups for a defaulted config: a recording rule
// and an alert for each KPI the SLA grades that has an alert in kpi.KPIs,
// its series from the KPI's source and its threshold the degraded one, then
// the queue's ("queue > 0 consistently" is a breaking rule over /metrics
// samples, not a graded KPI).
func Groups(c *v1alpha1.ModelPerformanceMetrics) []Group {
	var rec, alerts []Rule
	for _, x := range kpi.Graded(c.Spec.Sweep.EffectiveSLA()) {
		s, ok := signal(x.KPI)
		if x.Alert == nil || !ok {
			continue
		}
		rec = append(rec, Rule{Record: s.record, Expr: s.expr})
		thr := x.Texts()[2]
		alerts = append(alerts, alert(c, x.Alert.Name, x.Alert.Severity,
			fmt.Sprintf("%s %s %s", s.record, map[bool]string{true: "<", false: ">"}[x.Higher], num(x.T.Degraded/s.per)),
			x.Alert.Summary, fmt.Sprintf(x.Alert.Desc, thr, For, RateWindow)))
	}
	rec = append(rec, Rule{Record: RecQueue, Expr: fmt.Sprintf("sum by(%s)(%s)", by, vm.DedupScrapes(vm.NumRequestsWaiting))})
	alerts = append(alerts, alert(c, AlertQueue, "warning", fmt.Sprintf("%s > 0", RecQueue),
		"Requests are queueing at {{ $labels.model_name }}",
		fmt.Sprintf("{{ $labels.model_name }} in {{ $labels.namespace }} has had requests waiting ({{ $value }} now) for %s: the server is past its concurrency capacity (max-num-seqs or KV cache).", For)))
	return []Group{
		{Name: "step07-sla-signals", Rules: rec},
		{Name: "step07-sla-alerts", Rules: alerts},
	}
}

// live is a KPI's live series: its recording rule, the rule's
// expression, and the divisor from the KPI's unit to the series' (100 from
// percent to a ratio).
type live struct {
	record, expr string
	per          float64
}

// signal is the recording rule of a KPI's source: a latency percentile
// from vLLM's histogram of it, the reading speed (1 / mean inter-token
// latency), the KV cache usage or the success ratio; ok false where vLLM
// has no such series.
func signal(k kpi.KPI) (live, bool) {
	// rate of one counter or histogram series, and a gauge, one copy per pod
	rate := func(metric string) string {
		return vm.DedupScrapes(fmt.Sprintf("rate(%s[%s])", metric, RateWindow))
	}
	gauge := vm.DedupScrapes
	switch src := k.Source; src.From {
	case kpi.FromLatency:
		metrics := map[string][]string{
			kpi.DistTTFT: {vm.TimeToFirstTokenSeconds},
			kpi.DistITL:  {vm.InterTokenLatencySeconds, vm.TimePerOutputTokenSeconds},
			kpi.DistE2E:  {vm.E2ERequestLatencySeconds},
		}[src.Dist]
		if metrics == nil {
			return live{}, false
		}
		var buckets []string
		for _, m := range metrics {
			buckets = append(buckets, rate(m+"_bucket"))
		}
		q := num(src.Quantile)
		return live{
			record: fmt.Sprintf("model_name:%s:p%s_rate%s", strings.ReplaceAll(metrics[0], ":", "_"), num(math.Round(src.Quantile*1000)/10), RateWindow),
			expr:   fmt.Sprintf("histogram_quantile(%s, sum by(%s, le)(%s))", q, by, strings.Join(buckets, " or ")),
			per:    1,
		}, true
	case kpi.FromRate:
		return live{record: RecReadingSpeed, per: 1, expr: fmt.Sprintf(
			"sum by(%[1]s)(%[2]s or %[3]s)\n/\nsum by(%[1]s)(%[4]s or %[5]s)", by,
			rate(vm.InterTokenLatencySeconds+"_count"), rate(vm.TimePerOutputTokenSeconds+"_count"),
			rate(vm.InterTokenLatencySeconds+"_sum"), rate(vm.TimePerOutputTokenSeconds+"_sum"))}, true
	case kpi.FromKVCache:
		return live{record: RecKVCacheUsage, per: 100,
			expr: fmt.Sprintf("max by(%s)(%s or %s)", by, gauge(vm.KVCacheUsagePerc), gauge(vm.GPUCacheUsagePerc))}, true
	case kpi.FromSuccess:
		return live{record: RecSuccessRatio, per: 100, expr: fmt.Sprintf(
			"sum by(%[1]s)(%[2]s)\n/\nsum by(%[1]s)(%[3]s)", by,
			rate(vm.RequestSuccessTotal+`{finished_reason=~"stop|length"}`), rate(vm.RequestSuccessTotal))}, true
	}
	return live{}, false
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// RunbookURL is the runbook section of an alert (docs/alerts.md) in the configured repository.
func RunbookURL(c *v1alpha1.ModelPerformanceMetrics, alertName string) string {
	repo := strings.TrimSuffix(strings.TrimRight(c.Spec.ArgoCD.RepoURL, "/"), ".git")
	rev := c.Spec.ArgoCD.Revision
	if rev == "" {
		rev = "main"
	}
	return fmt.Sprintf("%s/blob/%s/docs/alerts.md#%s", repo, rev, strings.ToLower(alertName))
}

func alert(c *v1alpha1.ModelPerformanceMetrics, name, severity, expr, summary, desc string) Rule {
	return Rule{
		Alert:  name,
		Expr:   expr,
		For:    For,
		Labels: map[string]string{"severity": severity},
		Annotations: map[string]string{
			"summary":     summary,
			"description": desc,
			"runbook_url": RunbookURL(c, name),
			"runbook":     "docs/alerts.md, section " + name,
		},
	}
}

// RulesFile renders the groups as a Prometheus rules file.
func RulesFile(c *v1alpha1.ModelPerformanceMetrics) ([]byte, error) {
	return yamlenc.Marshal(File{Groups: Groups(c)})
}

func labels() map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":       "step07-rules",
		"app.kubernetes.io/part-of":    "step07-model-performance-metrics",
		"app.kubernetes.io/managed-by": "step07gen",
	}
}

// Objects returns the PrometheusRule and the ConfigMap holding the same
// groups as a rules file.
func Objects(c *v1alpha1.ModelPerformanceMetrics) ([]kit.Object, error) {
	if c == nil {
		return nil, fmt.Errorf("rules: nil config")
	}
	file, err := RulesFile(c)
	if err != nil {
		return nil, err
	}
	pr := &monitoringv1.PrometheusRule{
		TypeMeta:   metav1.TypeMeta{APIVersion: monitoringv1.SchemeGroupVersion.String(), Kind: monitoringv1.PrometheusRuleKind},
		ObjectMeta: metav1.ObjectMeta{Name: PrometheusRuleName, Namespace: c.Spec.Namespace, Labels: labels()},
	}
	for _, g := range Groups(c) {
		rg := monitoringv1.RuleGroup{Name: g.Name}
		for _, r := range g.Rules {
			mr := monitoringv1.Rule{Record: r.Record, Alert: r.Alert, Expr: intstr.FromString(r.Expr), Labels: r.Labels, Annotations: r.Annotations}
			if r.For != "" {
				d := monitoringv1.Duration(r.For)
				mr.For = &d
			}
			rg.Rules = append(rg.Rules, mr)
		}
		pr.Spec.Groups = append(pr.Spec.Groups, rg)
	}
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: v1alpha1.RulesConfigMapName, Namespace: c.Spec.Namespace, Labels: labels()},
		Data:       map[string]string{FileName: string(file)},
	}
	return []kit.Object{pr, cm}, nil
}
