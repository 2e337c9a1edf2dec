package analysis

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// TestQuantileCICoverage: the order-statistic interval of p95 covers the
// true p95 of an exponential population in at least ~95 % of draws, for
// several sample sizes, and is unbounded above below 72 samples.
func TestQuantileCICoverage(t *testing.T) {
	truth := -math.Log(0.05) // p95 of Exp(1)
	rng := rand.New(rand.NewPCG(7, 11))
	for _, n := range []int{72, 100, 400} {
		covered, trials := 0, 2000
		for range trials {
			v := make([]float64, n)
			for i := range v {
				v[i] = rng.ExpFloat64()
			}
			slices.Sort(v)
			iv := QuantileCI(v, 0.95)
			if iv.Unbounded {
				t.Fatalf("n=%d: unbounded", n)
			}
			if iv.Low <= truth && truth <= iv.High {
				covered++
			}
		}
		if cov := float64(covered) / float64(trials); cov < 0.93 {
			t.Errorf("n=%d: coverage %.3f, want >= 0.95 (within sampling error)", n, cov)
		}
	}
	v := make([]float64, 71)
	for i := range v {
		v[i] = float64(i)
	}
	if iv := QuantileCI(v, 0.95); !iv.Unbounded || iv.High != 70 || iv.Low <= 0 {
		t.Errorf("n=71: %+v, want unbounded with a lower bound", iv)
	}
	if iv := QuantileCI(nil, 0.95); !iv.Unbounded {
		t.Errorf("empty: %+v", iv)
	}
}

func TestWilson(t *testing.T) {
	// Reference values (Wilson score, z = 1.96).
	for _, tc := range []struct {
		k, n   int
		lo, hi float64
	}{{0, 10, 0, 0.2775}, {10, 10, 0.7225, 1}, {95, 100, 0.8882, 0.9785}, {73, 73, 0.95, 1}} {
		iv := Wilson(tc.k, tc.n)
		if math.Abs(iv.Low-tc.lo) > 0.001 || math.Abs(iv.High-tc.hi) > 0.001 {
			t.Errorf("Wilson(%d, %d) = [%.4f, %.4f], want [%.4f, %.4f]", tc.k, tc.n, iv.Low, iv.High, tc.lo, tc.hi)
		}
	}
	if iv := Wilson(0, 0); iv.Low != 0 || iv.High != 1 {
		t.Errorf("no data: %+v", iv)
	}
}

// TestBatchMeansCI: a constant series has a point interval; a series that
// is 1 in long runs (autocorrelated) gets a wider interval than the Wilson
// interval that assumes independent samples.
func TestBatchMeansCI(t *testing.T) {
	ones := slices.Repeat([]float64{1}, 50)
	if iv := BatchMeansCI(ones, 0, 1); iv.Low != 1 || iv.High != 1 {
		t.Errorf("all ones: %+v", iv)
	}
	var runs []float64
	for i := range 200 {
		v := 0.0
		if (i/25)%2 == 0 && i < 150 || i >= 175 {
			v = 1
		}
		runs = append(runs, v)
	}
	bm := BatchMeansCI(runs, 0, 1)
	k := 0
	for _, v := range runs {
		k += int(v)
	}
	w := Wilson(k, len(runs))
	if bm.High-bm.Low <= w.High-w.Low || !bm.Contains(float64(k)/200) {
		t.Errorf("batch means %+v vs Wilson %+v for mean %.2f", bm, w, float64(k)/200)
	}
	// Too few samples for ten batches of three: no claim at all (an
	// alternating series in batches of two would show no variance).
	alt := []float64{0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1}
	if iv := BatchMeansCI(alt, 0, 1); iv.Low != 0 || iv.High != 1 {
		t.Errorf("few samples: %+v, want [0, 1]", iv)
	}
}

