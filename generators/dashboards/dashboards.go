package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/internal/kit"
)

// Component is the base/ folder of these objects.
const Component = "dashboards"

// Stable dashboard uids: links and bookmarks survive regeneration.
const (
	UIDProduction = "step07-vllm-production"
	UIDGPU        = "step07-gpu-dcgm"
	UIDComparison = "step07-mistral-scale"
	UIDSweep      = "step07-sweep-results"
)

// Dashboard is one generated dashboard.
type Dashboard struct {
	// Name is the ConfigMap name and, with ".json", its data key.
	Name  string
	UID   string
	Title string
	// JSON is the pretty-printed dashboard model.
	JSON []byte
}

// Key is the ConfigMap data key holding the dashboard JSON.
func (d Dashboard) Key() string { return d.Name + ".json" }

// gen is one dashboard of the catalog.
type gen struct {
	name, uid, title string
	fn               func(*v1alpha1.ModelPerformanceMetrics, *board) error
	tags             []string
	from             string
	vars             func(*v1alpha1.ModelPerformanceMetrics) []cog.Builder[dashboard.VariableModel]
	desc             string
}

// catalog lists every dashboard; its names do not depend on the config, so
// Grafana mounts them by name (v1alpha1.DashboardConfigMapNames) without
// building the dashboards.
var catalog = []gen{
	{v1alpha1.DashboardProductionName, UIDProduction, "vLLM Production Metrics", production, []string{"vllm"}, "now-1h", liveVars,
		"Live vLLM serving metrics per model: latency SLAs, throughput, queue and KV cache. Works with vLLM V1 and older metric names."},
	{v1alpha1.DashboardGPUName, UIDGPU, "GPU Infrastructure (DCGM)", gpu, []string{"gpu", "dcgm"}, "now-1h", liveVars,
		"NVIDIA DCGM exporter metrics of the GPUs serving each model's predictor pods (pod or exported_pod labelling)."},
	{v1alpha1.DashboardComparisonName, UIDComparison, "Mistral Scale Comparison", comparison, []string{"vllm", "sweep", "comparison"}, "now-24h", comparisonVars,
		"A/B view of two model variants: breaking point from the latest sweep, live efficiency per GPU, KV cache wall, power and the B-to-A ratios."},
	{v1alpha1.DashboardSweepName, UIDSweep, "Sweep Results", sweepResults, []string{"sweep"}, "now-7d", sweepVars,
		"Concurrency sweep results written by sweep-runner (remote write): per model and scenario, latency and throughput against concurrency, breaking point and users at SLA, and their history."},
}

// Dashboards builds every dashboard from a defaulted, validated config.
func Dashboards(c *v1alpha1.ModelPerformanceMetrics) ([]Dashboard, error) {
	if c == nil {
		return nil, fmt.Errorf("dashboards: nil config")
	}
	gens := catalog
	out := make([]Dashboard, 0, len(gens))
	for _, g := range gens {
		b := &board{}
		if err := g.fn(c, b); err != nil {
			return nil, fmt.Errorf("dashboard %s: %w", g.uid, err)
		}
		db := dashboard.NewDashboardBuilder(g.title).
			Uid(g.uid).
			Description(g.desc).
			Tags(append([]string{"step07"}, g.tags...)).
			Editable().
			Timezone(common.TimeZoneBrowser).
			Time(g.from, "now").
			Refresh("30s").
			Tooltip(dashboard.DashboardCursorSyncCrosshair).
			Variables(g.vars(c))
		d, err := db.Build()
		if err != nil {
			return nil, fmt.Errorf("dashboard %s: %w", g.uid, err)
		}
		d.Panels = b.panels
		js, err := marshal(d)
		if err != nil {
			return nil, fmt.Errorf("dashboard %s: %w", g.uid, err)
		}
		out = append(out, Dashboard{Name: g.name, UID: g.uid, Title: g.title, JSON: js})
	}
	return out, nil
}

// marshal writes the dashboard deterministically, two-space indented.
func marshal(d dashboard.Dashboard) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Objects returns one ConfigMap per dashboard in the config's namespace,
// labelled v1alpha1.DashboardLabel: "1".
func Objects(c *v1alpha1.ModelPerformanceMetrics) ([]kit.Object, error) {
	ds, err := Dashboards(c)
	if err != nil {
		return nil, err
	}
	objs := make([]kit.Object, 0, len(ds))
	for _, d := range ds {
		objs = append(objs, &corev1.ConfigMap{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{
				Name:      d.Name,
				Namespace: c.Spec.Namespace,
				Labels: map[string]string{
					v1alpha1.DashboardLabel:        "1",
					"app.kubernetes.io/name":       "step07-dashboards",
					"app.kubernetes.io/part-of":    "step07-model-performance-metrics",
					"app.kubernetes.io/managed-by": "step07gen",
				},
			},
			Data: map[string]string{d.Key(): string(d.JSON)},
		})
	}
	return objs, nil
}

// gpuModels is the config's models with their GPU counts.
func gpuModels(c *v1alpha1.ModelPerformanceMetrics) []gpuModel {
	out := make([]gpuModel, 0, len(c.Spec.Models))
	for _, m := range c.Spec.Models {
		out = append(out, gpuModel{name: m.Name, gpus: m.GPUCount()})
	}
	return out
}
