package dashboards

import (
	"fmt"
	"strconv"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/rhoai-demo/step07/api/kpi"
	"github.com/rhoai-demo/step07/api/v1alpha1"
	vm "github.com/rhoai-demo/step07/api/vllmmetrics"
)

// kpiSteps are a graded KPI's SLA thresholds as Grafana steps.
func kpiSteps(x kpi.GradedKPI) []dashboard.Threshold {
	if x.Higher {
		return higherIsBetter(x.T.Excellent, x.T.Acceptable, x.T.Degraded)
	}
	return lowerIsBetter(x.T.Excellent, x.T.Acceptable, x.T.Degraded)
}

// steps are the config's SLA thresholds of the KPI key as Grafana steps
// (the charts that draw one KPI against the SLA).
func steps(c *v1alpha1.ModelPerformanceMetrics, key string) []dashboard.Threshold {
	for _, x := range kpi.Graded(c.Spec.Sweep.EffectiveSLA()) {
		if x.Key == key {
			return kpiSteps(x)
		}
	}
	return nil
}

func ttftSteps(c *v1alpha1.ModelPerformanceMetrics) []dashboard.Threshold {
	return steps(c, kpi.KeyTTFT)
}

func readingSteps(c *v1alpha1.ModelPerformanceMetrics) []dashboard.Threshold {
	return steps(c, kpi.KeyReadingSpeed)
}

func kvSteps(c *v1alpha1.ModelPerformanceMetrics) []dashboard.Threshold {
	return steps(c, kpi.KeyKVCache)
}

// ts is a time series panel; thresholds are drawn as dashed lines when set.
func ts(thresholdLines bool) *timeseries.PanelBuilder {
	b := timeseries.NewPanelBuilder().
		LineWidth(1).
		FillOpacity(10).
		ShowPoints(common.VisibilityModeNever).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true).
			Calcs([]string{"lastNotNull", "max"})).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending))
	if thresholdLines {
		b.ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed))
	}
	return b
}

// st is a stat panel showing the last value with SLA colours.
func st() *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		ColorMode(common.BigValueColorModeBackground).
		GraphMode(common.BigValueGraphModeArea).
		TextMode(common.BigValueTextModeValueAndName).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false))
}

