package main

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/api/kpi"
	sm "github.com/rhoai-demo/step07/api/sweepmetrics"
	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/generators/dashboards"
	"github.com/rhoai-demo/step07/internal/testenv"
	"github.com/rhoai-demo/step07/sweep-runner/remotewrite"
	"github.com/rhoai-demo/step07/sweep-runner/results"
	"github.com/rhoai-demo/step07/vllmsim"
)

// simWithDCGM starts an in-process vllm-sim and its DCGM exporter.
func simWithDCGM(t *testing.T, model string, maxNumSeqs, gpus int) (api, dcgmHost string) {
	t.Helper()
	cfg := vllmsim.DefaultConfig()
	cfg.Model, cfg.MaxNumSeqs, cfg.GPUs = model, maxNumSeqs, gpus
	s, err := vllmsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, d := httptest.NewServer(s.Handler()), httptest.NewServer(s.DCGMHandler())
	t.Cleanup(func() { a.Close(); d.Close(); s.Close() })
	u, _ := url.Parse(d.URL)
	return a.URL, u.Host
}

type series struct {
	labels string // sorted name=value pairs, __name__ included
	value  float64
}

func labelKey(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q,", k, m[k])
	}
	return b.String()
}

// expectedSeries derives, from summary.json alone, every series the run must
// have written: step series per concurrency and the per-run answer.
func expectedSeries(sum *results.Summary) (map[string]float64, map[string]bool) {
	want := map[string]float64{}
	runTS := map[string]bool{}
	for _, r := range sum.Results {
		base := func(name string) map[string]string {
			return map[string]string{"__name__": name, sm.LabelModel: r.Target, sm.LabelScenario: r.Scenario, sm.LabelRunID: sum.RunID}
		}
		for _, s := range r.Steps {
			put := func(name string, v float64, kv ...string) {
				l := base(name)
				l[sm.LabelConcurrency] = strconv.Itoa(s.Concurrency)
				for i := 0; i < len(kv); i += 2 {
					l[kv[i]] = kv[i+1]
				}
				want[labelKey(l)] = v
			}
			for name, d := range map[string]results.Distribution{sm.TTFTSeconds: s.Latency.TTFT, sm.TPOTSeconds: s.Latency.TPOT, sm.ITLSeconds: s.Latency.ITL} {
				if d.Count == 0 {
					continue // nothing measured: no sample
				}
				put(name, d.Percentiles.P50, sm.LabelQuantile, "0.5")
				put(name, d.Percentiles.P95, sm.LabelQuantile, "0.95")
				put(name, d.Percentiles.P99, sm.LabelQuantile, "0.99")
			}
			put(sm.OutputTokensPerSecond, s.Throughput.OutputTokensPerSecond)
			put(sm.OutputTokensPerSecondPerGPU, s.Throughput.OutputTokensPerSecondPerGPU)
			put(sm.RequestsPerSecond, s.Throughput.RequestsPerSecond)
			if s.Requests.Successful+s.Requests.Errored > 0 {
				put(sm.SuccessRatio, s.SuccessRate)
			}
			put(sm.QueueWaitingMean, s.Server.Waiting.Mean)
			put(sm.KVCacheUsageMax, s.Server.KVCacheUsage.Max)
			if s.PowerWatts != nil {
				put(sm.PowerWatts, *s.PowerWatts)
			}
			put(sm.StepBroken, map[bool]float64{false: 0, true: 1}[s.Broken])
			for _, k := range kpi.KPIs {
				if v, ok := s.KPIs.Get(k); ok {
					put(sm.KPIValue, v, sm.LabelKPI, k.Key)
				}
				if r, ok := sm.GradeRanks[s.Grades[k.Key]]; ok {
					put(sm.KPIGrade, r, sm.LabelKPI, k.Key)
				}
			}
		}
		if r.BreakingPoint != nil {
			want[labelKey(base(sm.BreakingPointConcurrency))] = float64(r.BreakingPoint.Concurrency)
		}
		want[labelKey(base(sm.MaxConcurrencyAtSLA))] = float64(r.MaxConcurrencyAtSLA)
		want[labelKey(base(sm.UsersPerGPUAtSLA))] = r.UsersPerGPUAtSLA
		want[labelKey(base(sm.OutputTokensPerSecondPerGPUAtSLA))] = r.OutputTokensPerSecondPerGPUAtSLA
		runTS[labelKey(base(sm.RunTimestamp))] = true
	}
	return want, runTS
}

