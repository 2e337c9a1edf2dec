package guidellm

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/analysis"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// ExportFile is the default name of an export inside the run directory.
const ExportFile = "guidellm-benchmarks.json"

// exportNotes say, in the report's sweep_runner.notes, how our fields sit
// in GuideLLM's.
var exportNotes = map[string]string{
	"metadata":                 "written by sweep-runner, not GuideLLM: guidellm_version and python_version are \"none\"",
	"strategy":                 "every benchmark is a concurrent strategy whose streams are the step's concurrency (closed loop, one request per user at a time)",
	"time_to_first_token_ms":   "successful: every window request with a first token (successful or cut at the step's end) plus, for requests cut before their first token, the time they had waited (a lower bound); errored, incomplete, total: null (not kept apart)",
	"inter_token_latency_ms":   "successful: our TPOT, (e2e - TTFT) / (output tokens - 1) per successful request, GuideLLM's ITL formula (GuideLLM weights it by tokens, we do not)",
	"time_per_output_token_ms": "null: GuideLLM's TPOT (latency / output tokens, first token included) is not measured",
	"request_latency":          "successful: end-to-end seconds of successful window requests",
	"token counts":             "prompt_token_count, output_token_count: successful: usage of successful window requests",
	"rates":                    "requests_per_second, output_tokens_per_second, tokens_per_second: successful.mean is the window's average (output tokens counted as received in the window, from every request); the other statistics of these distributions are not measured and written as 0",
	"request_concurrency":      "total.mean is the time-averaged requests in flight in the window; its other statistics are not measured and written as 0",
	"mode":                     "not kept by sweep-runner: written as 0 in every distribution; variance is std_dev squared",
	"requests":                 "per-request records are not kept: not written",
	"sweep_runner":             "on each benchmark: what sweep-runner measured and GuideLLM has no slot for (the /metrics gauges the queue rule and the KV cache KPI read, steady state, confidence, censored, warmup and tail requests, errors by kind, per-chunk ITL, goodput); GuideLLM keeps it as an extra field",
}