func production(c *v1alpha1.ModelPerformanceMetrics, b *board) error {
	sel := vsel(mAll)
	by := "model_name"

	ttftDesc := "Time to first token: request arrival to the first generated token, from vLLM's histogram " + vm.TimeToFirstTokenSeconds + ". SLA colours from the config (excellent/acceptable/degraded)."

	// The SLA row: a stat panel per KPI the SLA grades that vLLM's metrics
	// show live (kpi.KPIs: its Panel), in the table's order.
	b.row("Service level (SLA)")
	for _, x := range kpi.Graded(c.Spec.Sweep.EffectiveSLA()) {
		if s, ok := slaPanel(x, sel, by); ok {
			b.add(st(), s)
		}
	}

	b.row("Latency")
	var qs []query
	for _, q := range []string{"0.5", "0.95", "0.99"} {
		qs = append(qs, query{expr: ttftQ(q, sel, by), legend: fmt.Sprintf("{{model_name}} p%s", pct(q))})
	}
	b.add(ts(true), spec{
		title: "Time to first token (p50 / p95 / p99)", unit: "s", w: 12, h: 8, thresholds: ttftSteps(c), queries: qs,
		desc: "TTFT quantiles per model. " + ttftDesc,
	})
	qs = nil
	for _, q := range []string{"0.5", "0.95", "0.99"} {
		qs = append(qs, query{expr: itlQ(q, sel, by), legend: fmt.Sprintf("{{model_name}} p%s", pct(q))})
	}
	b.add(ts(false), spec{
		title: "Inter-token latency (p50 / p95 / p99)", unit: "s", w: 12, h: 8, thresholds: neutral(), queries: qs,
		desc: "Time between two generated tokens of one request: " + vm.InterTokenLatencySeconds + " (V1) or " + vm.TimePerOutputTokenSeconds + " (older vLLM).",
	})
	b.add(ts(true), spec{
		title: "Reading speed", unit: "suffix: tok/s", w: 12, h: 8, thresholds: readingSteps(c),
		desc:    "Tokens per second per streaming request (1 / mean inter-token latency). Below the degraded line users read faster than the model writes.",
		queries: []query{{expr: readingSpeed(sel, by), legend: "{{model_name}}"}},
	})
	qs = nil
	for _, q := range []string{"0.5", "0.95", "0.99"} {
		qs = append(qs, query{expr: e2eQ(q, sel, by), legend: fmt.Sprintf("{{model_name}} p%s", pct(q))})
	}
	b.add(ts(false), spec{
		title: "End-to-end request latency (p50 / p95 / p99)", unit: "s", w: 12, h: 8, thresholds: neutral(), queries: qs,
		desc: "Whole request latency seen by vLLM, queue time included (" + vm.E2ERequestLatencySeconds + ").",
	})

	b.row("Traffic and throughput")
	b.add(ts(false), spec{
		title: "Requests per second by outcome", unit: "reqps", w: 12, h: 8, thresholds: neutral(),
		desc:    "Finished requests per second per model and finished_reason: stop (end of sequence), length (max_tokens reached), abort (client went away), error.",
		queries: []query{{expr: fmt.Sprintf("sum by(model_name, finished_reason)(%s)", rate(vm.RequestSuccessTotal, sel)), legend: "{{model_name}} {{finished_reason}}"}},
	})
	b.add(ts(false), spec{
		title: "Token throughput", unit: "suffix: tok/s", w: 12, h: 8, thresholds: neutral(),
		desc: "Prompt (prefill) and generation (output) tokens per second per model (" + vm.PromptTokensTotal + ", " + vm.GenerationTokensTotal + ").",
		queries: []query{
			{expr: fmt.Sprintf("sum by(model_name)(%s)", rate(vm.PromptTokensTotal, sel)), legend: "{{model_name}} prompt"},
			{expr: genTokRate(sel, by), legend: "{{model_name}} generation"},
		},
	})
	lengthsFrom := "vLLM's histograms " + vm.RequestPromptTokens + " (the prompt as the server tokenizes it, cached prefix included) and " + vm.RequestGenerationTokens + " (tokens generated), one observation per request the server finished; requests whose client went away are not observed."
	qs = nil
	for _, l := range []struct{ name, hist string }{{"prompt", vm.RequestPromptTokens}, {"output", vm.RequestGenerationTokens}} {
		for _, q := range []string{"0.5", "0.9"} {
			qs = append(qs, query{expr: lengthQ(q, l.hist, sel, by), legend: fmt.Sprintf("{{model_name}} %s p%s", l.name, pct(q))})
		}
	}
	b.add(ts(false), spec{
		title: "Request length (p50 / p90)", unit: "suffix: tok", w: 12, h: 8, thresholds: neutral(), queries: qs,
		desc: "Prompt and output tokens per request per model, the traffic the server really sees, from " + lengthsFrom +
			" vLLM's buckets are 1, 2, 5, 10, 20, 50, ... tokens up to max-model-len, so a quantile is interpolated within its bucket (e.g. between 200 and 500): the mean is exact.",
	})
	b.add(ts(false), spec{
		title: "Mean request length", unit: "suffix: tok", w: 12, h: 8, thresholds: neutral(),
		desc: "Mean prompt and output tokens per request per model in the rate window (_sum / _count, no bucket interpolation), from " + lengthsFrom +
			" Compare with the scenario's input and output lengths.",
		queries: []query{
			{expr: meanOf(vm.RequestPromptTokens, sel, by), legend: "{{model_name}} prompt"},
			{expr: meanOf(vm.RequestGenerationTokens, sel, by), legend: "{{model_name}} output"},
		},
	})

	b.row("Scheduler, queue and cache")
	b.add(ts(false), spec{
		title: "Running vs waiting requests", unit: "short", w: 12, h: 8, thresholds: neutral(),
		desc: "Requests in the running batch and requests waiting in the queue. Waiting > 0 for a sustained time means the server is past its capacity (max-num-seqs or KV cache).",
		queries: []query{
			{expr: fmt.Sprintf("sum by(model_name)(%s)", gaugeOf(vm.NumRequestsRunning, sel)), legend: "{{model_name}} running"},
			{expr: fmt.Sprintf("sum by(model_name)(%s)", gaugeOf(vm.NumRequestsWaiting, sel)), legend: "{{model_name}} waiting"},
		},
	})
	b.add(ts(false), spec{
		title: "Queue time (p50 / p95)", unit: "s", w: 12, h: 8, thresholds: neutral(),
		desc: "Time requests spend waiting before being scheduled (" + vm.RequestQueueTimeSeconds + ").",
		queries: []query{
			{expr: queueQ("0.5", sel, by), legend: "{{model_name}} p50"},
			{expr: queueQ("0.95", sel, by), legend: "{{model_name}} p95"},
		},
	})
	b.add(ts(true), spec{
		title: "KV cache usage", unit: "percent", w: 8, h: 8, thresholds: kvSteps(c), min: f64(0), max: f64(100),
		desc:    "GPU KV cache usage per model with the SLA lines (excellent, acceptable, degraded). " + vm.KVCacheUsagePerc + " or, on older vLLM, " + vm.GPUCacheUsagePerc + ".",
		queries: []query{{expr: kvUsagePercent(sel, by), legend: "{{model_name}}"}},
	})
	b.add(ts(false), spec{
		title: "Preemptions", unit: "short", w: 8, h: 8, thresholds: neutral(),
		desc:    "Requests preempted per second (" + vm.NumPreemptionsTotal + "): the KV cache ran out and running requests were evicted and recomputed.",
		queries: []query{{expr: fmt.Sprintf("sum by(model_name)(%s)", rate(vm.NumPreemptionsTotal, sel)), legend: "{{model_name}}"}},
	})
	b.add(ts(false), spec{
		title: "Prefix cache hit rate", unit: "percent", w: 8, h: 8, thresholds: neutral(), min: f64(0), max: f64(100),
		desc: "Share of prompt tokens served from the prefix cache: hits / queries (vllm:prefix_cache_*_total, or vllm:gpu_prefix_cache_*_total on older vLLM).",
		queries: []query{{expr: fmt.Sprintf("100 * sum by(model_name)%s / sum by(model_name)%s",
			rateEither(vm.PrefixCacheHitsTotal, vm.GPUPrefixCacheHitsTotal, sel), rateEither(vm.PrefixCacheQueriesTotal, vm.GPUPrefixCacheQueriesTotal, sel)), legend: "{{model_name}}"}},
	})
	return b.err
}

