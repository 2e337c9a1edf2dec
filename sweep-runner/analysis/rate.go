package analysis

import (
	"math"
	"sort"
	"strconv"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// The rate search of an open-loop scenario: the closed loop's doubling and
// bisection (Next, Decide) over offered rates instead of users.
//
// RateResolution ends the bisection: it stops when the rates around a
// boundary are within 5 % of the lower one. Finer is not measurable: a
// window of n Poisson arrivals carries a relative noise of about 1/sqrt(n)
// in its rate (7 % at the default 200 requests), and near a boundary the
// verdicts of two rates 5 % apart are often both uncertain at 95 %. It also
// bounds the work: a doubling bracket [r, 2r] is pinned in at most five
// steps per boundary, as many as the closed loop's integer bisection
// between 16 and 32 users.
const RateResolution = 0.05

// RateProbe is the verdict of one finished open-loop step.
type RateProbe struct {
	Rate   float64
	Broken bool
	AtSLA  bool
	Rule   string
}

// RateProbesOf extracts the probes of open-loop steps (others are skipped).
func RateProbesOf(steps []results.Step) []RateProbe {
	var out []RateProbe
	for _, s := range steps {
		if s.OpenLoop != nil {
			out = append(out, RateProbe{Rate: s.OpenLoop.OfferedRate, Broken: s.Broken, AtSLA: s.AtSLA, Rule: s.Rule})
		}
	}
	return out
}

// RateGrid is the grid of an arrival: its explicit rates, or StartRate
// doubled while below MaxRate, then MaxRate (always tested).
func RateGrid(a v1alpha1.Arrival) []float64 {
	if len(a.Rates) > 0 {
		return append([]float64(nil), a.Rates...)
	}
	if !(a.StartRate > 0) || a.MaxRate < a.StartRate {
		return nil
	}
	var out []float64
	for r := a.StartRate; r < a.MaxRate && !sameRate(r, a.MaxRate); r *= 2 {
		out = append(out, r)
	}
	return append(out, a.MaxRate)
}

// sameRate: two rates equal but for float rounding.
func sameRate(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) }

// roundRate keeps three significant digits, so bisected rates read well.
func roundRate(r float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(r, 'g', 3, 64), 64)
	return v
}

// NextRate decides the next offered rate of one target and scenario from
// the steps done so far (in any order): the grid in order (a doubling grid
// stops at the first broken rate, an explicit list runs every rate), then,
// when bisect, the midpoint between the highest rate that held below the
// lowest broken one and that broken one until they are within
// RateResolution, then the same for the SLA boundary. A grid whose first
// rate broke has nothing below to bisect toward: its answer is "broken at
// the lowest rate tested" (start lower). ok is false when the sweep of this
// pair is finished.
func NextRate(a v1alpha1.Arrival, bisect bool, done []RateProbe) (rate float64, phase string, ok bool) {
	explicit := len(a.Rates) > 0
	for _, r := range RateGrid(a) {
		p, seen := probeAt(done, r)
		if !seen {
			return r, results.PhaseGrid, true
		}
		if p.Broken && !explicit {
			break
		}
	}
	if !bisect {
		return 0, "", false
	}
	b := rateBoundsOf(done)
	for _, br := range [][2]float64{{b.loBroken, b.hiBroken}, {b.loSLA, b.hiSLA}} {
		lo, hi := br[0], br[1]
		if lo <= 0 || hi <= 0 || hi-lo <= RateResolution*lo*(1+1e-9) {
			continue
		}
		if mid := roundRate((lo + hi) / 2); mid > lo && mid < hi {
			if _, seen := probeAt(done, mid); !seen {
				return mid, results.PhaseBisect, true
			}
		}
	}
	return 0, "", false
}

func probeAt(done []RateProbe, r float64) (RateProbe, bool) {
	for _, p := range done {
		if sameRate(p.Rate, r) {
			return p, true
		}
	}
	return RateProbe{}, false
}

type rateBounds struct {
	hiBroken, loBroken float64 // lowest broken; highest not broken below it (0: none)
	hiSLA, loSLA       float64 // lowest not at SLA; highest at SLA below it (0: none)
	maxTested, maxSLA  float64
	rule               string
}

func rateBoundsOf(done []RateProbe) rateBounds {
	ps := append([]RateProbe(nil), done...)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Rate < ps[j].Rate })
	var b rateBounds
	for _, p := range ps {
		if p.Broken && b.hiBroken == 0 {
			b.hiBroken, b.rule = p.Rate, p.Rule
		}
		if !p.AtSLA && b.hiSLA == 0 {
			b.hiSLA = p.Rate
		}
		b.maxTested = math.Max(b.maxTested, p.Rate)
		if p.AtSLA {
			b.maxSLA = p.Rate
		}
	}
	for _, p := range ps {
		if !p.Broken && (b.hiBroken == 0 || p.Rate < b.hiBroken) {
			b.loBroken = p.Rate
		}
		if p.AtSLA && (b.hiSLA == 0 || p.Rate < b.hiSLA) {
			b.loSLA = p.Rate
		}
	}
	return b
}

