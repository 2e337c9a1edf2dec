package guidellm

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/report"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

func read(t *testing.T, name string) *Report {
	t.Helper()
	r, err := ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return r
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// importRun imports reports and writes the run directory; it returns the
// directory and its summary.
func importRun(t *testing.T, opts Options, reps ...*Report) (string, *results.Summary) {
	t.Helper()
	im, err := Import(context.Background(), reps, opts)
	if err != nil {
		t.Fatal(err)
	}
	dir, sum, err := im.Write(t.TempDir(), report.Options{NoPNG: true}, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return dir, sum
}

func concurrencies(steps []results.Step) []int {
	var out []int
	for _, s := range steps {
		out = append(out, s.Concurrency)
	}
	return out
}

func TestImportVersion2(t *testing.T) {
	r := read(t, "v2-concurrent.json")
	if r.Version != 2 || r.GuideLLMVersion != "0.7.3" || r.Model != "granite-8b" || r.TargetURL != "http://vllm.example:8000" {
		t.Fatalf("report header: %+v", r)
	}
	if r.InputTokens != 512 || r.OutputTokens != 128 || r.API != "completions" {
		t.Fatalf("shape %d/%d api %q", r.InputTokens, r.OutputTokens, r.API)
	}
	if len(r.Benchmarks) != 4 {
		t.Fatalf("%d benchmarks", len(r.Benchmarks))
	}
	b := r.Benchmarks[3]
	s := b.Step
	if b.Strategy != StrategyConcurrent || b.Streams != 8 || s.Concurrency != 8 {
		t.Fatalf("strategy %s streams %d concurrency %d", b.Strategy, b.Streams, s.Concurrency)
	}
	// Units: *_ms in milliseconds, request_latency in seconds.
	raw := mustJSON(t, "v2-concurrent.json")
	m := raw["benchmarks"].([]any)[3].(map[string]any)["metrics"].(map[string]any)
	ttftP95 := m["time_to_first_token_ms"].(map[string]any)["successful"].(map[string]any)["percentiles"].(map[string]any)["p95"].(float64)
	itlP95 := m["inter_token_latency_ms"].(map[string]any)["successful"].(map[string]any)["percentiles"].(map[string]any)["p95"].(float64)
	latP50 := m["request_latency"].(map[string]any)["successful"].(map[string]any)["percentiles"].(map[string]any)["p50"].(float64)
	if !near(s.Latency.TTFT.Percentiles.P95, ttftP95/1000) || !near(s.Latency.TPOT.Percentiles.P95, itlP95/1000) || !near(s.Latency.E2E.Percentiles.P50, latP50) {
		t.Fatalf("TTFT p95 %v (report %v ms), TPOT p95 %v (ITL %v ms), E2E p50 %v (report %v s)", s.Latency.TTFT.Percentiles.P95, ttftP95, s.Latency.TPOT.Percentiles.P95, itlP95, s.Latency.E2E.Percentiles.P50, latP50)
	}
	if s.Requests != (results.Counts{Started: 168, Successful: 160, Errored: 2, Incomplete: 6}) || s.Errors["unclassified"] != 2 {
		t.Fatalf("requests %+v errors %v", s.Requests, s.Errors)
	}
	if !s.Window.Start.Equal(time.Unix(1767225600+120+5, 0)) || s.Window.DurationSeconds != 30 || s.Window.WarmupSeconds != 5 ||
		!s.StartedAt.Equal(time.Unix(1767225600+120, 0)) || !s.EndedAt.Equal(time.Unix(1767225600+120+5+30+2, 0)) {
		t.Fatalf("window %+v started %v ended %v", s.Window, s.StartedAt, s.EndedAt)
	}
	if s.Tokens.Output.Mean != 128 || s.Tokens.Prompt.Mean != 512 || !near(s.ConcurrencyAchieved, 7.9) {
		t.Fatalf("tokens %v/%v concurrency %v", s.Tokens.Prompt.Mean, s.Tokens.Output.Mean, s.ConcurrencyAchieved)
	}
	if s.Steady.Reached || len(s.Steady.Reasons) != 1 || s.Steady.Reasons[0] != NotJudged {
		t.Fatalf("steady %+v", s.Steady)
	}

	dir, sum := importRun(t, Options{Version: "test"}, r)
	res := sum.Results[0]
	if res.Target != "granite-8b" || res.Scenario != "512in-128out" || !reflect.DeepEqual(concurrencies(res.Steps), []int{1, 2, 4, 8}) {
		t.Fatalf("result %s/%s %v", res.Target, res.Scenario, concurrencies(res.Steps))
	}
	if bp := res.BreakingPoint; bp == nil || bp.Concurrency != 8 || bp.Rule != results.RuleTTFT {
		t.Fatalf("breaking point %+v", res.BreakingPoint)
	}
	if !res.Complete || res.MaxConcurrencyAtSLA != 4 {
		t.Fatalf("complete %v max at SLA %d", res.Complete, res.MaxConcurrencyAtSLA)
	}
	for _, s := range res.Steps {
		if s.Server != nil || s.Grades["kv_cache"] != results.GradeUnknown || hasKV(s.KPIs) {
			t.Fatalf("c=%d: server %+v, KV grade %s", s.Concurrency, s.Server, s.Grades["kv_cache"])
		}
	}
	// The run directory has run's layout: report rebuilds it offline.
	for _, f := range []string{results.PlanFile, results.RunFile, results.StepsFile, results.SummaryJSON, results.SummaryCSV, results.ReportMD, report.ReportHTML, ImportFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	again, err := report.RebuildOpts(results.At(dir), report.Options{NoPNG: true})
	if err != nil {
		t.Fatal(err)
	}
	if bp := again.Results[0].BreakingPoint; bp == nil || bp.Concurrency != 8 {
		t.Fatalf("rebuilt breaking point %+v", bp)
	}
	md, _ := os.ReadFile(filepath.Join(dir, results.ReportMD))
	for _, want := range []string{"| 8 | guidellm concurrent |", "BROKEN: ttft_p95", "had no server metrics", "| unknown |", NotJudged} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	var prov Provenance
	if err := results.ReadJSON(filepath.Join(dir, ImportFile), &prov); err != nil {
		t.Fatal(err)
	}
	if len(prov.Unknown) != 4 || !strings.HasPrefix(prov.ServerMetrics, "none") || prov.Sources[0].GuideLLMVersion != "0.7.3" {
		t.Fatalf("provenance %+v", prov)
	}
}

func mustJSON(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestImportYAMLEqualsJSON(t *testing.T) {
	j, y := read(t, "v2-concurrent.json"), read(t, "v2-concurrent.yaml")
	if !reflect.DeepEqual(j.Benchmarks, y.Benchmarks) || j.Model != y.Model || j.Version != y.Version {
		t.Fatal("the YAML report reads differently from the same tree as JSON")
	}
}

func TestImportVersion1(t *testing.T) {
	r := read(t, "v1-args.json")
	if r.Version != 1 || r.Model != "llama-3-8b" || r.InputTokens != 256 || r.OutputTokens != 64 {
		t.Fatalf("header %+v", r)
	}
	want := []struct {
		strategy string
		conc     int
		phase    string
	}{
		{StrategySynchronous, 1, "guidellm synchronous"},
		{StrategyConstant, 3, "guidellm constant 4.2/s"}, // achieved 3.4
		{StrategyPoisson, 6, "guidellm poisson 7.5/s"},   // achieved 6.2
		{StrategyThroughput, 16, "guidellm throughput"},  // max_concurrency
	}
	for i, w := range want {
		b := r.Benchmarks[i]
		if b.Strategy != w.strategy || b.Step.Concurrency != w.conc || b.Step.Phase != w.phase {
			t.Errorf("benchmark %d: %s c=%d %q, want %s c=%d %q", i, b.Strategy, b.Step.Concurrency, b.Step.Phase, w.strategy, w.conc, w.phase)
		}
	}
	if r.Benchmarks[1].Rate != 4.2 || !near(r.Benchmarks[2].Step.ConcurrencyAchieved, 6.2) {
		t.Fatalf("rate %v achieved %v", r.Benchmarks[1].Rate, r.Benchmarks[2].Step.ConcurrencyAchieved)
	}
	_, sum := importRun(t, Options{Targets: []Target{{Name: "llama", GPUs: 2, Precision: "fp8"}}}, r)
	res := sum.Results[0]
	if res.Target != "llama" || res.GPUs != 2 || res.Precision != "fp8" || res.Steps[0].Model != "llama-3-8b" {
		t.Fatalf("target %s gpus %d precision %s model %s", res.Target, res.GPUs, res.Precision, res.Steps[0].Model)
	}
	if bp := res.BreakingPoint; bp == nil || bp.Concurrency != 16 || bp.Rule != results.RuleTTFT {
		t.Fatalf("breaking point %+v", res.BreakingPoint)
	}
	last := res.Steps[len(res.Steps)-1]
	if !reflect.DeepEqual(last.Rules, []string{results.RuleTTFT, results.RuleSuccess}) {
		t.Fatalf("rules %v", last.Rules)
	}
	if !near(last.Throughput.OutputTokensPerSecondPerGPU, last.Throughput.OutputTokensPerSecond/2) {
		t.Fatal("tok/s per GPU not divided by --target's gpus")
	}
}

func TestImportGuideLLM04(t *testing.T) {
	r := read(t, "v04-no-metadata.json")
	if r.Version != 1 || r.GuideLLMVersion != "" || len(r.Benchmarks) != 2 {
		t.Fatalf("%+v", r)
	}
}

func TestMalformed(t *testing.T) {
	for file, wants := range map[string][]string{
		"bad-missing-p95.json":  {"benchmarks[2].metrics.time_to_first_token_ms.successful.percentiles.p95: missing"},
		"bad-version.json":      {"metadata.version: unknown report version 3"},
		"bad-v2-no-config.json": {"config: missing"},
		"bad-v03.json":          {"metadata: missing, and no top-level args: a GuideLLM 0.3 or older report"},
		"bad-not-json.json":     {"invalid JSON"},
		"bad-several.json": {
			`benchmarks[1].config.strategy.type_: unknown strategy "burst"`,
			`benchmarks[3].metrics.request_totals.successful: must be a number, got string "160"`,
			"benchmarks[0].end_time: missing",
		},
	} {
		_, err := ReadFile(filepath.Join("testdata", file))
		var fe *Error
		if !errors.As(err, &fe) {
			t.Errorf("%s: error %v, want *Error", file, err)
			continue
		}
		for _, w := range wants {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q lacks %q", file, err, w)
			}
		}
	}
	for name, doc := range map[string]string{
		"empty":      "",
		"list":       "[1, 2]",
		"yaml list":  "- a\n- b\n",
		"bad yaml":   "metadata: [unclosed\n",
		"no benches": `{"metadata": {"version": 2}, "config": {}, "benchmarks": []}`,
		"null bench": `{"metadata": {"version": 2}, "config": {}, "benchmarks": [null]}`,
		"wrong type": `{"metadata": {"version": 2}, "config": {}, "benchmarks": [{"type_": "embeddings_benchmark"}]}`,
	} {
		_, err := Parse([]byte(doc), name)
		var fe *Error
		if !errors.As(err, &fe) {
			t.Errorf("%s: error %v, want *Error", name, err)
		}
	}
	_, err := Parse([]byte(`{"metadata": {"version": 2}, "config": {}, "benchmarks": [{"type_": "embeddings_benchmark"}]}`), "x")
	if !strings.Contains(err.Error(), `benchmarks[0].type_: unknown benchmark type "embeddings_benchmark"`) || !strings.Contains(err.Error(), "benchmarks[0].config: missing") {
		t.Fatalf("%v", err)
	}
}

// TestParseIgnoresRequests: the per-request records are never decoded, so
// whatever they hold does not matter.
func TestParseIgnoresRequests(t *testing.T) {
	raw := mustJSON(t, "v2-concurrent.json")
	raw["benchmarks"].([]any)[0].(map[string]any)["requests"] = "not even a list"
	b, _ := json.Marshal(raw)
	if _, err := Parse(b, "x"); err != nil {
		t.Fatal(err)
	}
}

func TestStep(t *testing.T) {
	for d, want := range map[time.Duration]time.Duration{
		time.Second: 100 * time.Millisecond, 30 * time.Second: 300 * time.Millisecond,
		time.Hour: 15 * time.Second,
	} {
		if got := Step(d); got != want {
			t.Errorf("Step(%s) = %s, want %s", d, got, want)
		}
	}
}

// hasKV: the step recorded a KV cache value (it must not without /metrics).
func hasKV(k results.KPIs) bool { _, ok := k["kv_cache_max_percent"]; return ok }