// TestRemoteWriteE2E: a real Prometheus 2.42 with the remote-write receiver
// scrapes two simulated DCGM exporters. A first run, whose receiver is down,
// keeps its results on disk; the next run in the same --out sends them and
// its own. The series in Prometheus equal summary.json (values and label
// sets, power included), and the Breaking Point chart's query of the
// generated Mistral Scale Comparison dashboard returns one point per
// concurrency step per model.
func TestRemoteWriteE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: skipped in -short mode")
	}
	bf16, bf16DCGM := simWithDCGM(t, "m-bf16", 3, 4)
	int4, int4DCGM := simWithDCGM(t, "m-int4", 2, 1)
	prom := testenv.StartPrometheus(t, fmt.Sprintf("global: {scrape_interval: 500ms}\nscrape_configs:\n- job_name: dcgm\n  static_configs: [{targets: ['%s', '%s']}]\n", bf16DCGM, int4DCGM))
	out := t.TempDir()
	// Short requests (~0.3 s), so every step finishes some within its window.
	plan := filepath.Join(t.TempDir(), "plan.yaml")
	if err := os.WriteFile(plan, []byte("apiVersion: step07.rhoai-demo.io/v1alpha1\nkind: SweepPlan\nspec:\n  scenarios:\n  - {name: A, inputTokens: 64, outputTokens: 24}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	common := []string{"run", "--plan", plan, "--step-duration", "1500ms", "--warmup", "300ms", "--min-requests", "8", "--max-requests", "8", "--no-bisect", "--out", out}

	// 1. The receiver is down: the run succeeds, its results wait on disk.
	dead := fmt.Sprintf("http://127.0.0.1:%d/api/v1/write", testenv.FreePort(t))
	code, _, errs := runCLI(append(common, "--target", "m-int4="+int4+",gpus=1", "--concurrency", "1", "--remote-write", dead)...)
	if code != 0 || !strings.Contains(errs, "remote write failed, results kept") {
		t.Fatalf("run with the receiver down: exit %d\n%s", code, errs)
	}
	pending, _ := filepath.Glob(filepath.Join(out, "*", remotewrite.PendingFile))
	if len(pending) != 1 {
		t.Fatalf("pending files %v, want 1", pending)
	}
	firstRun := filepath.Base(filepath.Dir(pending[0]))
	time.Sleep(1100 * time.Millisecond) // run ids have a one-second resolution

	// 2. The next run sends the kept results and its own, with power.
	code, stdout, errs := runCLI(append(common, "--target", "m-bf16="+bf16+",gpus=4", "--target", "m-int4="+int4+",gpus=1",
		"--concurrency", "1,2,4", "--remote-write", prom+"/api/v1/write", "--prometheus-url", prom)...)
	if code != 0 || strings.Contains(errs, "warning") {
		t.Fatalf("run: exit %d\n%s\n%s", code, stdout, errs)
	}
	if p, _ := filepath.Glob(filepath.Join(out, "*", remotewrite.PendingFile)); len(p) != 0 {
		t.Errorf("pending files left after a successful run: %v", p)
	}
	if n := testenv.Query(t, prom, fmt.Sprintf(`count(llm_sweep_ttft_seconds{run_id=%q})`, firstRun)); len(n) != 1 || n[0].Value != 3 {
		t.Errorf("the first run's kept results did not reach Prometheus: %+v", n)
	}
	runs, _ := filepath.Glob(filepath.Join(out, "*", results.SummaryJSON))
	sort.Strings(runs)
	if len(runs) != 2 || filepath.Base(filepath.Dir(runs[0])) != firstRun {
		t.Fatalf("run directories %v", runs)
	}
	var sum results.Summary
	if err := results.ReadJSON(runs[1], &sum); err != nil {
		t.Fatal(err)
	}
	if !(sum.RunID > firstRun) {
		t.Errorf("run ids do not sort by time: %q then %q", firstRun, sum.RunID)
	}
	for _, r := range sum.Results {
		// The grid's three steps, and the step below the first broken
		// one certified again when it had only explored.
		ran := map[int]bool{}
		for _, s := range r.Steps {
			if ran[s.Concurrency] && s.Phase != results.PhaseCertify {
				t.Errorf("%s: c=%d ran twice (%s)", r.Target, s.Concurrency, s.Phase)
			}
			ran[s.Concurrency] = true
		}
		if len(ran) != 3 || len(r.Steps) > 4 {
			t.Fatalf("%s: %d steps at %v, want 1, 2 and 4", r.Target, len(r.Steps), ran)
		}
		for _, s := range r.Steps {
			if s.Latency.TTFT.Count == 0 || s.Requests.Successful == 0 {
				t.Errorf("%s c=%d measured nothing: the checks below are too weak", r.Target, s.Concurrency)
			}
			if s.PowerWatts == nil || *s.PowerWatts < 70*float64(s.GPUs) {
				t.Errorf("%s c=%d: power %v, want at least the GPUs' idle power", r.Target, s.Concurrency, s.PowerWatts)
			}
		}
	}

	// Every series of the run in Prometheus, and nothing else.
	want, runTS := expectedSeries(&sum)
	got := testenv.Query(t, prom, fmt.Sprintf(`{__name__=~"llm_sweep_.+", run_id=%q}`, sum.RunID))
	seen := map[string]bool{}
	for _, g := range got {
		k := labelKey(g.Metric)
		seen[k] = true
		if runTS[k] {
			if g.Value < float64(time.Now().Add(-5*time.Minute).Unix()) || g.Value > float64(time.Now().Unix()) {
				t.Errorf("%s = %v, not the time of this run", k, g.Value)
			}
			continue
		}
		w, ok := want[k]
		if !ok {
			t.Errorf("unexpected series %s = %v", k, g.Value)
			continue
		}
		// Prometheus' JSON prints floats with full precision.
		if math.Abs(g.Value-w) > 1e-9*math.Max(1, math.Abs(w)) {
			t.Errorf("%s = %v in Prometheus, %v in summary.json", k, g.Value, w)
		}
	}
	for k := range want {
		if !seen[k] {
			t.Errorf("series missing from Prometheus: %s", k)
		}
	}
	for k := range runTS {
		if !seen[k] {
			t.Errorf("series missing from Prometheus: %s", k)
		}
	}
	if len(want) < 2*3*16 {
		t.Errorf("only %d expected series: the check is too weak", len(want))
	}

	// The Breaking Point chart of the generated comparison dashboard.
	for _, e := range breakingPointExprs(t) {
		q := strings.NewReplacer("$model_a", "m-bf16", "$model_b", "m-int4", "$scenario", "A", "$run_id", sum.RunID, "$__range", "10m").Replace(e.expr)
		res := testenv.Query(t, prom, q)
		model := map[string]string{"A": "m-bf16", "B": "m-int4"}[e.ref]
		if e.ref == "C" { // the SLA line: one point per concurrency of both models
			if len(res) != 3 {
				t.Errorf("SLA line query returned %d points, want 3: %s", len(res), q)
			}
			continue
		}
		var r results.Result
		for _, x := range sum.Results {
			if x.Target == model {
				r = x
			}
		}
		conc := map[int]bool{}
		for _, s := range r.Steps {
			conc[s.Concurrency] = true
		}
		if len(res) != len(conc) {
			t.Errorf("Breaking Point chart query %s returned %d points for %s, want %d (one per concurrency): %s", e.ref, len(res), model, len(conc), q)
		}
		for _, p := range res {
			c, _ := strconv.Atoi(p.Metric[sm.LabelConcurrency])
			found := false
			for _, s := range r.Steps {
				if s.Concurrency == c && math.Abs(s.Latency.TTFT.Percentiles.P95-p.Value) < 1e-12 {
					found = true
				}
			}
			if !found || p.Metric[sm.LabelModel] != model {
				t.Errorf("Breaking Point point %v = %v matches no step of %s", p.Metric, p.Value, model)
			}
		}
	}
}

type panelExpr struct{ ref, expr string }

// breakingPointExprs are the queries of the "Breaking Point" chart in the
// generated Mistral Scale Comparison dashboard (the demo config).
func breakingPointExprs(t *testing.T) []panelExpr {
	t.Helper()
	c := &v1alpha1.ModelPerformanceMetrics{}
	if err := c.Default(); err != nil {
		t.Fatal(err)
	}
	ds, err := dashboards.Dashboards(c)
	if err != nil {
		t.Fatal(err)
	}
	var out []panelExpr
	for _, d := range ds {
		if d.UID != dashboards.UIDComparison {
			continue
		}
		var j struct {
			Panels []struct {
				Title   string `json:"title"`
				Targets []struct {
					RefID string `json:"refId"`
					Expr  string `json:"expr"`
				} `json:"targets"`
			} `json:"panels"`
		}
		if err := json.Unmarshal(d.JSON, &j); err != nil {
			t.Fatal(err)
		}
		for _, p := range j.Panels {
			if strings.HasPrefix(p.Title, "Breaking Point") {
				for _, tg := range p.Targets {
					out = append(out, panelExpr{tg.RefID, tg.Expr})
				}
			}
		}
	}
	if len(out) != 3 {
		t.Fatalf("found %d Breaking Point queries in the comparison dashboard, want 3", len(out))
	}
	return out
}
