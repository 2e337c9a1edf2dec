package analysis

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestQuantile(t *testing.T) {
	v := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tc := range []struct{ p, want float64 }{
		{0, 1}, {1, 10}, {0.5, 5.5}, {0.9, 9.1}, {0.95, 9.55}, {0.99, 9.91}, {0.25, 3.25},
	} {
		if got := Quantile(v, tc.p); !near(got, tc.want, 1e-9) {
			t.Errorf("Quantile(%v) = %v, want %v", tc.p, got, tc.want)
		}
	}
	if Quantile(nil, 0.5) != 0 {
		t.Error("empty quantile not 0")
	}
}

func TestDist(t *testing.T) {
	d := Dist([]float64{4, 1, 3, 2})
	want := results.Distribution{Mean: 2.5, Median: 2.5, StdDev: math.Sqrt(1.25), Min: 1, Max: 4, Count: 4, TotalSum: 10}
	want.Percentiles = d.Percentiles
	if diff := cmp.Diff(want, d); diff != "" {
		t.Fatal(diff)
	}
	if d.Percentiles.P50 != d.Median || d.Percentiles.P99 > d.Max || d.Percentiles.P001 < d.Min {
		t.Errorf("percentiles inconsistent: %+v", d.Percentiles)
	}
	if (Dist(nil) != results.Distribution{}) {
		t.Error("empty distribution not zero")
	}
	one := Dist([]float64{0.3})
	if one.Percentiles.P95 != 0.3 || one.StdDev != 0 {
		t.Errorf("single value: %+v", one)
	}
}

func TestHistogramQuantile(t *testing.T) {
	inf := math.Inf(1)
	b := []Bucket{{0.1, 10}, {0.5, 60}, {1, 90}, {inf, 100}}
	for _, tc := range []struct{ q, want float64 }{
		{0.05, 0.05}, {0.1, 0.1}, {0.5, 0.1 + 0.4*40/50}, {0.9, 1}, {0.95, 1}, {0, 0},
	} {
		if got := HistogramQuantile(tc.q, b); !near(got, tc.want, 1e-9) {
			t.Errorf("q%v = %v, want %v", tc.q, got, tc.want)
		}
	}
	if HistogramQuantile(0.95, []Bucket{{1, 0}, {inf, 0}}) != 0 {
		t.Error("empty histogram")
	}
}

func TestGrades(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{{0.1, "excellent"}, {0.2, "excellent"}, {0.5, "acceptable"}, {1.5, "warning"}, {2, "warning"}, {2.1, "degraded"}} {
		if got := GradeLower(tc.v, 0.2, 0.8, 2); got != tc.want {
			t.Errorf("GradeLower(%v) = %s, want %s", tc.v, got, tc.want)
		}
	}
	for _, tc := range []struct {
		v    float64
		want string
	}{{100, "excellent"}, {99.5, "acceptable"}, {97, "warning"}, {94, "degraded"}} {
		if got := GradeHigher(tc.v, 100, 99, 95); got != tc.want {
			t.Errorf("GradeHigher(%v) = %s, want %s", tc.v, got, tc.want)
		}
	}
}

func defaultSLA() v1alpha1.SLA {
	var s v1alpha1.SLA
	s.Default()
	return s
}

// step builds a step with the given TTFT p95, TPOT p95, waiting fraction,
// KV max and counts.
func step(ttftP95, tpotP95, waitFrac, kvMax float64, ok, errs int) results.Step {
	s := results.Step{Requests: results.Counts{Started: ok + errs, Successful: ok, Errored: errs}}
	if ok > 0 {
		s.Latency.TTFT = results.Distribution{Count: ok, Percentiles: results.Percentiles{P95: ttftP95}}
		s.Latency.TPOT = results.Distribution{Count: ok, Percentiles: results.Percentiles{P95: tpotP95}}
	}
	s.Server = &results.Server{Samples: 10, WaitingFraction: waitFrac, Generation: "v1", KVCacheUsage: results.Gauge{Max: kvMax}}
	if waitFrac > 0 {
		s.Server.Waiting.Max = 2
	}
	return s
}

