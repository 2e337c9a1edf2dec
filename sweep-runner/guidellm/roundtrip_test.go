package guidellm

import (
	"encoding/json"
	"fmt"
	"github.com/rhoai-demo/step07/api/kpi"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/analysis"
	"github.com/rhoai-demo/step07/sweep-runner/report"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// synthStep is a step measured at concurrency c: TTFT values around ttft
// seconds and /metrics samples whose share with waiting > 0 is waitFrac.
func synthStep(t0 time.Time, seq, c int, ttft, waitFrac float64, sla v1alpha1.SLA) results.Step {
	n := 40
	var tt, tpot, itl, e2e, in, out []float64
	for i := range n {
		f := 0.8 + 0.4*float64(i)/float64(n-1)
		tt = append(tt, ttft*f)
		tpot = append(tpot, 0.02*f)
		itl = append(itl, 0.018*f, 0.022*f)
		e2e = append(e2e, ttft*f+0.02*f*63)
		in = append(in, 256)
		out = append(out, 64)
	}
	start := t0.Add(time.Duration(seq) * time.Minute)
	s := results.Step{
		SchemaVersion: results.SchemaVersion, RunID: "run", Target: "m", Model: "m1", GPUs: 2, Scenario: "A",
		InputTokens: 256, OutputTokens: 64, API: "completions", Concurrency: c, Phase: results.PhaseGrid, Seq: seq,
		StartedAt: start, EndedAt: start.Add(25 * time.Second),
		Window:         results.Window{Start: start.Add(5 * time.Second), End: start.Add(20 * time.Second), WarmupSeconds: 5, DurationSeconds: 15, GraceSeconds: 120},
		Requests:       results.Counts{Started: n + 1, Successful: n, Incomplete: 1},
		WarmupRequests: results.Counts{Started: c, Successful: c}, TailRequests: results.Counts{Started: 2, Incomplete: 2},
		Censored: 1, ConcurrencyAchieved: float64(c) * 0.97, SuccessRate: 1,
		Latency: results.Latency{TTFT: analysis.Dist(append([]float64(nil), tt...)), TPOT: analysis.Dist(tpot), ITL: analysis.Dist(itl), E2E: analysis.Dist(e2e)},
		Tokens:  results.Tokens{Prompt: analysis.Dist(in), Output: analysis.Dist(out)},
		Throughput: results.Throughput{RequestsPerSecond: float64(n) / 15, OutputTokensPerSecond: float64(n*64) / 15,
			TotalTokensPerSecond: float64(n*320) / 15, OutputTokensPerSecondPerGPU: float64(n*64) / 30, GoodputRequestsPerSecond: 2.5},
		Steady: results.SteadyState{Reached: true, Drained: true, LifetimeSeconds: 1.5},
	}
	var waiting []float64
	srv := &results.Server{Samples: 30, Generation: "v1"}
	for i := range 30 {
		w := 0.0
		if float64(i) < waitFrac*30 {
			w = 3
		}
		waiting = append(waiting, w)
		srv.Waiting.Mean += w / 30
		srv.Waiting.Max = max(srv.Waiting.Max, w)
	}
	srv.WaitingFraction = waitFrac
	srv.Running = results.Gauge{Mean: float64(c), Max: float64(c)}
	srv.KVCacheUsage = results.Gauge{Mean: 0.1 * float64(c) / 4, Max: 0.12 * float64(c) / 4}
	s.Server = srv
	analysis.Evaluate(&s, sla)
	analysis.Confide(&s, tt, waiting, sla)
	return s
}

// synthRun writes a run directory whose breaking point is 6 (queue): the
// grid 1, 2, 4, 8, 16 and the bisection 5, 6.
func synthRun(t *testing.T) string {
	t.Helper()
	plan := &v1alpha1.SweepPlan{Spec: v1alpha1.PlanSpec{Targets: []v1alpha1.Target{{Name: "m", URL: "http://127.0.0.1:9/", Model: "m1", GPUs: 2}}}}
	plan.Spec.Scenarios = []v1alpha1.Scenario{{Name: "A", InputTokens: 256, OutputTokens: 64}}
	plan.Spec.MaxConcurrency = v1alpha1.Ptr(16)
	if err := plan.Default(); err != nil {
		t.Fatal(err)
	}
	sla := plan.Spec.EffectiveSLA()
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var steps []results.Step
	for i, p := range []struct {
		c          int
		ttft, wait float64
	}{{1, 0.1, 0}, {2, 0.12, 0.1}, {4, 0.3, 0.3}, {8, 0.8, 0.8}, {16, 3, 1}, {5, 0.35, 0.4}, {6, 0.4, 0.6}} {
		s := synthStep(t0, i+1, p.c, p.ttft, p.wait, sla)
		if i >= 5 {
			s.Phase = results.PhaseBisect
		}
		steps = append(steps, s)
	}
	dir := filepath.Join(t.TempDir(), "20260301T100000Z")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	y, _ := yaml.Marshal(plan)
	os.WriteFile(filepath.Join(dir, results.PlanFile), y, 0o644)
	end := t0.Add(10 * time.Minute)
	results.WriteJSON(filepath.Join(dir, results.RunFile), results.Run{RunID: "20260301T100000Z", Status: results.StatusComplete, StartedAt: t0, EndedAt: &end})
	for i := range steps {
		if err := results.AppendStep(filepath.Join(dir, results.StepsFile), &steps[i]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := report.RebuildOpts(results.At(dir), report.Options{NoPNG: true}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestExportRoundTrip(t *testing.T) {
	dir := synthRun(t)
	plan, run, steps, err := results.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	orig := analysis.Summarize(plan, run, steps)
	if bp := orig.Results[0].BreakingPoint; bp == nil || bp.Concurrency != 6 || bp.Rule != results.RuleQueue {
		t.Fatalf("synthetic run: breaking point %+v", bp)
	}
	data, err := Export(dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	meta := doc["metadata"].(map[string]any)
	b0 := doc["benchmarks"].([]any)[0].(map[string]any)
	strat := b0["config"].(map[string]any)["strategy"].(map[string]any)
	if meta["version"] != 2.0 || meta["guidellm_version"] != "none" || b0["type_"] != BenchmarkType || strat["type_"] != "concurrent" || strat["streams"] != 1.0 {
		t.Fatalf("export header: metadata %v, type %v, strategy %v", meta, b0["type_"], strat)
	}
	m := b0["metrics"].(map[string]any)
	if m["time_per_output_token_ms"].(map[string]any)["successful"] != nil {
		t.Fatal("GuideLLM's TPOT (first token included) is not measured: must be null")
	}
	ttft := m["time_to_first_token_ms"].(map[string]any)["successful"].(map[string]any)["percentiles"].(map[string]any)["p95"].(float64)
	if !near(ttft, orig.Results[0].Steps[0].Latency.TTFT.Percentiles.P95*1000) {
		t.Fatalf("TTFT p95 exported as %v ms", ttft)
	}

	rep, err := Parse(data, "export.json")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Version != 2 || rep.Extension == nil || len(rep.Benchmarks) != len(steps) {
		t.Fatalf("re-read: version %d, %d benchmarks", rep.Version, len(rep.Benchmarks))
	}
	_, sum := importRun(t, Options{}, rep)
	a, b := orig.Results[0], sum.Results[0]
	if !reflect.DeepEqual(a.BreakingPoint, b.BreakingPoint) || a.MaxConcurrencyAtSLA != b.MaxConcurrencyAtSLA || a.Target != b.Target || a.Scenario != b.Scenario || a.GPUs != b.GPUs {
		t.Fatalf("round trip: %s/%s bp %+v at SLA %d -> %s/%s bp %+v at SLA %d", a.Target, a.Scenario, a.BreakingPoint, a.MaxConcurrencyAtSLA, b.Target, b.Scenario, b.BreakingPoint, b.MaxConcurrencyAtSLA)
	}
	if !reflect.DeepEqual(sum.SLA, orig.SLA) {
		t.Fatalf("SLA %+v -> %+v", orig.SLA, sum.SLA)
	}
	for i := range a.Steps {
		x, y := a.Steps[i], b.Steps[i]
		ttft, _ := kpi.ByKey(kpi.KeyTTFT)
		tx, okx := x.KPIs.Get(ttft)
		ty, oky := y.KPIs.Get(ttft)
		if !okx || !oky {
			t.Errorf("step c=%d: TTFT p95 not recorded (%v before, %v after the round trip)", x.Concurrency, okx, oky)
		}
		if x.Concurrency != y.Concurrency || x.Phase != y.Phase || x.Requests != y.Requests || !reflect.DeepEqual(x.Rules, y.Rules) ||
			!maps.Equal(x.Grades, y.Grades) || !reflect.DeepEqual(x.Server, y.Server) || !reflect.DeepEqual(x.Steady, y.Steady) ||
			x.Censored != y.Censored || x.AtSLA != y.AtSLA || !near(ty, tx) ||
			!near(y.Latency.E2E.Percentiles.P99, x.Latency.E2E.Percentiles.P99) || !near(y.Throughput.OutputTokensPerSecond, x.Throughput.OutputTokensPerSecond) ||
			!near(y.ConcurrencyAchieved, x.ConcurrencyAchieved) || !reflect.DeepEqual(x.Latency.ITL, y.Latency.ITL) || !x.Window.Start.Equal(y.Window.Start) {
			t.Errorf("step c=%d differs after the round trip:\n%+v\n%+v", x.Concurrency, x, y)
		}
	}

	// Without the extension (what GuideLLM's own tools keep of it is not
	// guaranteed) the queue gauges are gone: the queue rule is unknown and
	// the breaking point is the TTFT rule's, 16.
	for _, b := range doc["benchmarks"].([]any) {
		delete(b.(map[string]any), ExtensionKey)
	}
	delete(doc, ExtensionKey)
	bare, _ := json.Marshal(doc)
	rep, err = Parse(bare, "bare.json")
	if err != nil {
		t.Fatal(err)
	}
	_, sum = importRun(t, Options{Targets: []Target{{Name: "m", GPUs: 2}}}, rep)
	if bp := sum.Results[0].BreakingPoint; bp == nil || bp.Concurrency != 16 || bp.Rule != results.RuleTTFT {
		t.Fatalf("without the extension: breaking point %+v", bp)
	}
	for _, s := range sum.Results[0].Steps {
		if s.Grades["kv_cache"] != results.GradeUnknown || s.Steady.Reasons[0] != NotJudged {
			t.Fatalf("without the extension: c=%d KV %s steady %+v", s.Concurrency, s.Grades["kv_cache"], s.Steady)
		}
	}
}

// fakeProm answers /api/v1/query_range with a constant value per metric,
// at every step of the range; metrics absent from values have no series.
func fakeProm(t *testing.T, values map[string]float64, queries *[]string) *httptest.Server {
	var mu sync.Mutex
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query_range" || r.ParseForm() != nil {
			http.Error(w, "bad", 400)
			return
		}
		q := r.Form.Get("query")
		mu.Lock()
		*queries = append(*queries, q)
		mu.Unlock()
		start, _ := strconv.ParseFloat(r.Form.Get("start"), 64)
		end, _ := strconv.ParseFloat(r.Form.Get("end"), 64)
		step, _ := strconv.ParseFloat(r.Form.Get("step"), 64)
		var result []map[string]any
		for name, v := range values {
			if !strings.Contains(q, name+"{") {
				continue
			}
			var pts [][2]any
			for ts := start; ts <= end+1e-9; ts += step {
				pts = append(pts, [2]any{ts, fmt.Sprint(v)})
			}
			result = append(result, map[string]any{"metric": map[string]string{}, "values": pts})
		}
		json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{"resultType": "matrix", "result": result}})
	}))
}

