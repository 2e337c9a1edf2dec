package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	sm "github.com/rhoai-demo/step07/api/sweepmetrics"
	"github.com/rhoai-demo/step07/api/v1alpha1"
)

func sweepResults(c *v1alpha1.ModelPerformanceMetrics, b *board) error {
	sla := c.Spec.Sweep.EffectiveSLA()
	mSel := `=~"$` + varModel + `"`
	sSel := `=~"$` + varScenario + `"`
	sel := ssel(mSel, sSel)
	by := sm.LabelModel + ", " + sm.LabelScenario
	legend := "{{" + sm.LabelModel + "}} {{" + sm.LabelScenario + "}}"
	// history: every run, no run filter
	hsel := fmt.Sprintf(`%s%s, %s%s`, sm.LabelModel, mSel, sm.LabelScenario, sSel)
	ttftLine := fmt.Sprintf("SLA %s", sla.TTFT.Degraded.Duration)
	xyDesc := " One line per model and scenario of the selected run (default: the latest); X is the step's concurrency."

	b.row("Selected run (default: latest)")
	b.add(xy().AxisSoftMin(0), spec{
		title: "TTFT p95 vs concurrency", unit: "s", w: 12, h: 9, thresholds: ttftSteps(c),
		desc: fmt.Sprintf("TTFT p95 of each step (%s, quantile 0.95) with the degraded threshold (%s) as a dashed red line.", sm.TTFTSeconds, sla.TTFT.Degraded.Duration) + xyDesc,
		queries: []query{
			{expr: perConcurrency(sm.TTFTSeconds, sel+`, quantile="0.95"`, by), legend: legend, instant: true, table: true},
			{expr: slaLine(sel, sla.TTFT.Degraded.Seconds()), legend: ttftLine, instant: true, table: true},
		},
		transformations: xyTransforms("A"),
		overrides:       []dashboardOverride{dashedRed("B", ttftLine)},
	})
	b.add(xy().AxisSoftMin(0), spec{
		title: "Output throughput vs concurrency", unit: "suffix: tok/s", w: 12, h: 9, thresholds: neutral(),
		desc:            fmt.Sprintf("Output tokens per second of each step (%s).", sm.OutputTokensPerSecond) + xyDesc,
		queries:         []query{{expr: perConcurrency(sm.OutputTokensPerSecond, sel, by), legend: legend, instant: true, table: true}},
		transformations: xyTransforms("A"),
	})
	b.add(xy().AxisSoftMin(0), spec{
		title: "Output tok/s per GPU vs concurrency", unit: "suffix: tok/s/GPU", w: 12, h: 9, thresholds: neutral(),
		desc:            fmt.Sprintf("Output tokens per second per GPU of each step (%s): the efficiency of the variant.", sm.OutputTokensPerSecondPerGPU) + xyDesc,
		queries:         []query{{expr: perConcurrency(sm.OutputTokensPerSecondPerGPU, sel, by), legend: legend, instant: true, table: true}},
		transformations: xyTransforms("A"),
	})
	b.add(xy().AxisSoftMin(0), spec{
		title: "Reading speed vs concurrency", unit: "suffix: tok/s", w: 12, h: 9, thresholds: readingSteps(c),
		desc:            fmt.Sprintf("Reading speed of each step: 1 / TPOT p50 (%s, quantile 0.5). Falls as the batch grows.", sm.TPOTSeconds) + xyDesc,
		queries:         []query{{expr: "1 / " + perConcurrency(sm.TPOTSeconds, sel+`, quantile="0.5"`, by), legend: legend, instant: true, table: true}},
		transformations: xyTransforms("A"),
	})
	b.add(tbl(), spec{
		title: "Breaking point and users at SLA", unit: "short", w: 24, h: 7, thresholds: neutral(),
		desc: "Per model and scenario of the selected run: breaking point (lowest concurrency that broke a rule), max concurrency within the SLA, users per GPU at SLA and per-GPU throughput there.",
		queries: []query{
			{expr: lastRun(sm.BreakingPointConcurrency, sel, by), instant: true, table: true},
			{expr: lastRun(sm.MaxConcurrencyAtSLA, sel, by), instant: true, table: true},
			{expr: lastRun(sm.UsersPerGPUAtSLA, sel, by), instant: true, table: true},
			{expr: lastRun(sm.OutputTokensPerSecondPerGPUAtSLA, sel, by), instant: true, table: true},
		},
		transformations: mergeTransforms(),
		overrides: []dashboardOverride{
			renameValue("A", "Breaking point (concurrency)", "short"),
			renameValue("B", "Max concurrency at SLA", "short"),
			renameValue("C", "Users per GPU at SLA", "short"),
			renameValue("D", "Output tok/s per GPU at SLA", "suffix: tok/s/GPU"),
		},
	})
	b.add(tbl(), spec{
		title: "Steps of the run", unit: "short", w: 24, h: 10, thresholds: neutral(),
		desc: "Every step of the selected run: TTFT p95, output tok/s, tok/s per GPU, success ratio, mean queue, peak KV cache usage and whether the step broke a rule (1).",
		queries: []query{
			{expr: perConcurrency(sm.TTFTSeconds, sel+`, quantile="0.95"`, by), instant: true, table: true},
			{expr: perConcurrency(sm.OutputTokensPerSecond, sel, by), instant: true, table: true},
			{expr: perConcurrency(sm.OutputTokensPerSecondPerGPU, sel, by), instant: true, table: true},
			{expr: perConcurrency(sm.SuccessRatio, sel, by), instant: true, table: true},
			{expr: perConcurrency(sm.QueueWaitingMean, sel, by), instant: true, table: true},
			{expr: perConcurrency(sm.KVCacheUsageMax, sel, by), instant: true, table: true},
			{expr: perConcurrency(sm.StepBroken, sel, by), instant: true, table: true},
		},
		transformations: mergeTransforms(),
		overrides: []dashboardOverride{
			renameValue("A", "TTFT p95", "s"),
			renameValue("B", "Output tok/s", "suffix: tok/s"),
			renameValue("C", "tok/s per GPU", "suffix: tok/s/GPU"),
			renameValue("D", "Success", "percentunit"),
			renameValue("E", "Queue (mean waiting)", "short"),
			renameValue("F", "KV cache peak", "percentunit"),
			renameValue("G", "Broke a rule", "short"),
		},
	})

	b.row("History over runs")
	hist := func() *timeseries.PanelBuilder {
		return ts(false).ShowPoints(common.VisibilityModeAlways).PointSize(6).SpanNulls(common.BoolOrFloat64{Bool: boolPtr(true)})
	}
	b.add(hist(), spec{
		title: "Breaking point over runs", unit: "short", w: 12, h: 8, thresholds: neutral(),
		desc:    fmt.Sprintf("Breaking-point concurrency of each run (%s), one point per run: a drop after a change is a regression.", sm.BreakingPointConcurrency),
		queries: []query{{expr: fmt.Sprintf("max by(%s)(%s{%s})", by, sm.BreakingPointConcurrency, hsel), legend: legend}},
	})
	b.add(hist(), spec{
		title: "Max concurrency at SLA over runs", unit: "short", w: 12, h: 8, thresholds: neutral(),
		desc:    fmt.Sprintf("Highest concurrency within the SLA of each run (%s).", sm.MaxConcurrencyAtSLA),
		queries: []query{{expr: fmt.Sprintf("max by(%s)(%s{%s})", by, sm.MaxConcurrencyAtSLA, hsel), legend: legend}},
	})
	b.add(hist(), spec{
		title: "Users per GPU at SLA over runs", unit: "short", w: 12, h: 8, thresholds: neutral(),
		desc:    fmt.Sprintf("Users per GPU within the SLA of each run (%s).", sm.UsersPerGPUAtSLA),
		queries: []query{{expr: fmt.Sprintf("max by(%s)(%s{%s})", by, sm.UsersPerGPUAtSLA, hsel), legend: legend}},
	})
	b.add(hist(), spec{
		title: "Output tok/s per GPU at SLA over runs", unit: "suffix: tok/s/GPU", w: 12, h: 8, thresholds: neutral(),
		desc:    fmt.Sprintf("Per-GPU output throughput at the max concurrency within the SLA, per run (%s).", sm.OutputTokensPerSecondPerGPUAtSLA),
		queries: []query{{expr: fmt.Sprintf("max by(%s)(%s{%s})", by, sm.OutputTokensPerSecondPerGPUAtSLA, hsel), legend: legend}},
	})
	return b.err
}

func boolPtr(v bool) *bool { return &v }