// DecideRate computes the verdict of a set of open-loop steps.
func DecideRate(done []RateProbe) Verdict[float64, results.BreakingRate] {
	b := rateBoundsOf(done)
	v := Verdict[float64, results.BreakingRate]{MaxTested: b.maxTested}
	if b.hiBroken > 0 {
		v.Breaking = &results.BreakingRate{Rate: b.hiBroken, Rule: b.rule}
	}
	v.MaxAtSLA = b.maxSLA
	if b.hiSLA > 0 {
		v.MaxAtSLA = b.loSLA
	}
	pinned := func(lo, hi float64) bool { return hi > 0 && lo > 0 && hi-lo <= RateResolution*lo*(1+1e-9) }
	v.Exact = pinned(b.loBroken, b.hiBroken) && pinned(b.loSLA, b.hiSLA)
	return v
}

// summarizeRates is Summarize's answer for an open-loop scenario: its steps
// by offered rate, the max rate at SLA and the breaking rate, and, in the
// concurrency fields, the mean requests in flight measured at them.
func summarizeRates(t v1alpha1.Target, sc v1alpha1.Scenario, ss []results.Step, bisect bool) results.Result {
	sort.SliceStable(ss, func(i, j int) bool { return rateOf(ss[i]) < rateOf(ss[j]) })
	probes := RateProbesOf(Evidence(ss))
	_, _, more := NextRate(*sc.Arrival, bisect, probes)
	v := DecideRate(probes)
	gpus := max(t.GPUs, 1)
	r := results.Result{
		Target: t.Name, Model: t.Model, GPUs: t.GPUs, Precision: t.Precision, GPUHourCost: t.GPUHourCost,
		Scenario: sc.Name, InputTokens: sc.InputTokens, OutputTokens: sc.OutputTokens,
		Complete: !more, Exact: v.Exact, Steps: ss, Autoscaling: t.Autoscaling,
		OpenLoop: &results.OpenLoopResult{Process: sc.Arrival.Process, MaxRateAtSLA: v.MaxAtSLA, BreakingRate: v.Breaking,
			MaxTestedRate: v.MaxTested, Resolution: RateResolution},
	}
	if r.Steps == nil {
		r.Steps = []results.Step{}
	}
	ol := r.OpenLoop
	at, below := -1, -1 // the step at the breaking rate, the highest below it
	for i, s := range ss {
		if s.OpenLoop == nil {
			continue
		}
		rate := s.OpenLoop.OfferedRate
		r.MaxTestedConcurrency = max(r.MaxTestedConcurrency, s.Concurrency)
		if s.OpenLoop.ClientBound != nil {
			ol.ClientBoundRates = append(ol.ClientBoundRates, rate)
		}
		if s.Confidence != nil && !s.Confidence.Clear {
			ol.UncertainRates = append(ol.UncertainRates, rate)
		}
		if s.Unsteady() {
			ol.NotSteadyRates = append(ol.NotSteadyRates, rate)
		}
		if br := v.Breaking; br != nil {
			if sameRate(rate, br.Rate) {
				at = i
				r.BreakingPoint = &results.BreakingPoint{Concurrency: s.Concurrency, Rule: br.Rule}
			} else if rate < br.Rate {
				below = i
			}
		}
		if v.MaxAtSLA > 0 && sameRate(rate, v.MaxAtSLA) {
			ol.AchievedRateAtSLA, ol.MeanInFlightAtSLA = s.OpenLoop.AchievedRate, s.ConcurrencyAchieved
			r.MaxConcurrencyAtSLA = s.Concurrency
			r.UsersPerGPUAtSLA = float64(s.Concurrency) / float64(gpus)
			r.OutputTokensPerSecondAtSLA = s.Throughput.OutputTokensPerSecond
			r.OutputTokensPerSecondPerGPUAtSLA = s.Throughput.OutputTokensPerSecondPerGPU
			r.TTFTP95AtSLASeconds, _ = s.KPIs.Get(ttftKPI)
		}
	}
	// Confidence of the breaking rate, as confide's of a breaking point.
	if at >= 0 {
		r.Confidence = "clear"
		for _, i := range []int{at, below} {
			if i < 0 {
				continue
			}
			if c := ss[i].Confidence; c == nil || !c.Clear {
				r.Confidence = "uncertain"
			}
		}
	}
	return r
}

func rateOf(s results.Step) float64 {
	if s.OpenLoop == nil {
		return 0
	}
	return s.OpenLoop.OfferedRate
}

// withOpenLoopDefinitions adds the open loop's definitions to defs (a copy:
// results.Definitions is shared).
func withOpenLoopDefinitions(defs map[string]string) map[string]string {
	if _, done := defs["open loop"]; done {
		return defs
	}
	out := make(map[string]string, len(defs)+len(results.OpenLoopDefinitions))
	for k, v := range defs {
		out[k] = v
	}
	for k, v := range results.OpenLoopDefinitions {
		out[k] = v
	}
	return out
}
