package analysis

import (
	"github.com/rhoai-demo/step07/api/kpi"
	"maps"
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
	lower := kpi.KPI{}
	for _, tc := range []struct {
		v    float64
		want string
	}{{0.1, "excellent"}, {0.2, "excellent"}, {0.5, "acceptable"}, {1.5, "warning"}, {2, "warning"}, {2.1, "degraded"}} {
		if got := lower.Grade(tc.v, kpi.Thresholds{Excellent: 0.2, Acceptable: 0.8, Degraded: 2}); got != tc.want {
			t.Errorf("lower-is-better Grade(%v) = %s, want %s", tc.v, got, tc.want)
		}
	}
	higher := kpi.KPI{Higher: true}
	for _, tc := range []struct {
		v    float64
		want string
	}{{100, "excellent"}, {99.5, "acceptable"}, {97, "warning"}, {94, "degraded"}} {
		if got := higher.Grade(tc.v, kpi.Thresholds{Excellent: 100, Acceptable: 99, Degraded: 95}); got != tc.want {
			t.Errorf("higher-is-better Grade(%v) = %s, want %s", tc.v, got, tc.want)
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
			results.Grades{"ttft": "excellent", "reading_speed": "excellent", "kv_cache": "excellent", "success": "excellent"}},
		{"warning ttft: not at SLA, not broken", step(1.2, 0.01, 0, 0.3, 100, 0), false, nil, false,
			results.Grades{"ttft": "warning", "reading_speed": "excellent", "kv_cache": "excellent", "success": "excellent"}},
		{"ttft rule", step(2.5, 0.01, 0, 0.3, 100, 0), true, []string{"ttft_p95"}, false,
			results.Grades{"ttft": "degraded", "reading_speed": "excellent", "kv_cache": "excellent", "success": "excellent"}},
		{"queue rule at exactly half", step(0.1, 0.01, 0.5, 0.3, 100, 0), true, []string{"queue"}, false,
			results.Grades{"ttft": "excellent", "reading_speed": "excellent", "kv_cache": "excellent", "success": "excellent"}},
		{"queue below half is fine", step(0.1, 0.01, 0.4, 0.3, 100, 0), false, nil, true,
			results.Grades{"ttft": "excellent", "reading_speed": "excellent", "kv_cache": "excellent", "success": "excellent"}},
		{"success rule", step(0.1, 0.01, 0, 0.3, 90, 10), true, []string{"success"}, false,
			results.Grades{"ttft": "excellent", "reading_speed": "excellent", "kv_cache": "excellent", "success": "degraded"}},
		{"slow reading", step(0.1, 0.06, 0, 0.3, 100, 0), false, nil, false,
			results.Grades{"ttft": "excellent", "reading_speed": "warning", "kv_cache": "excellent", "success": "excellent"}},
		{"kv cache high", step(0.1, 0.01, 0, 0.93, 100, 0), false, nil, false,
			results.Grades{"ttft": "excellent", "reading_speed": "excellent", "kv_cache": "warning", "success": "excellent"}},
		{"all rules", step(3, 0.01, 1, 0.3, 50, 50), true, []string{"ttft_p95", "queue", "success"}, false,
			results.Grades{"ttft": "degraded", "reading_speed": "excellent", "kv_cache": "excellent", "success": "degraded"}},
		{"no response", step(0, 0, 0, 0.3, 0, 5), true, []string{"no_response", "success"}, false,
			results.Grades{"ttft": "unknown", "reading_speed": "unknown", "kv_cache": "excellent", "success": "degraded"}},
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
			if !maps.Equal(s.Grades, tc.grades) {
				t.Errorf("grades %+v, want %+v", s.Grades, tc.grades)
			}
		})
	}
	// Without /metrics the server KPIs are unknown and do not decide.
	s := step(0.1, 0.01, 0, 0, 10, 0)
	s.Server = nil
	Evaluate(&s, sla)
	if !s.AtSLA || s.Grades["kv_cache"] != "unknown" || hasKV(s.KPIs) {
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
// break from bp on and are at SLA up to sla: a certified step comes out
// clear, an exploring one plain only.
func simulate(grid []int, explicit, bisect bool, bp, sla int) (order []int, v Verdict[int, results.BreakingPoint]) {
	return simulateAim(Search{Grid: grid, Explicit: explicit, Bisect: bisect}, func(c int) bool { return c >= bp }, sla)
}

// simulateAim is simulate with an aim and a breaking rule broken(c), whose
// exploring verdicts may be wrong (they are what broken says), while a
// certified step comes out as truth says (c >= the first c where
// truth holds, given by certified).
func simulateAim(q Search, broken func(int) bool, sla int) (order []int, v Verdict[int, results.BreakingPoint]) {
	var done []Probe
	for i := 0; i < 100; i++ {
		d, ok := Next(q, done)
		if !ok {
			break
		}
		order = append(order, d.Concurrency)
		b := broken(d.Concurrency)
		cert := d.Role == results.RoleCertify || b && d.CertifyIfBroken || !b && d.CertifyIfNot
		done = append(done, Probe{Concurrency: d.Concurrency, Broken: b, AtSLA: d.Concurrency <= sla && !b, Rule: "queue", Clear: cert, Certified: cert, Phase: d.Phase})
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
		// The exploring 6 is certified once it is known to be an end.
		{"max-num-seqs 6", d, false, true, 7, 6, []int{1, 2, 4, 8, 6, 7, 6}, 7, 6, true},
		{"max-num-seqs 12", d, false, true, 13, 12, []int{1, 2, 4, 8, 16, 12, 14, 13, 12}, 13, 12, true},
		{"SLA lost before breaking", d, false, true, 13, 5, []int{1, 2, 4, 8, 16, 12, 14, 13, 12, 6, 5}, 13, 5, true},
		{"breaks at once", d, false, true, 1, 0, []int{1}, 1, 0, true},
		{"never breaks", d, false, true, 100, 100, []int{1, 2, 4, 8, 16}, 0, 16, false},
		// The grid's first broken step is certified as it runs, the
		// step below it after the grid.
		{"no bisect", d, false, false, 7, 6, []int{1, 2, 4, 8, 4}, 8, 4, false},
		{"explicit grid runs every step", []int{1, 2, 4, 8}, true, false, 3, 2, []int{1, 2, 4, 8, 2}, 4, 2, false},
		{"start above the break bisects down", []int{8, 16}, false, true, 3, 2, []int{8, 4, 2, 3, 2}, 3, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			order, v := simulate(tc.grid, tc.explicit, tc.bisect, tc.bp, tc.sla)
			if !cmp.Equal(order, tc.order) {
				t.Errorf("order %v, want %v", order, tc.order)
			}
			gotBP := 0
			if v.Breaking != nil {
				gotBP = v.Breaking.Concurrency
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
	d, ok := Next(Search{Grid: grid, Bisect: true}, done)
	if !ok || d.Concurrency != 6 || d.Phase != results.PhaseBisect || d.Role != results.RoleExplore {
		t.Fatalf("next = %+v %v, want 6 bisect explore", d, ok)
	}
}

// TestAimedSearch: a prediction places the steps; each end of the answer
// is certified, and a certified verdict that contradicts an exploring one
// moves the search on.
func TestAimedSearch(t *testing.T) {
	grid := v1alpha1.Doubling(1, 32)
	for _, tc := range []struct {
		name   string
		aim    int
		broken func(int) bool
		order  []int
		bp     int
	}{
		// Right on: the aim breaks, the step below it is certified as an
		// end of the bracket on the spot, the aim certified after.
		{"aim right", 12, func(c int) bool { return c >= 12 }, []int{1, 12, 11, 12}, 12},
		// Short: the steps above the aim, one by one, then the step
		// below the break certified.
		{"aim short", 29, func(c int) bool { return c >= 31 }, []int{1, 29, 30, 31, 30}, 31},
		// Far beyond the grid: straight to its top, certified there.
		{"aim beyond", 500, func(c int) bool { return false }, []int{1, 32}, 0},
		// Too high: just below the broken aim while the aimed steps
		// last (maxAimed), then bisection.
		{"aim high", 20, func(c int) bool { return c >= 5 }, []int{1, 20, 19, 18, 17, 9, 5, 3, 4, 5}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			order, v := simulateAim(Search{Grid: grid, Bisect: true, Aim: tc.aim}, tc.broken, 0)
			if !cmp.Equal(order, tc.order) {
				t.Errorf("order %v, want %v", order, tc.order)
			}
			bp := 0
			if v.Breaking != nil {
				bp = v.Breaking.Concurrency
			}
			if bp != tc.bp {
				t.Errorf("breaking point %d, want %d", bp, tc.bp)
			}
		})
	}
	// The aim 12 held, 13 broke clearly, and 12's certificate then came
	// out broken but uncertain: the step below it is explored, not
	// certified (the answer is uncertain whatever it says), and once it
	// holds the search is done.
	done := []Probe{
		{Concurrency: 1, AtSLA: true}, {Concurrency: 12, Phase: results.PhaseAim, AtSLA: true},
		{Concurrency: 13, Broken: true, Clear: true, Certified: true, Phase: results.PhaseAim},
		{Concurrency: 12, Broken: true, Certified: true, Phase: results.PhaseCertify},
	}
	d, ok := Next(Search{Grid: grid, Bisect: true, Aim: 13}, done)
	if !ok || d.Concurrency != 11 || d.Role != results.RoleExplore || d.CertifyIfNot || d.CertifyIfUnclear {
		t.Fatalf("below an uncertain end: next %+v %v, want 11 explored", d, ok)
	}
	done = append(done, Probe{Concurrency: 11, AtSLA: true, Phase: results.PhaseAim})
	if d, ok := Next(Search{Grid: grid, Bisect: true, Aim: 13}, done); ok {
		t.Fatalf("after the step below an uncertain end: next %+v, want done", d)
	}
	// An exploring 8 said broken (wrongly); the certified 7 is clearly not
	// broken and the certified 8 clearly not either: the bracket moves up.
	done = []Probe{
		{Concurrency: 1}, {Concurrency: 8, Broken: true},
		{Concurrency: 7, Clear: true, Certified: true}, {Concurrency: 8, Clear: true, Certified: true},
	}
	d, ok = Next(Search{Grid: grid, Bisect: true}, done)
	if !ok || d.Concurrency != 16 {
		t.Fatalf("after a contradicting certificate: next %+v %v, want 16", d, ok)
	}
}

// TestSLAAimNeighbour: an aimed step of the SLA search is followed by its
// neighbour toward the bracket's other end (the one above when it held the
// SLA, the one below when it did not), then by a new aim from the narrower
// bracket; an aimed step of the breaking-point search is not.
func TestSLAAimNeighbour(t *testing.T) {
	sla := v1alpha1.SLA{}
	sla.Default()
	grid := v1alpha1.Doubling(1, 32)
	kpi := func(ttft float64) results.KPIs {
		return results.KPIs{"ttft_p95_seconds": ttft, "kv_cache_max_percent": 10, "success_percent": 100}
	}
	done := []Probe{
		{Concurrency: 1, AtSLA: true, KPIs: kpi(0.1)},
		{Concurrency: 13, Broken: true, Clear: true, Certified: true, KPIs: kpi(4)},
		{Concurrency: 12, Phase: results.PhaseAim, Clear: true, Certified: true, KPIs: kpi(1.6)},
	}
	q := Search{Grid: grid, Bisect: true, SLA: sla}
	d, ok := Next(q, done)
	// TTFT 0.1 s at 1, 1.6 s at 12: 0.8 s crosses at 6.1. The aimed 12
	// was the breaking-point search's (the bracket's lower end).
	if !ok || d.Concurrency != 6 || d.Phase != results.PhaseAim {
		t.Fatalf("first SLA step %+v %v, want 6 aimed", d, ok)
	}
	done = append(done, Probe{Concurrency: 6, Phase: results.PhaseAim, AtSLA: true, KPIs: kpi(0.2)})
	if d, ok := Next(q, done); !ok || d.Concurrency != 7 || d.Phase != results.PhaseBisect {
		t.Fatalf("after an aimed step that held: %+v %v, want its neighbour 7", d, ok)
	}
	done = append(done, Probe{Concurrency: 7, Phase: results.PhaseBisect, AtSLA: true, KPIs: kpi(0.25)})
	// 0.25 s at 7, 1.6 s at 12: 0.8 s crosses at 9.0.
	if d, ok := Next(q, done); !ok || d.Concurrency != 9 || d.Phase != results.PhaseAim {
		t.Fatalf("after the neighbour: %+v %v, want 9 aimed", d, ok)
	}
	done = append(done, Probe{Concurrency: 9, Phase: results.PhaseAim, KPIs: kpi(0.9)})
	if d, ok := Next(q, done); !ok || d.Concurrency != 8 || d.Phase != results.PhaseBisect {
		t.Fatalf("after an aimed step that lost the SLA: %+v %v, want its neighbour 8", d, ok)
	}
	done = append(done, Probe{Concurrency: 8, Phase: results.PhaseBisect, AtSLA: true, KPIs: kpi(0.5)})
	if d, ok := Next(q, done); ok {
		t.Fatalf("the SLA bracket (8, 9) is adjacent, yet next %+v", d)
	}
	if v := Decide(done); v.MaxAtSLA != 8 || v.Breaking == nil || v.Breaking.Concurrency != 13 {
		t.Fatalf("verdict %+v, want 8 at SLA and breaking at 13", v)
	}
}

func TestSLAAim(t *testing.T) {
	sla := v1alpha1.SLA{}
	sla.Default()
	// Reading speed falls from 875 to 389 tok/s between 1 and 32 users
	// (acceptable: 400 scaled by 0.05 is 20): it crosses at 31.3.
	sla.ReadingSpeed.Acceptable = 400
	lo := results.KPIs{"reading_speed_tokens_per_second": 875, "kv_cache_max_percent": 2, "success_percent": 100}
	hi := results.KPIs{"reading_speed_tokens_per_second": 389, "kv_cache_max_percent": 52, "success_percent": 100}
	if c := SLAAim(lo, hi, 1, 32, sla); c != 31 {
		t.Errorf("reading speed aim %d, want 31", c)
	}
	// KV cache max 12 % at 1 user, 100 % at 12: 90 % crosses at 10.75.
	lo, hi = results.KPIs{"kv_cache_max_percent": 12, "success_percent": 100}, results.KPIs{"kv_cache_max_percent": 100, "success_percent": 100}
	if c := SLAAim(lo, hi, 1, 12, sla); c != 10 {
		t.Errorf("KV aim %d, want 10", c)
	}
	if c := SLAAim(lo, hi, 0, 12, sla); c != 0 {
		t.Errorf("no lower step: aim %d, want 0", c)
	}
}

// TestPredict: the KV cache share one running request holds, against the
// cache, predicts where the INT4 demo profile breaks (one-user steps as
// measured over HTTP: A 0.032, B 0.407, C 0.075 of the cache).
func TestPredict(t *testing.T) {
	step := func(c int, kv, running float64) results.Step {
		return results.Step{Concurrency: c, Server: &results.Server{Samples: 30, Generation: "v1",
			KVCacheUsage: results.Gauge{Mean: kv, Max: kv}, Running: results.Gauge{Mean: running, Max: running}}}
	}
	for _, tc := range []struct {
		kv   float64
		want int
	}{{0.032, 29}, {0.407, 3}, {0.075, 12}, {0.0001, 9000}} {
		p := Predict([]results.Step{step(1, tc.kv, 1)})
		if p == nil || p.BreakingPoint != tc.want || p.Basis != "kv_cache" {
			t.Errorf("kv %g: prediction %+v, want %d", tc.kv, p, tc.want)
		}
	}
	// The highest unbroken step wins; a broken one is not read.
	broken := step(16, 1, 12)
	broken.Broken = true
	if p := Predict([]results.Step{step(1, 0.075, 1), step(8, 0.64, 8), broken}); p == nil || p.FromConcurrency != 8 || p.BreakingPoint != 12 {
		t.Errorf("prediction %+v, want 12 from 8", p)
	}
	// Requests capped at 6 running while others wait, the KV cache far
	// from full: max-num-seqs is 6.
	capped := step(8, 0.05, 6)
	capped.Server.WaitingFraction, capped.Broken = 0.9, true
	if p := Predict([]results.Step{step(1, 0.01, 1), capped}); p == nil || p.BreakingPoint != 7 || p.Basis != "max_num_seqs" {
		t.Errorf("prediction %+v, want 7 by max_num_seqs", p)
	}
	if p := Predict([]results.Step{{Concurrency: 1}}); p != nil {
		t.Errorf("no gauges: prediction %+v", p)
	}
}

// TestPlain: an exploring verdict is plain when it is clear, or when every
// point estimate is far from its threshold.
func TestPlain(t *testing.T) {
	sla := v1alpha1.SLA{}
	sla.Default()
	ok := func(n int) *results.Step { return &results.Step{Requests: results.Counts{Successful: n}} }
	zeros := make([]float64, 12)
	ones := []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}
	for _, tc := range []struct {
		name          string
		ttft, waiting []float64
		plain, broken bool
	}{
		{"fast, no queue", []float64{0.1, 0.1, 0.2}, zeros, true, false},
		{"slow", []float64{5, 6, 7}, zeros, true, true},
		{"near the threshold", []float64{0.1, 0.1, 1.5}, zeros, false, false},
		{"always queued", []float64{0.1, 0.1, 0.1}, ones, true, true},
		{"too few samples", []float64{0.1, 0.1, 0.1}, zeros[:5], false, false},
	} {
		plain, broken := Plain(ok(len(tc.ttft)), tc.ttft, tc.waiting, sla)
		if plain != tc.plain || broken != tc.broken {
			t.Errorf("%s: plain %v broken %v, want %v %v", tc.name, plain, broken, tc.plain, tc.broken)
		}
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

// hasKV: the step recorded a KV cache value (it must not without /metrics).
func hasKV(k results.KPIs) bool { _, ok := k["kv_cache_max_percent"]; return ok }

// TestCertifyIfUnclear: the steps of the breaking-point search go on as
// certifying ones when their verdict is not plain by the end of their
// exploring window, but for the baseline, which closes with its point
// verdict; a plain verdict closes any.
func TestCertifyIfUnclear(t *testing.T) {
	q := Search{Grid: v1alpha1.Doubling(1, 32), Bisect: true, Aim: 12}
	d, _ := Next(q, nil)
	if d.Concurrency != 1 || d.CertifyIfUnclear || d.CertifyNow(false, false) {
		t.Fatalf("baseline %+v: certified when unclear", d)
	}
	done := []Probe{{Concurrency: 1, Phase: results.PhaseGrid}}
	d, _ = Next(q, done)
	if d.Concurrency != 12 || d.Phase != results.PhaseAim || !d.CertifyNow(false, false) || !d.CertifyNow(false, true) || d.CertifyNow(true, true) || d.CertifyNow(true, false) {
		t.Fatalf("aimed step %+v: certified only when unclear", d)
	}
	done = append(done, Probe{Concurrency: 12, Phase: results.PhaseAim, Broken: true})
	d, _ = Next(q, done)
	if d.Concurrency != 11 || !d.CertifyIfUnclear || !d.CertifyNow(true, false) {
		t.Fatalf("step below a broken aim %+v: certified when unclear, and when it holds (an end)", d)
	}
	q.Aim = 0
	d, _ = Next(q, []Probe{{Concurrency: 1, Phase: results.PhaseGrid}})
	if d.Concurrency != 2 || d.Phase != results.PhaseGrid || !d.CertifyNow(false, false) || d.CertifyNow(true, false) {
		t.Fatalf("doubling step %+v: certified when unclear", d)
	}
	d, _ = Next(q, []Probe{{Concurrency: 1, Phase: results.PhaseGrid}, {Concurrency: 2, Phase: results.PhaseGrid}, {Concurrency: 4, Phase: results.PhaseGrid}, {Concurrency: 8, Phase: results.PhaseGrid, Broken: true}})
	if d.Concurrency != 6 || d.Phase != results.PhaseBisect || !d.CertifyNow(false, true) {
		t.Fatalf("bisecting step %+v: certified when unclear", d)
	}
}