// TestConfide: clear when far from every threshold with enough data,
// uncertain near the queue threshold, clear when one rule is clearly broken.
func TestConfide(t *testing.T) {
	sla := defaultSLA()
	fast := slices.Repeat([]float64{0.05}, 100)
	zeros := slices.Repeat([]float64{0}, 40)
	// An alternating series with too few samples stays uncertain.
	s0 := results.Step{Requests: results.Counts{Successful: 100}}
	Confide(&s0, slices.Repeat([]float64{0.05}, 100), []float64{1, 0, 1, 0, 1, 0, 1, 0, 1, 0}, defaultSLA())
	if s0.Confidence.Clear {
		t.Errorf("10 samples judged clear: %+v", s0.Confidence)
	}
	s := results.Step{Requests: results.Counts{Successful: 100}}
	Confide(&s, fast, zeros, sla)
	if !s.Confidence.Clear || len(s.Confidence.Uncertain) != 0 {
		t.Errorf("far from thresholds: %+v", s.Confidence)
	}
	// Too few requests to bound p95 or the success rate: uncertain.
	s = results.Step{Requests: results.Counts{Successful: 20}}
	Confide(&s, fast[:20], zeros, sla)
	if s.Confidence.Clear || !slices.Contains(s.Confidence.Uncertain, results.RuleTTFT) || !slices.Contains(s.Confidence.Uncertain, results.RuleSuccess) {
		t.Errorf("20 requests: %+v", s.Confidence)
	}
	// Queue near half, alternating in runs: uncertain.
	var half []float64
	for i := range 40 {
		half = append(half, float64((i/3)%2))
	}
	s = results.Step{Requests: results.Counts{Successful: 100}}
	Confide(&s, fast, half, sla)
	if s.Confidence.Clear || !slices.Equal(s.Confidence.Uncertain, []string{results.RuleQueue}) {
		t.Errorf("queue near half: %+v", s.Confidence)
	}
	// Clearly broken by TTFT: clear even with other rules uncertain.
	slow := slices.Repeat([]float64{5}, 30)
	s = results.Step{Requests: results.Counts{Successful: 30}}
	Confide(&s, slow, half, sla)
	if !s.Confidence.Clear {
		t.Errorf("clearly broken: %+v", s.Confidence)
	}
}

// TestSummarizeConfidence: the breaking point is clear only when the step
// at it and the one below are clear.
func TestSummarizeConfidence(t *testing.T) {
	mk := func(c int, broken, clear bool) results.Step {
		return results.Step{SchemaVersion: results.SchemaVersion, Concurrency: c, Broken: broken, AtSLA: !broken, Rule: map[bool]string{true: "queue"}[broken],
			Confidence: &results.Confidence{Clear: clear}, Steady: results.SteadyState{Reached: true}}
	}
	r := results.Result{BreakingPoint: &results.BreakingPoint{Concurrency: 8}, Steps: []results.Step{mk(4, false, true), mk(7, false, false), mk(8, true, true)}}
	confide(&r)
	if r.Confidence != "uncertain" || !slices.Equal(r.UncertainSteps, []int{7}) {
		t.Errorf("%q %v", r.Confidence, r.UncertainSteps)
	}
	r = results.Result{BreakingPoint: &results.BreakingPoint{Concurrency: 8}, Steps: []results.Step{mk(4, false, false), mk(7, false, true), mk(8, true, true)}}
	confide(&r)
	if r.Confidence != "clear" || !slices.Equal(r.UncertainSteps, []int{4}) {
		t.Errorf("%q %v", r.Confidence, r.UncertainSteps)
	}
}

// TestFutile: a window whose TTFT p95 sits on the cliff of its
// distribution stays unclear at twice its data (futile); one that only
// lacks the requests of an upper bound would come out clear at four times
// its data (not futile); a clear one is never futile.
func TestFutile(t *testing.T) {
	var sla v1alpha1.SLA
	sla.Default() // TTFT degraded 2 s
	ttft := func(n, slow int, slowV float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = 0.1
			if i%(n/max(slow, 1)) == 0 && slow > 0 && i/(n/slow) < slow {
				v[i] = slowV
			}
		}
		return v
	}
	ok := func(n int) *results.Step { return &results.Step{Requests: results.Counts{Successful: n}} }
	for _, tc := range []struct {
		name string
		ttft []float64
		grow float64
		want bool
	}{
		{"on the cliff", ttft(64, 4, 5), 2, true},
		{"short of an upper bound", ttft(64, 1, 5), 4, false},
		{"no room to grow", ttft(64, 4, 5), 1, false},
		{"clearly broken", ttft(64, 32, 5), 2, false},
	} {
		if got := Futile(ok(len(tc.ttft)), tc.ttft, nil, sla, tc.grow); got != tc.want {
			s := ok(len(tc.ttft))
			Confide(s, tc.ttft, nil, sla)
			t.Errorf("%s: futile %v, want %v (now %+v)", tc.name, got, tc.want, s.Confidence.TTFTP95)
		}
	}
}

// TestPlainNeedsData: a window that measured nothing (no TTFT, no sample,
// nothing finished) is not plain, whatever it would say.
func TestPlainNeedsData(t *testing.T) {
	var sla v1alpha1.SLA
	sla.Default()
	if plain, _ := Plain(&results.Step{}, nil, nil, sla); plain {
		t.Error("an empty window is plain")
	}
}