func TestPrometheusFillsServerGauges(t *testing.T) {
	var queries []string
	srv := fakeProm(t, map[string]float64{"vllm:num_requests_waiting": 2, "vllm:num_requests_running": 4, "vllm:gpu_cache_usage_perc": 0.93}, &queries)
	defer srv.Close()
	var warn strings.Builder
	_, sum := importRun(t, Options{Prometheus: &Prometheus{URL: srv.URL}, Warn: &warn}, read(t, "v2-concurrent.json"))
	res := sum.Results[0]
	// Requests waited during every window: the first step breaks (queue).
	if bp := res.BreakingPoint; bp == nil || bp.Concurrency != 1 || bp.Rule != results.RuleQueue {
		t.Fatalf("breaking point %+v (warnings %s)", bp, warn.String())
	}
	s := res.Steps[0]
	if s.Server == nil || s.Server.WaitingFraction != 1 || s.Server.Generation != "v0" || s.Server.KVCacheUsage.Max != 0.93 || s.Server.Samples < 50 {
		t.Fatalf("server %+v", s.Server)
	}
	if s.Grades["kv_cache"] != results.GradeWarning {
		t.Fatalf("KV grade %s", s.Grades["kv_cache"])
	}
	if !strings.Contains(queries[0], `model_name="granite-8b"`) || !strings.Contains(queries[0], "max without(") {
		t.Fatalf("query %s", queries[0])
	}
	if warn.Len() != 0 {
		t.Fatalf("warnings: %s", warn.String())
	}

	// No series for the model: unknown, said so.
	queries = nil
	empty := fakeProm(t, map[string]float64{}, &queries)
	defer empty.Close()
	warn.Reset()
	_, sum = importRun(t, Options{Prometheus: &Prometheus{URL: empty.URL}, Warn: &warn}, read(t, "v2-concurrent.json"))
	if sum.Results[0].Steps[0].Server != nil || !strings.Contains(warn.String(), "queue rule and KV cache unknown") {
		t.Fatalf("server %+v, warnings %s", sum.Results[0].Steps[0].Server, warn.String())
	}

	// Prometheus unreachable: one warning, the import goes on.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	warn.Reset()
	_, sum = importRun(t, Options{Prometheus: &Prometheus{URL: dead.URL}, Warn: &warn}, read(t, "v2-concurrent.json"))
	if bp := sum.Results[0].BreakingPoint; bp == nil || bp.Concurrency != 8 || strings.Count(warn.String(), "not read from Prometheus") != 1 {
		t.Fatalf("bp %+v warnings %s", bp, warn.String())
	}
}