// pct turns "0.95" into "95".
func pct(q string) string {
	switch q {
	case "0.5":
		return "50"
	case "0.9":
		return "90"
	case "0.95":
		return "95"
	case "0.99":
		return "99"
	}
	return q
}

// slaPanel is a graded KPI's stat panel, its query from the KPI's source:
// a latency percentile from vLLM's histogram of it, the live reading speed,
// the KV cache usage or the success rate; ok false when the KPI has no
// panel or vLLM shows no such series.
func slaPanel(x kpi.GradedKPI, sel, by string) (spec, bool) {
	if x.Panel == nil {
		return spec{}, false
	}
	s := spec{title: x.Panel.Title, desc: x.Panel.Desc, w: 6, h: 5}
	s.thresholds = kpiSteps(x)
	var expr string
	switch src := x.Source; src.From {
	case kpi.FromLatency:
		q := strconv.FormatFloat(src.Quantile, 'f', -1, 64)
		s.unit = "s"
		switch src.Dist {
		case kpi.DistTTFT:
			expr = ttftQ(q, sel, by)
		case kpi.DistITL:
			expr = itlQ(q, sel, by)
		case kpi.DistE2E:
			expr = e2eQ(q, sel, by)
		default:
			return spec{}, false
		}
	case kpi.FromRate:
		s.unit, expr = "suffix: tok/s", readingSpeed(sel, by)
	case kpi.FromKVCache:
		s.unit, s.min, s.max, expr = "percent", f64(0), f64(100), kvUsagePercent(sel, by)
	case kpi.FromSuccess:
		s.unit, s.min, s.max, expr = "percent", f64(0), f64(100), successPercent(sel, by)
	default:
		return spec{}, false
	}
	s.queries = []query{{expr: expr, legend: "{{model_name}}"}}
	return s, true
}
