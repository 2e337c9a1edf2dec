package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/gauge"

	sm "github.com/rhoai-demo/step07/api/sweepmetrics"
	"github.com/rhoai-demo/step07/api/v1alpha1"
	vm "github.com/rhoai-demo/step07/api/vllmmetrics"
)

func comparison(c *v1alpha1.ModelPerformanceMetrics, b *board) error {
	sla := c.Spec.Sweep.EffectiveSLA()
	degraded := sla.TTFT.Degraded.Seconds()
	gpus := gpuTable("model_name", gpuModels(c))
	scen := `="$` + varScenario + `"`
	selA, selB := ssel(mA, scen), ssel(mB, scen)
	selAB := ssel(`=~"$model_a|$model_b"`, scen)
	// live output tokens per second per GPU of one model (GPU count from the config)
	tokPerGPU := func(m string) string {
		return fmt.Sprintf("%s / on(model_name) %s", genTokRate(vsel(m), "model_name"), gpus)
	}
	// watts of a model's GPUs per output token per second = joules per token
	power := func(modelVar string) string {
		return fmt.Sprintf("sum(%s)", dcgmPlain(vm.DCGMPowerUsage, podRegex(modelVar), nil))
	}
	jPerTok := func(modelVar, m string) string {
		return fmt.Sprintf("%s / sum(%s)", power(modelVar), rate(vm.GenerationTokensTotal, vsel(m)))
	}
	ttftLine := fmt.Sprintf("SLA %s", sla.TTFT.Degraded.Duration)

	b.row("Breaking point (selected sweep run)")
	b.add(xy().AxisSoftMin(0), spec{
		title: "Breaking Point: TTFT p95 vs concurrency", unit: "s", w: 16, h: 10, thresholds: ttftSteps(c),
		desc: fmt.Sprintf("TTFT p95 of every concurrency step of the sweep run (series %s written by sweep-runner), one line per model; the dashed red line is the degraded TTFT threshold (%s). Where a line crosses it the user experience breaks.", sm.TTFTSeconds, sla.TTFT.Degraded.Duration),
		queries: []query{
			{expr: perConcurrency(sm.TTFTSeconds, selA+`, quantile="0.95"`, sm.LabelModel), legend: "$model_a", instant: true, table: true},
			{expr: perConcurrency(sm.TTFTSeconds, selB+`, quantile="0.95"`, sm.LabelModel), legend: "$model_b", instant: true, table: true},
			{expr: slaLine(selAB, degraded), legend: ttftLine, instant: true, table: true},
		},
		transformations: xyTransforms(""),
		overrides:       []dashboardOverride{named("A", "$model_a"), named("B", "$model_b"), dashedRed("C", ttftLine)},
	})
	b.add(st().GraphMode(common.BigValueGraphModeNone), spec{
		title: "Breaking point and max concurrency at SLA", unit: "short", w: 8, h: 10, thresholds: neutral(),
		desc: fmt.Sprintf("Of the selected sweep run and scenario: the lowest concurrency that broke a rule (%s) and the highest that met every acceptable threshold (%s).", sm.BreakingPointConcurrency, sm.MaxConcurrencyAtSLA),
		queries: []query{
			{expr: lastRun(sm.BreakingPointConcurrency, selA, sm.LabelModel), legend: "$model_a breaking point", instant: true},
			{expr: lastRun(sm.BreakingPointConcurrency, selB, sm.LabelModel), legend: "$model_b breaking point", instant: true},
			{expr: lastRun(sm.MaxConcurrencyAtSLA, selA, sm.LabelModel), legend: "$model_a max users at SLA", instant: true},
			{expr: lastRun(sm.MaxConcurrencyAtSLA, selB, sm.LabelModel), legend: "$model_b max users at SLA", instant: true},
		},
	})

	b.row("Efficiency")
	b.add(gauge.NewPanelBuilder().
		ShowThresholdMarkers(false).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)), spec{
		title: "Efficiency: output tok/s per GPU (live)", unit: "suffix: tok/s/GPU", w: 8, h: 8, thresholds: neutral(), min: f64(0),
		desc: "Live output token throughput (" + vm.GenerationTokensTotal + ") divided by the model's GPU count from the config (" + gpuList(c) + ").",
		queries: []query{
			{expr: tokPerGPU(mA), legend: "$model_a"},
			{expr: tokPerGPU(mB), legend: "$model_b"},
		},
	})
	b.add(st().GraphMode(common.BigValueGraphModeNone), spec{
		title: "Users per GPU at SLA (sweep)", unit: "suffix: users/GPU", w: 8, h: 8, thresholds: neutral(),
		desc: fmt.Sprintf("Concurrent users one GPU serves within the SLA, from the selected sweep run (%s = max concurrency at SLA / GPUs).", sm.UsersPerGPUAtSLA),
		queries: []query{
			{expr: lastRun(sm.UsersPerGPUAtSLA, selA, sm.LabelModel), legend: "$model_a", instant: true},
			{expr: lastRun(sm.UsersPerGPUAtSLA, selB, sm.LabelModel), legend: "$model_b", instant: true},
		},
	})
	b.add(st().GraphMode(common.BigValueGraphModeNone), spec{
		title: "Output tok/s per GPU at SLA (sweep)", unit: "suffix: tok/s/GPU", w: 8, h: 8, thresholds: neutral(),
		desc: fmt.Sprintf("Per-GPU output throughput at the highest concurrency within the SLA, from the selected sweep run (%s).", sm.OutputTokensPerSecondPerGPUAtSLA),
		queries: []query{
			{expr: lastRun(sm.OutputTokensPerSecondPerGPUAtSLA, selA, sm.LabelModel), legend: "$model_a", instant: true},
			{expr: lastRun(sm.OutputTokensPerSecondPerGPUAtSLA, selB, sm.LabelModel), legend: "$model_b", instant: true},
		},
	})

	b.row("KV cache wall and power")
	b.add(ts(true), spec{
		title: "KV Cache Wall", unit: "percent", w: 12, h: 8, thresholds: kvSteps(c), min: f64(0), max: f64(100),
		desc: fmt.Sprintf("KV cache usage of both models against the SLA lines; at the degraded line (%g %%) vLLM starts preempting requests: the wall.", sla.KVCache.Degraded),
		queries: []query{
			{expr: kvUsagePercent(vsel(mA), "model_name"), legend: "$model_a"},
			{expr: kvUsagePercent(vsel(mB), "model_name"), legend: "$model_b"},
		},
	})
	b.add(ts(false), spec{
		title: "Power per model (all its GPUs)", unit: "watt", w: 12, h: 8, thresholds: neutral(),
		desc: "Power draw summed over the GPUs of each model's predictor pods (" + vm.DCGMPowerUsage + ", pod or exported_pod matched on <model>-predictor-...).",
		queries: []query{
			{expr: power(varModelA), legend: "$model_a"},
			{expr: power(varModelB), legend: "$model_b"},
		},
	})
	b.add(ts(false), spec{
		title: "Energy per output token", unit: "suffix: J/tok", w: 12, h: 8, thresholds: neutral(),
		desc: "Watts of the model's GPUs divided by its output tokens per second: joules per generated token (lower is better).",
		queries: []query{
			{expr: jPerTok(varModelA, mA), legend: "$model_a"},
			{expr: jPerTok(varModelB, mB), legend: "$model_b"},
		},
	})
	b.add(ts(false), spec{
		title: "Output tok/s per GPU (live)", unit: "suffix: tok/s/GPU", w: 12, h: 8, thresholds: neutral(),
		desc: "Live output token throughput per GPU over time (GPU count from the config: " + gpuList(c) + ").",
		queries: []query{
			{expr: tokPerGPU(mA), legend: "$model_a"},
			{expr: tokPerGPU(mB), legend: "$model_b"},
		},
	})

	b.row("B-to-A ratios")
	ratio := func() *statBuilder {
		return st().GraphMode(common.BigValueGraphModeNone).TextMode(common.BigValueTextModeValue)
	}
	b.add(ratio(), spec{
		title: "tok/s per GPU: B / A", unit: "suffix: ×", w: 8, h: 5, thresholds: neutral(),
		desc:    "Live output tokens per second per GPU of model B divided by model A's. Above 1: B gets more out of each GPU.",
		queries: []query{{expr: fmt.Sprintf("sum(%s) / sum(%s)", tokPerGPU(mB), tokPerGPU(mA)), legend: "B / A"}},
	})
	b.add(ratio(), spec{
		title: "Users per GPU at SLA: B / A", unit: "suffix: ×", w: 8, h: 5, thresholds: neutral(),
		desc:    "Users per GPU within the SLA of model B divided by model A's, from the selected sweep run and scenario.",
		queries: []query{{expr: fmt.Sprintf("sum(%s) / sum(%s)", lastRun(sm.UsersPerGPUAtSLA, selB, sm.LabelModel), lastRun(sm.UsersPerGPUAtSLA, selA, sm.LabelModel)), legend: "B / A", instant: true}},
	})
	b.add(ratio(), spec{
		title: "Watts per token: B / A", unit: "suffix: ×", w: 8, h: 5, thresholds: neutral(),
		desc:    "Energy per output token (GPU watts / output tok/s) of model B divided by model A's. Below 1: B is cheaper in energy per token.",
		queries: []query{{expr: fmt.Sprintf("(%s) / (%s)", jPerTok(varModelB, mB), jPerTok(varModelA, mA)), legend: "B / A"}},
	})
	return b.err
}

func gpuList(c *v1alpha1.ModelPerformanceMetrics) string {
	s := ""
	for i, m := range gpuModels(c) {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s: %d", m.name, m.gpus)
	}
	return s
}
