package sweep

import (
	"math"
	"testing"

	"github.com/rhoai-demo/step07/api/sweepmetrics"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// TestEveryQuantileHasAPercentile: each quantile label the dashboards query
// maps to the percentile of the same rank in a step's distributions.
func TestEveryQuantileHasAPercentile(t *testing.T) {
	p := results.Percentiles{P50: 50, P95: 95, P99: 99}
	want := map[string]float64{"0.5": 50, "0.95": 95, "0.99": 99}
	for _, q := range sweepmetrics.Quantiles {
		got := quantile(p, q)
		if math.IsNaN(got) || got != want[q] {
			t.Errorf("quantile %q -> %v, want %v", q, got, want[q])
		}
	}
	if !math.IsNaN(quantile(p, "0.42")) {
		t.Error("an unknown quantile produced a value")
	}
}
