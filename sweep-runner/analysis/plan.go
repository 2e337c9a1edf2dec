package analysis

import (
	"sort"

	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// Probe is the verdict of one finished step, all the sweep logic needs.
type Probe struct {
	Concurrency int
	Broken      bool
	AtSLA       bool
	Rule        string
}

// ProbesOf extracts the probes of steps.
func ProbesOf(steps []results.Step) []Probe {
	out := make([]Probe, len(steps))
	for i, s := range steps {
		out[i] = Probe{Concurrency: s.Concurrency, Broken: s.Broken, AtSLA: s.AtSLA, Rule: s.Rule}
	}
	return out
}

// Next decides the next concurrency of one target and scenario from the
// steps done so far (in any order: a resumed run replays them).
//
//   - Grid phase: the grid's steps in order. A doubling grid stops at the
//     first broken step; an explicit grid (explicit=true) runs every step.
//   - Bisection phase (when bisect): between the highest good step below the
//     lowest broken one and that broken one, until they are adjacent
//     integers (the breaking point); then the same for the SLA boundary
//     (the highest step at SLA below the lowest step that is not).
//
// ok is false when the sweep of this pair is finished.
func Next(grid []int, explicit, bisect bool, done []Probe) (next int, phase string, ok bool) {
	have := map[int]Probe{}
	for _, p := range done {
		have[p.Concurrency] = p
	}
	for _, c := range grid {
		p, seen := have[c]
		if !seen {
			return c, results.PhaseGrid, true
		}
		if p.Broken && !explicit {
			break
		}
	}
	if !bisect {
		return 0, "", false
	}
	b := boundsOf(done)
	if b.hiBroken > 0 && b.hiBroken-b.loBroken > 1 {
		return (b.loBroken + b.hiBroken) / 2, results.PhaseBisect, true
	}
	if b.hiSLA > 0 && b.hiSLA-b.loSLA > 1 {
		return (b.loSLA + b.hiSLA) / 2, results.PhaseBisect, true
	}
	return 0, "", false
}

type bounds struct {
	hiBroken, loBroken int // lowest broken; highest not broken below it (0: none)
	hiSLA, loSLA       int // lowest not at SLA; highest at SLA below it (0: none)
	maxTested, maxSLA  int // highest tested; highest at SLA overall
	rule               string
}

func boundsOf(done []Probe) bounds {
	ps := append([]Probe(nil), done...)
	sort.Slice(ps, func(i, j int) bool { return ps[i].Concurrency < ps[j].Concurrency })
	var b bounds
	for _, p := range ps {
		if p.Broken && b.hiBroken == 0 {
			b.hiBroken, b.rule = p.Concurrency, p.Rule
		}
		if !p.AtSLA && b.hiSLA == 0 {
			b.hiSLA = p.Concurrency
		}
		if p.Concurrency > b.maxTested {
			b.maxTested = p.Concurrency
		}
		if p.AtSLA {
			b.maxSLA = p.Concurrency
		}
	}
	for _, p := range ps {
		if !p.Broken && (b.hiBroken == 0 || p.Concurrency < b.hiBroken) {
			b.loBroken = p.Concurrency
		}
		if p.AtSLA && (b.hiSLA == 0 || p.Concurrency < b.hiSLA) {
			b.loSLA = p.Concurrency
		}
	}
	return b
}

// Verdict is the answer for one target and scenario from its finished steps.
type Verdict struct {
	// BreakingPoint is nil when no step broke.
	BreakingPoint *results.BreakingPoint
	// MaxAtSLA: the highest concurrency at SLA below the lowest one that is
	// not (0: none at SLA).
	MaxAtSLA  int
	MaxTested int
	// Exact: both boundaries pinned to adjacent integers.
	Exact bool
}

// Decide computes the verdict of a set of steps.
func Decide(done []Probe) Verdict {
	b := boundsOf(done)
	v := Verdict{MaxTested: b.maxTested}
	if b.hiBroken > 0 {
		v.BreakingPoint = &results.BreakingPoint{Concurrency: b.hiBroken, Rule: b.rule}
	}
	if b.hiSLA > 0 {
		v.MaxAtSLA = b.loSLA
	} else {
		v.MaxAtSLA = b.maxSLA
	}
	v.Exact = b.hiBroken > 0 && b.hiBroken-b.loBroken == 1 && b.hiSLA > 0 && b.hiSLA-b.loSLA == 1
	return v
}
