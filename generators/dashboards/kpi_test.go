package dashboards

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	vm "github.com/rhoai-demo/step07/api/vllmmetrics"
)

// TestSLARowFollowsTheKPITable: the production dashboard's SLA row has a
// stat panel per KPI the SLA grades (kpi.KPIs), so grading ITL p99 adds its
// panel: vLLM's inter-token latency histogram at 0.99, with the config's
// thresholds; the default SLA has none.
func TestSLARowFollowsTheKPITable(t *testing.T) {
	itl := func(c *v1alpha1.ModelPerformanceMetrics) *jpanel {
		for _, d := range build(t, c) {
			if d.UID != UIDProduction {
				continue
			}
			for _, p := range flat(parseDash(t, d).Panels) {
				if p.Title == "ITL p99" {
					return &p
				}
			}
		}
		return nil
	}
	c := defaulted(t)
	if p := itl(c); p != nil {
		t.Fatal("default SLA: an ITL p99 panel, want none (ungraded)")
	}
	c.Spec.Sweep.SLA.ITLP99 = v1alpha1.DurationThresholds{Excellent: v1alpha1.D(50 * time.Millisecond), Acceptable: v1alpha1.D(100 * time.Millisecond), Degraded: v1alpha1.D(200 * time.Millisecond)}
	p := itl(c)
	if p == nil || p.Type != "stat" || len(p.Targets) != 1 {
		t.Fatalf("graded ITL p99: panel %+v", p)
	}
	if e := p.Targets[0].Expr; !strings.Contains(e, vm.InterTokenLatencySeconds+"_bucket") || !strings.Contains(e, "histogram_quantile(0.99") {
		t.Errorf("ITL p99 query %q", e)
	}
	var got []float64
	for _, s := range p.FieldConfig.Defaults.Thresholds.Steps {
		if s.Value != nil {
			got = append(got, *s.Value)
		}
	}
	if d := cmp.Diff([]float64{0.05, 0.1, 0.2}, got); d != "" {
		t.Errorf("ITL p99 thresholds: %s", d)
	}
}