// Export reads a run directory and returns it as a GuideLLM version-2
// report (indented JSON). version is the exporting sweep-runner's.
func Export(runDir, version string) ([]byte, error) {
	plan, run, steps, err := results.Load(runDir)
	if err != nil {
		return nil, err
	}
	if len(steps) == 0 {
		return nil, fmt.Errorf("%s has no finished step to export", runDir)
	}
	rep := exportReport(plan, run, steps, version)
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func exportReport(plan *v1alpha1.SweepPlan, run results.Run, steps []results.Step, version string) *wireReport {
	sum := analysis.Summarize(plan, run, steps)
	spec := plan.Spec
	targets := map[string]v1alpha1.Target{}
	for _, t := range spec.Targets {
		targets[t.Name] = t
	}
	producer := "sweep-runner " + version
	rep := &wireReport{
		// guidellm_version "none": no GuideLLM ran; platform is unknown
		// (the run directory does not record where the sweep ran).
		Metadata: wireMetadata{Version: ReportVersion, GuideLLMVersion: "none", PythonVersion: "none", Platform: "unknown"},
		Extension: &RunExtension{
			Producer: producer, RunID: run.RunID, Status: run.Status,
			SLA: spec.SLA, TimeScale: spec.TimeScale, API: spec.API, Notes: exportNotes,
		},
	}
	var all []int
	seen := map[int]bool{}
	for _, s := range steps {
		if !seen[s.Concurrency] {
			seen[s.Concurrency] = true
			all = append(all, s.Concurrency)
		}
	}
	sort.Ints(all)
	// Top-level config: GuideLLM's run arguments, as far as they apply
	// (the first target and scenario; each benchmark names its own).
	rep.Config = map[string]any{
		"profile":      v1alpha1.APIVersion + " sweep (concurrent)",
		"rate":         all,
		"max_seconds":  spec.StepDuration.Duration.Seconds(),
		"request_type": requestType(spec.API),
	}
	if spec.Warmup != nil {
		rep.Config["warmup"] = spec.Warmup.Duration.Seconds()
	}
	if len(spec.Targets) > 0 {
		rep.Config["target"] = spec.Targets[0].URL
		rep.Config["model"] = spec.Targets[0].Model
	}
	scenarios := map[string]v1alpha1.Scenario{}
	for _, sc := range spec.Scenarios {
		scenarios[sc.Name] = sc
	}
	if len(spec.Scenarios) > 0 {
		rep.Config["data"] = []string{dataSpec(spec.Scenarios[0])}
	}
	index := 0
	for _, r := range sum.Results {
		var streams []int
		for _, s := range r.Steps {
			streams = append(streams, s.Concurrency)
		}
		for _, s := range r.Steps {
			rep.Benchmarks = append(rep.Benchmarks, benchmarkOut(s, targets[s.Target], shapeOf(s, scenarios), run.RunID, index, streams))
			index++
		}
	}
	return rep
}

func requestType(api string) string {
	if api == v1alpha1.APIChat {
		return "chat_completions"
	}
	return "text_completions"
}

// dataSpec is a scenario's lengths as GuideLLM's synthetic data spec:
// prompt_tokens and output_tokens, and their _stdev, _min and _max when
// the scenario draws lengths from a distribution.
func dataSpec(sc v1alpha1.Scenario) string {
	b := fmt.Sprintf("prompt_tokens=%d", sc.InputTokens)
	for _, kv := range []struct {
		k string
		v int
	}{{"prompt_tokens_stdev", sc.InputTokensStdev}, {"prompt_tokens_min", sc.InputTokensMin}, {"prompt_tokens_max", sc.InputTokensMax}} {
		if kv.v > 0 {
			b += fmt.Sprintf(",%s=%d", kv.k, kv.v)
		}
	}
	b += fmt.Sprintf(",output_tokens=%d", sc.OutputTokens)
	for _, kv := range []struct {
		k string
		v int
	}{{"output_tokens_stdev", sc.OutputTokensStdev}, {"output_tokens_min", sc.OutputTokensMin}, {"output_tokens_max", sc.OutputTokensMax}} {
		if kv.v > 0 {
			b += fmt.Sprintf(",%s=%d", kv.k, kv.v)
		}
	}
	return b
}

// shapeOf is a step's scenario as the plan defines it (its lengths as the
// step recorded them when the plan has no such scenario).
func shapeOf(s results.Step, scenarios map[string]v1alpha1.Scenario) v1alpha1.Scenario {
	sc, ok := scenarios[s.Scenario]
	if !ok {
		sc = v1alpha1.Scenario{Name: s.Scenario}
	}
	sc.InputTokens, sc.OutputTokens = s.InputTokens, s.OutputTokens
	return sc
}

func sec(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixMicro()) / 1e6
}