func TestEvaluate(t *testing.T) {
	sla := defaultSLA()
	for _, tc := range []struct {
		name   string
		s      results.Step
		broken bool
		rules  []string
		atSLA  bool
		grades results.Grades
	}{
		{"all excellent", step(0.1, 0.01, 0, 0.3, 100, 0), false, nil, true,
			results.Grades{TTFT: "excellent", ReadingSpeed: "excellent", KVCache: "excellent", Success: "excellent"}},
		{"warning ttft: not at SLA, not broken", step(1.2, 0.01, 0, 0.3, 100, 0), false, nil, false,
			results.Grades{TTFT: "warning", ReadingSpeed: "excellent", KVCache: "excellent", Success: "excellent"}},
		{"ttft rule", step(2.5, 0.01, 0, 0.3, 100, 0), true, []string{"ttft_p95"}, false,
			results.Grades{TTFT: "degraded", ReadingSpeed: "excellent", KVCache: "excellent", Success: "excellent"}},
		{"queue rule at exactly half", step(0.1, 0.01, 0.5, 0.3, 100, 0), true, []string{"queue"}, false,
			results.Grades{TTFT: "excellent", ReadingSpeed: "excellent", KVCache: "excellent", Success: "excellent"}},
		{"queue below half is fine", step(0.1, 0.01, 0.4, 0.3, 100, 0), false, nil, true,
			results.Grades{TTFT: "excellent", ReadingSpeed: "excellent", KVCache: "excellent", Success: "excellent"}},
		{"success rule", step(0.1, 0.01, 0, 0.3, 90, 10), true, []string{"success"}, false,
			results.Grades{TTFT: "excellent", ReadingSpeed: "excellent", KVCache: "excellent", Success: "degraded"}},
		{"slow reading", step(0.1, 0.06, 0, 0.3, 100, 0), false, nil, false,
			results.Grades{TTFT: "excellent", ReadingSpeed: "warning", KVCache: "excellent", Success: "excellent"}},
		{"kv cache high", step(0.1, 0.01, 0, 0.93, 100, 0), false, nil, false,
			results.Grades{TTFT: "excellent", ReadingSpeed: "excellent", KVCache: "warning", Success: "excellent"}},
		{"all rules", step(3, 0.01, 1, 0.3, 50, 50), true, []string{"ttft_p95", "queue", "success"}, false,
			results.Grades{TTFT: "degraded", ReadingSpeed: "excellent", KVCache: "excellent", Success: "degraded"}},
		{"no response", step(0, 0, 0, 0.3, 0, 5), true, []string{"no_response", "success"}, false,
			results.Grades{TTFT: "unknown", ReadingSpeed: "unknown", KVCache: "excellent", Success: "degraded"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.s
			Evaluate(&s, sla)
			if s.Broken != tc.broken || !cmp.Equal(s.Rules, tc.rules) || s.AtSLA != tc.atSLA {
				t.Errorf("broken %v rules %v atSLA %v; want %v %v %v", s.Broken, s.Rules, s.AtSLA, tc.broken, tc.rules, tc.atSLA)
			}
			if len(tc.rules) > 0 && s.Rule != tc.rules[0] {
				t.Errorf("rule %q, want %q", s.Rule, tc.rules[0])
			}
			if s.Grades != tc.grades {
				t.Errorf("grades %+v, want %+v", s.Grades, tc.grades)
			}
		})
	}
	// Without /metrics the server KPIs are unknown and do not decide.
	s := step(0.1, 0.01, 0, 0, 10, 0)
	s.Server = nil
	Evaluate(&s, sla)
	if !s.AtSLA || s.Grades.KVCache != "unknown" || s.KPIs.KVCacheMaxPercent != -1 {
		t.Errorf("no metrics: %+v %+v", s.Grades, s.KPIs)
	}
}

func TestGoodRequest(t *testing.T) {
	sla := defaultSLA()
	ms := time.Millisecond
	for _, tc := range []struct {
		ttft, tpot time.Duration
		want       bool
	}{{100 * ms, 10 * ms, true}, {900 * ms, 10 * ms, false}, {100 * ms, 60 * ms, false}, {100 * ms, 0, true}} {
		if got := GoodRequest(tc.ttft, tc.tpot, sla); got != tc.want {
			t.Errorf("GoodRequest(%v, %v) = %v", tc.ttft, tc.tpot, got)
		}
	}
}

// simulate runs the sweep decisions against a model server whose steps
// break from bp on and are at SLA up to sla.
func simulate(grid []int, explicit, bisect bool, bp, sla int) (order []int, v Verdict) {
	var done []Probe
	for i := 0; i < 100; i++ {
		c, _, ok := Next(grid, explicit, bisect, done)
		if !ok {
			break
		}
		order = append(order, c)
		done = append(done, Probe{Concurrency: c, Broken: c >= bp, AtSLA: c <= sla && c < bp, Rule: "queue"})
	}
	return order, Decide(done)
}

