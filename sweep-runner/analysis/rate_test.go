package analysis

import (
	"slices"
	"testing"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

func TestRateGrid(t *testing.T) {
	for _, tc := range []struct {
		a    v1alpha1.Arrival
		want []float64
	}{
		{v1alpha1.Arrival{StartRate: 1, MaxRate: 10}, []float64{1, 2, 4, 8, 10}},
		{v1alpha1.Arrival{StartRate: 1, MaxRate: 8}, []float64{1, 2, 4, 8}},
		{v1alpha1.Arrival{StartRate: 0.5, MaxRate: 0.5}, []float64{0.5}},
		{v1alpha1.Arrival{Rates: []float64{3, 5, 7}}, []float64{3, 5, 7}},
	} {
		if got := RateGrid(tc.a); !slices.Equal(got, tc.want) {
			t.Errorf("%+v: grid %v, want %v", tc.a, got, tc.want)
		}
	}
}

// sweepRates runs the rate search against a server that holds the SLA up
// to capacity and breaks above it, and returns the rates run.
func sweepRates(t *testing.T, a v1alpha1.Arrival, capacity float64) ([]float64, Verdict[float64, results.BreakingRate]) {
	t.Helper()
	var done []RateProbe
	for i := 0; ; i++ {
		r, phase, ok := NextRate(a, true, done)
		if !ok {
			break
		}
		if i > 40 {
			t.Fatalf("no end after %d steps: %+v", i, done)
		}
		if _, seen := probeAt(done, r); seen {
			t.Fatalf("rate %g (%s) run twice", r, phase)
		}
		broken := r > capacity
		done = append(done, RateProbe{Rate: r, Broken: broken, AtSLA: !broken, Rule: map[bool]string{true: results.RuleQueue}[broken]})
	}
	var rates []float64
	for _, p := range done {
		rates = append(rates, p.Rate)
	}
	return rates, DecideRate(done)
}

// TestRateSearch: doubling to the first broken rate, then bisection until
// the rate that held and the one that broke are within 5 %, in a few steps.
func TestRateSearch(t *testing.T) {
	for _, capacity := range []float64{3.3, 23, 47.5, 100} {
		rates, v := sweepRates(t, v1alpha1.Arrival{StartRate: 1, MaxRate: 256}, capacity)
		if v.Breaking == nil || v.MaxAtSLA > capacity || v.Breaking.Rate <= capacity || !v.Exact {
			t.Fatalf("capacity %g: verdict %+v (rates %v)", capacity, v, rates)
		}
		if gap := v.Breaking.Rate - v.MaxAtSLA; gap > RateResolution*v.MaxAtSLA*1.001 {
			t.Errorf("capacity %g: max at SLA %g, breaking %g: %.1f %% apart (rates %v)", capacity, v.MaxAtSLA, v.Breaking.Rate, 100*gap/v.MaxAtSLA, rates)
		}
		// The doubling to the first broken rate, then at most five
		// bisection steps (a bracket [r, 2r] to 5 %).
		grid := 0
		for _, r := range RateGrid(v1alpha1.Arrival{StartRate: 1, MaxRate: 256}) {
			grid++
			if r > capacity {
				break
			}
		}
		if len(rates) > grid+5 {
			t.Errorf("capacity %g: %d steps (%v), want at most %d", capacity, len(rates), rates, grid+5)
		}
		t.Logf("capacity %g: rates %v -> max at SLA %g, breaking %g", capacity, rates, v.MaxAtSLA, v.Breaking.Rate)
	}
	// A first rate that breaks leaves nothing to bisect toward.
	if rates, v := sweepRates(t, v1alpha1.Arrival{StartRate: 4, MaxRate: 64}, 2); len(rates) != 1 || v.MaxAtSLA != 0 || v.Breaking.Rate != 4 {
		t.Errorf("first rate broken: rates %v, verdict %+v", rates, v)
	}
	// An explicit list runs every rate, then bisects.
	rates, v := sweepRates(t, v1alpha1.Arrival{Rates: []float64{2, 4, 6, 8}}, 5)
	if !slices.Equal(rates[:4], []float64{2, 4, 6, 8}) || v.Breaking.Rate != 5.25 || v.MaxAtSLA != 5 {
		t.Errorf("explicit: rates %v, verdict %+v", rates, v)
	}
	// Nothing broke: the max rate at SLA is the highest tested.
	if rates, v := sweepRates(t, v1alpha1.Arrival{StartRate: 1, MaxRate: 6}, 100); !slices.Equal(rates, []float64{1, 2, 4, 6}) || v.MaxAtSLA != 6 || v.Breaking != nil {
		t.Errorf("never broken: rates %v, verdict %+v", rates, v)
	}
}