// benchmarkOut writes one step as a generative_benchmark.
func benchmarkOut(s results.Step, t v1alpha1.Target, sc v1alpha1.Scenario, runID string, index int, streams []int) wireBenchmark {
	start, end := sec(s.Window.Start), sec(s.Window.End)
	dur := s.Window.DurationSeconds
	if dur <= 0 {
		dur = end - start
	}
	warm := s.Window.WarmupSeconds
	// After the window the load went on until the window's requests
	// finished: GuideLLM's cooldown (requests run, not measured).
	cool := 0.0
	if !s.EndedAt.IsZero() && s.EndedAt.After(s.Window.End) {
		cool = s.EndedAt.Sub(s.Window.End).Seconds()
	}
	url, model := t.URL, s.Model
	b := wireBenchmark{
		Type: BenchmarkType,
		Config: wireBenchmarkConfig{
			ID: fmt.Sprintf("%s-%d", runID, max(s.Seq, index+1)), RunID: runID, RunIndex: index,
			Strategy:    wireStrategy{Type: StrategyConcurrent, Streams: s.Concurrency},
			Constraints: map[string]any{},
			Profile:     map[string]any{"type_": StrategyConcurrent, "streams": streams},
			Requests:    map[string]any{"data": []string{dataSpec(sc)}},
			Backend:     map[string]any{"type_": "openai_http", "target": url, "model": model},
			Environment: map[string]any{},
		},
		SchedulerMetrics: wireSchedulerMetrics{
			RequestStartTime: start - warm, MeasureStartTime: start, MeasureEndTime: end, RequestEndTime: end + cool,
		},
		StartTime: start, EndTime: end, Duration: dur, WarmupDuration: warm, CooldownDuration: cool,
	}
	rq := s.Requests
	m := &b.Metrics
	m.RequestTotals = wireTotals{Successful: rq.Successful, Errored: rq.Errored, Incomplete: rq.Incomplete, Total: rq.Started}
	m.TimeToFirstTokenMs.Successful = distOut(s.Latency.TTFT, 1e3)
	m.InterTokenLatencyMs.Successful = distOut(s.Latency.TPOT, 1e3)
	// time_per_output_token_ms (GuideLLM's TPOT, first token included):
	// not measured, every member null.
	m.RequestLatency.Successful = distOut(s.Latency.E2E, 1)
	m.PromptTokenCount.Successful = distOut(s.Tokens.Prompt, 1)
	m.OutputTokenCount.Successful = distOut(s.Tokens.Output, 1)
	m.RequestsPerSecond.Successful = rateOut(s.Throughput.RequestsPerSecond, rq.Successful)
	m.OutputTokensPerSecond.Successful = rateOut(s.Throughput.OutputTokensPerSecond, int(math.Round(s.Tokens.Output.TotalSum)))
	m.TokensPerSecond.Successful = rateOut(s.Throughput.TotalTokensPerSecond, int(math.Round(s.Tokens.Output.TotalSum+s.Tokens.Prompt.TotalSum)))
	m.RequestConcurrency.Total = rateOut(s.ConcurrencyAchieved, rq.Started)
	b.Extension = &StepExtension{
		Target:   TargetInfo{Name: s.Target, URL: url, Model: s.Model, GPUs: s.GPUs, Precision: s.Precision, GPUHourCost: s.GPUHourCost},
		Scenario: scenarioInfo(sc),
		API:      s.API, Concurrency: s.Concurrency, Phase: s.Phase, Seq: s.Seq,
		Server: s.Server, Steady: s.Steady, Confidence: s.Confidence, Censored: s.Censored,
		WarmupRequests: s.WarmupRequests, TailRequests: s.TailRequests, Errors: s.Errors,
		GraceSeconds: s.Window.GraceSeconds, ConcurrencyAchieved: s.ConcurrencyAchieved,
		ITLSeconds: s.Latency.ITL, GoodputRequestsPerSecond: s.Throughput.GoodputRequestsPerSecond,
		CountMismatches: s.Tokens.CountMismatches, OutputLengthMismatches: s.Tokens.OutputLengthMismatches, UsageMissing: s.Tokens.UsageMissing,
		Fidelity: s.Fidelity, PowerWatts: s.PowerWatts,
	}
	return b
}

// distOut writes one of our distributions in GuideLLM's shape, its values
// multiplied by scale (1e3: seconds to GuideLLM's milliseconds). Mode is
// not kept by sweep-runner: 0; variance is std_dev squared.
func distOut(d results.Distribution, scale float64) *wireDist {
	p := d.Percentiles
	return &wireDist{
		Mean: d.Mean * scale, Median: d.Median * scale, Mode: 0,
		Variance: (d.StdDev * scale) * (d.StdDev * scale), StdDev: d.StdDev * scale,
		Min: d.Min * scale, Max: d.Max * scale, Count: d.Count, TotalSum: d.TotalSum * scale,
		Percentiles: results.Percentiles{
			P001: p.P001 * scale, P01: p.P01 * scale, P05: p.P05 * scale, P10: p.P10 * scale, P25: p.P25 * scale,
			P50: p.P50 * scale, P75: p.P75 * scale, P90: p.P90 * scale, P95: p.P95 * scale, P99: p.P99 * scale, P999: p.P999 * scale,
		},
	}
}

// rateOut is a window average in the shape of GuideLLM's rate
// distribution: GuideLLM computes rates over time and summarises them; we
// measured only the average (mean) and how many events it counts (count).
// Every other statistic is not measured and written as 0, because the
// schema requires a number.
func rateOut(mean float64, count int) *wireDist {
	return &wireDist{Mean: mean, Count: count}
}