func TestSweepDecisions(t *testing.T) {
	d := v1alpha1.Doubling(1, 16)
	for _, tc := range []struct {
		name             string
		grid             []int
		explicit, bisect bool
		bp, sla          int
		order            []int
		wantBP, wantSLA  int
		exact            bool
	}{
		{"max-num-seqs 6", d, false, true, 7, 6, []int{1, 2, 4, 8, 6, 7}, 7, 6, true},
		{"max-num-seqs 12", d, false, true, 13, 12, []int{1, 2, 4, 8, 16, 12, 14, 13}, 13, 12, true},
		{"SLA lost before breaking", d, false, true, 13, 5, []int{1, 2, 4, 8, 16, 12, 14, 13, 6, 5}, 13, 5, true},
		{"breaks at once", d, false, true, 1, 0, []int{1}, 1, 0, true},
		{"never breaks", d, false, true, 100, 100, []int{1, 2, 4, 8, 16}, 0, 16, false},
		{"no bisect", d, false, false, 7, 6, []int{1, 2, 4, 8}, 8, 4, false},
		{"explicit grid runs every step", []int{1, 2, 4, 8}, true, false, 3, 2, []int{1, 2, 4, 8}, 4, 2, false},
		{"start above the break bisects down", []int{8, 16}, false, true, 3, 2, []int{8, 4, 2, 3}, 3, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			order, v := simulate(tc.grid, tc.explicit, tc.bisect, tc.bp, tc.sla)
			if !cmp.Equal(order, tc.order) {
				t.Errorf("order %v, want %v", order, tc.order)
			}
			gotBP := 0
			if v.BreakingPoint != nil {
				gotBP = v.BreakingPoint.Concurrency
			}
			if gotBP != tc.wantBP || v.MaxAtSLA != tc.wantSLA || v.Exact != tc.exact {
				t.Errorf("verdict bp %d sla %d exact %v, want %d %d %v", gotBP, v.MaxAtSLA, v.Exact, tc.wantBP, tc.wantSLA, tc.exact)
			}
		})
	}
}

func TestNextResumesWithoutRepeating(t *testing.T) {
	grid := v1alpha1.Doubling(1, 16)
	// Steps done in any order (a resumed run) lead to the same next step.
	done := []Probe{{Concurrency: 8, Broken: true}, {Concurrency: 1, AtSLA: true}, {Concurrency: 4, AtSLA: true}, {Concurrency: 2, AtSLA: true}}
	c, phase, ok := Next(grid, false, true, done)
	if !ok || c != 6 || phase != results.PhaseBisect {
		t.Fatalf("next = %d %s %v, want 6 bisect", c, phase, ok)
	}
}

func TestSummarize(t *testing.T) {
	plan := &v1alpha1.SweepPlan{Spec: v1alpha1.PlanSpec{
		Targets: []v1alpha1.Target{{Name: "bf16", URL: "http://a", GPUs: 4}, {Name: "int4", URL: "http://b", GPUs: 1}},
		SweepSettings: v1alpha1.SweepSettings{
			Scenarios:      []v1alpha1.Scenario{{Name: "A", InputTokens: 256, OutputTokens: 128}},
			MaxConcurrency: v1alpha1.Ptr(4), StartConcurrency: v1alpha1.Ptr(1),
		},
	}}
	if err := plan.Default(); err != nil {
		t.Fatal(err)
	}
	mk := func(target string, c int, broken, at bool, tok float64, gpus int) results.Step {
		return results.Step{Target: target, Scenario: "A", Concurrency: c, Broken: broken, AtSLA: at, Rule: map[bool]string{true: "queue"}[broken],
			GPUs: gpus, Throughput: results.Throughput{OutputTokensPerSecond: tok, OutputTokensPerSecondPerGPU: tok / float64(gpus)}}
	}
	steps := []results.Step{
		mk("bf16", 1, false, true, 100, 4), mk("bf16", 2, false, true, 200, 4), mk("bf16", 4, false, true, 400, 4),
		mk("int4", 1, false, true, 90, 1), mk("int4", 2, false, true, 180, 1), mk("int4", 4, true, false, 200, 1), mk("int4", 3, false, true, 250, 1),
	}
	sum := Summarize(plan, results.Run{RunID: "r1", Status: "complete"}, steps)
	if len(sum.Results) != 2 {
		t.Fatalf("%d results", len(sum.Results))
	}
	bf, in := sum.Results[0], sum.Results[1]
	if bf.BreakingPoint != nil || bf.MaxConcurrencyAtSLA != 4 || !bf.Complete || bf.UsersPerGPUAtSLA != 1 || bf.OutputTokensPerSecondPerGPUAtSLA != 100 {
		t.Errorf("bf16: %+v", bf)
	}
	if in.BreakingPoint == nil || in.BreakingPoint.Concurrency != 4 || in.BreakingPoint.Rule != "queue" || in.MaxConcurrencyAtSLA != 3 ||
		!in.Complete || !in.Exact || in.UsersPerGPUAtSLA != 3 || in.OutputTokensPerSecondPerGPUAtSLA != 250 {
		t.Errorf("int4: %+v", in)
	}
	if len(sum.Comparisons) != 1 || sum.Comparisons[0].UsersPerGPURatio != 3 || sum.Comparisons[0].OutputTokensPerGPURatio != 2.5 {
		t.Errorf("comparisons: %+v", sum.Comparisons)
	}
	if in.Steps[len(in.Steps)-1].Concurrency != 4 {
		t.Error("steps not sorted by concurrency")
	}
}
