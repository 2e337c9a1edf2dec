package analysis

import (
	"math"
	"slices"

	"github.com/rhoai-demo/step07/api/kpi"
	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// Probe is the verdict of one finished step, all the search needs.
type Probe struct {
	Concurrency int
	Broken      bool
	AtSLA       bool
	Rule        string
	// Clear: the step's verdict on the breaking rules is clear at 95 %.
	Clear bool
	// Certified: the step was run to certify its verdict (its window stayed
	// open until the verdict was clear or its budget was spent), so running
	// it again would not make it clearer.
	Certified bool
	// Phase that chose the step (results.Phase*).
	Phase string
	// KPIs: the graded values, which the SLA boundary is aimed by.
	KPIs results.KPIs
}

// ProbesOf extracts the probes of steps. Steps written before roles existed
// (no role) were all run to a clear verdict: they count as certified.
func ProbesOf(steps []results.Step) []Probe {
	out := make([]Probe, len(steps))
	for i, s := range steps {
		out[i] = Probe{Concurrency: s.Concurrency, Broken: s.Broken, AtSLA: s.AtSLA, Rule: s.Rule,
			Clear: s.Confidence != nil && s.Confidence.Clear, Certified: s.Role != results.RoleExplore, Phase: s.Phase, KPIs: s.KPIs}
	}
	return out
}

// Decision is the next step of a pair: its concurrency, the phase of the
// search that chose it and the role it is run in.
type Decision struct {
	Concurrency int
	Phase       string
	// Role: results.RoleExplore (the window closes once the verdict is
	// plain) or results.RoleCertify (it stays open until the verdict is
	// clear at 95 %, within the plan's budget).
	Role string
	// An exploring step whose plain verdict would make it an end of the
	// bracket the answer rests on is certified on the spot: its window stays
	// open for a clear verdict instead of a second step later.
	CertifyIfBroken, CertifyIfNot bool
	// CertifyIfUnclear: a step of the breaking-point search whose verdict
	// is still not plain at the end of its exploring window is certified
	// on the spot (but the baseline, and the step just below a broken end
	// whose certificate came out uncertain). A verdict that is not plain
	// lies near its threshold, where the breaking point is, and a point
	// estimate there is a coin toss: followed, it walks the search into
	// steps that a certified step later overrules (INT4 C in
	// time-to-answer).
	CertifyIfUnclear bool
}

// CertifyNow reports whether an exploring step whose window ends with this
// verdict (plain or not, broken or not) goes on as a certifying one: it is
// an end of the bracket, or its verdict is too near a threshold to place
// the search.
func (d Decision) CertifyNow(plain, broken bool) bool {
	return broken && d.CertifyIfBroken || !broken && d.CertifyIfNot || !plain && d.CertifyIfUnclear
}

// level is the verdict the search holds for one concurrency: that of the
// latest clear step there, else of the latest step.
type level struct {
	broken, atSLA, clear, certified bool
	rule                            string
	aimed                           bool
	kpis                            results.KPIs
}

// levelsOf folds the probes (in the order they ran) by concurrency.
func levelsOf(done []Probe) map[int]level {
	lv := map[int]level{}
	for _, p := range done {
		l, seen := lv[p.Concurrency]
		certified := l.certified || p.Certified
		aimed := l.aimed || p.Phase == results.PhaseAim
		if !seen || p.Clear || !l.clear {
			l = level{broken: p.Broken, atSLA: p.AtSLA, clear: p.Clear, rule: p.Rule, kpis: p.KPIs}
		}
		l.certified, l.aimed = certified, aimed
		lv[p.Concurrency] = l
	}
	return lv
}

func sortedKeys(lv map[int]level) []int {
	cs := make([]int, 0, len(lv))
	for c := range lv {
		cs = append(cs, c)
	}
	slices.Sort(cs)
	return cs
}

// breakBracket is the bracket of the breaking point. The breaking rules
// grow with the load (more users never lower the queue or TTFT at steady
// state), so a clearly broken step vouches for every higher concurrency and
// a clearly unbroken one for every lower: clear verdicts fix the outer
// bracket (cn, cb), and plain verdicts inside it narrow it to (lo, hi). hi
// is the lowest broken concurrency (0: none), lo the highest unbroken one
// below it (0: none). A plain verdict that a clear one contradicts is
// ignored, so a wrong exploring verdict costs steps, never the answer.
func breakBracket(lv map[int]level) (lo, hi int) {
	cs := sortedKeys(lv)
	cb := 0
	for _, c := range cs {
		if l := lv[c]; l.clear && l.broken {
			cb = c
			break
		}
	}
	cn := 0
	for _, c := range cs {
		if l := lv[c]; l.clear && !l.broken && (cb == 0 || c < cb) {
			cn = c
		}
	}
	hi = cb
	for _, c := range cs {
		if c > cn && (cb == 0 || c < cb) && lv[c].broken {
			hi = c
			break
		}
	}
	lo = cn
	for _, c := range cs {
		if c > cn && (hi == 0 || c < hi) && !lv[c].broken {
			lo = c
		}
	}
	return lo, hi
}

// slaBracket is the bracket of max users at SLA: hiS the lowest
// concurrency not at SLA (0: none), loS the highest at SLA below it.
func slaBracket(lv map[int]level) (loS, hiS int) {
	cs := sortedKeys(lv)
	for _, c := range cs {
		if !lv[c].atSLA {
			hiS = c
			break
		}
	}
	for _, c := range cs {
		if lv[c].atSLA && (hiS == 0 || c < hiS) {
			loS = c
		}
	}
	return loS, hiS
}

// maxAimed bounds the steps placed by the prediction: past it the search
// bisects, so a bad predictor costs a few steps, never a linear walk.
// Four, not three: a knee whose exploring steps say "held" wrongly (INT4 C
// in time-to-answer: 12 and 13 plain, 14 broken, then 13 and 12 certified
// broken) needs a fourth aimed step just below to end the search; with
// three it bisected from the baseline (6, 9, 10, 11), about 4 modelled
// minutes more, in 2 of 9 runs.
const maxAimed = 4

// Search is what Next searches: the grid, whether it is explicit, whether
// to bisect, the predicted breaking point (0: none; Predict) and the SLA
// the steps are graded by (to aim at max users at SLA).
type Search struct {
	Grid             []int
	Explicit, Bisect bool
	Aim              int
	SLA              v1alpha1.SLA
}

// Next decides the next step of one target and scenario from the steps
// done so far (in the order they ran: a resumed run replays them).
//
// A doubling grid with bisection (the default) spends certainty only where
// the answer needs it:
//
//   - The first step is the grid's first (the baseline at one user).
//   - While nothing has broken, the next step is aim when it lies above
//     the highest unbroken step, the one just above it when the aim fell
//     short (at most maxAimed aimed steps), else the grid's next doubling;
//     the grid's maximum is the last.
//   - Once a step has broken, the next step lies inside the bracket
//     (highest unbroken, lowest broken): aim while it lies inside, or
//     just below an aim that broke (at most maxAimed aimed steps in all),
//     else the midpoint.
//   - These steps explore: they only place the bracket, and stop as soon
//     as their verdict is plain. A step whose verdict makes it an end of an
//     adjacent bracket, or one (but the baseline) whose verdict is not
//     plain, is certified instead (see Decision).
//   - When the bracket's ends are adjacent, each end that is not clear is
//     certified once (PhaseCertify); a certified verdict that contradicts
//     an exploring one moves the bracket and the search goes on.
//   - Then max users at SLA is searched the same way, by the steps'
//     grades: aimed where the KPIs that lost the SLA cross their acceptable
//     thresholds, interpolated between the bracket's ends (SLAAim), each
//     aimed step followed by its neighbour toward the other end, else
//     bisected.
//
// An explicit grid, or a sweep without bisection, runs the grid as given
// (an explicit grid every step, a doubling one up to its first broken
// step), exploring but for its first broken step and its top, which are
// certified when they run; the step below the first broken one is
// certified after the grid, and an explicit grid is then bisected. ok is
// false when the sweep of this pair is finished.
func Next(q Search, done []Probe) (Decision, bool) {
	grid, explicit, bisect, aim := q.Grid, q.Explicit, q.Bisect, q.Aim
	lv := levelsOf(done)
	start, top := grid[0], grid[len(grid)-1]
	if explicit || !bisect {
		// The grid as given, in order. Its first broken step and the top
		// are certified when they run; the step below the first broken
		// one after the grid.
		firstBroken := 0
		for _, c := range grid {
			l, seen := lv[c]
			if !seen {
				d := Decision{Concurrency: c, Phase: results.PhaseGrid, Role: results.RoleExplore,
					CertifyIfBroken: firstBroken == 0, CertifyIfNot: c == top}
				if d.CertifyIfBroken && d.CertifyIfNot {
					d.Role = results.RoleCertify
				}
				return d, true
			}
			if l.broken && firstBroken == 0 {
				firstBroken = c
			}
			if l.broken && !explicit {
				break
			}
		}
		if d, ok := certifyEnds(lv); ok {
			return d, true
		}
		if !bisect {
			return Decision{}, false
		}
		if lo, hi := breakBracket(lv); hi > 0 && hi-lo > 1 {
			return explore(lv, (lo+hi)/2, results.PhaseBisect, lo, hi, top), true
		}
		if loS, hiS := slaBracket(lv); hiS > 0 && hiS-loS > 1 {
			return Decision{Concurrency: (loS + hiS) / 2, Phase: results.PhaseBisect, Role: results.RoleExplore}, true
		}
		return Decision{}, false
	}
	if len(lv) == 0 {
		return explore(lv, start, results.PhaseGrid, 0, 0, top), true
	}
	aimed := 0
	for _, l := range lv {
		if l.aimed {
			aimed++
		}
	}
	canAim := aim > 0 && aimed < maxAimed
	lo, hi := breakBracket(lv)
	switch {
	case hi == 0 && lo < top:
		// Nothing broken yet: go up, to the aim or the next doubling.
		if canAim && aim > lo {
			return explore(lv, min(aim, top), results.PhaseAim, lo, hi, top), true
		}
		if canAim && lo+1 < top {
			// The knee was predicted at or below a step that held: it
			// lies just above.
			return explore(lv, lo+1, results.PhaseAim, lo, hi, top), true
		}
		for _, c := range grid {
			if c > lo {
				return explore(lv, c, results.PhaseGrid, lo, hi, top), true
			}
		}
	case hi > 0 && hi-lo > 1:
		// No step lies strictly inside the bracket (breakBracket), so
		// whatever is picked here is new.
		next, phase := (lo+hi)/2, results.PhaseBisect
		if canAim {
			switch {
			case aim > lo && aim < hi:
				next, phase = aim, results.PhaseAim
			case aim == hi || lv[hi].aimed:
				// The knee was predicted at the broken end, or the
				// aimed step broke: try just below it (while aimed
				// steps last: a prediction off by more bisects).
				next, phase = hi-1, results.PhaseAim
			}
		}
		return explore(lv, next, phase, lo, hi, top), true
	}
	// The bracket is adjacent (or nothing broke up to the top).
	if d, ok := certifyEnds(lv); ok {
		return d, true
	}
	if loS, hiS := slaBracket(lv); hiS > 0 && hiS-loS > 1 {
		// Regula falsi creeps from one end when the KPI bends (TTFT near
		// the knee), so an aimed step of this search is followed by its
		// neighbour toward the bracket's other end: the aim is rounded to
		// the highest concurrency expected to hold the SLA, so when it
		// held, the one above decides, and when it did not, the one
		// below. A true aim is settled in two steps; a wrong one has
		// narrowed the bracket for the next aim. Aimed steps are bounded,
		// then the search bisects. This search's steps lie below lo (lo
		// is at SLA, or the SLA bracket lies below it): an aimed step at
		// lo or above was the breaking-point search's last.
		if last := done[len(done)-1]; last.Phase == results.PhaseAim && last.Concurrency < lo {
			c := last.Concurrency - 1
			if lv[last.Concurrency].atSLA {
				c = last.Concurrency + 1
			}
			if c > loS && c < hiS {
				return Decision{Concurrency: c, Phase: results.PhaseBisect, Role: results.RoleExplore}, true
			}
		}
		if c := SLAAim(lv[loS].kpis, lv[hiS].kpis, loS, hiS, q.SLA); c > loS && c < hiS && aimed < 2*maxAimed {
			return Decision{Concurrency: c, Phase: results.PhaseAim, Role: results.RoleExplore}, true
		}
		return Decision{Concurrency: (loS + hiS) / 2, Phase: results.PhaseBisect, Role: results.RoleExplore}, true
	}
	return Decision{}, false
}

// SLAAim aims inside the SLA bracket (lo at SLA, hi not): for every KPI
// that is within its acceptable threshold at lo and past it at hi, the
// concurrency where the line between the two steps' values crosses the
// threshold (regula falsi), rounded down: the highest concurrency expected
// to hold it. The lowest such concurrency wins; 0 when none tells (lo is 0,
// or hi lost the SLA by a rule, not a KPI).
func SLAAim(klo, khi results.KPIs, lo, hi int, sla v1alpha1.SLA) int {
	if lo < 1 {
		return 0
	}
	best := 0
	for _, x := range kpi.Graded(sla) {
		vlo, ok1 := klo.Get(x.KPI)
		vhi, ok2 := khi.Get(x.KPI)
		thr := x.T.Acceptable
		if !ok1 || !ok2 || !x.Within(vlo, thr) || x.Within(vhi, thr) || vhi == vlo {
			continue
		}
		c := int(math.Floor(float64(lo) + (thr-vlo)/(vhi-vlo)*float64(hi-lo)))
		if best == 0 || c < best {
			best = c
		}
	}
	return best
}

// certifyEnds certifies the ends of the breaking bracket once each, the
// broken end first. When the broken end stays uncertain the answer is
// uncertain whatever the end below says, so that one is not certified.
func certifyEnds(lv map[int]level) (Decision, bool) {
	lo, hi := breakBracket(lv)
	if l, seen := lv[hi]; hi > 0 && seen && !l.clear && !l.certified {
		return Decision{Concurrency: hi, Phase: results.PhaseCertify, Role: results.RoleCertify}, true
	}
	if l, seen := lv[lo]; lo > 0 && seen && !l.clear && !l.certified && (hi == 0 || lv[hi].clear) {
		return Decision{Concurrency: lo, Phase: results.PhaseCertify, Role: results.RoleCertify}, true
	}
	return Decision{}, false
}

// explore is an exploring step at c inside the bracket (lo, hi) (hi 0:
// nothing broken; top the grid's maximum), certified on the spot when its
// verdict would make it an end of an adjacent bracket: broken just above
// an unbroken step (or at the lowest concurrency), unbroken just below a
// broken one (or at the top) unless that one's certificate came out
// uncertain (the answer is then uncertain anyway); and, but for the
// baseline and that step, when its verdict is not plain by the end of its
// exploring window.
func explore(lv map[int]level, c int, phase string, lo, hi, top int) Decision {
	// Just below a broken end whose certificate came out uncertain, the
	// answer is uncertain whatever this step says: it only explores.
	belowUncertain := hi > 0 && c == hi-1 && lv[hi].certified && !lv[hi].clear
	d := Decision{Concurrency: c, Phase: phase, Role: results.RoleExplore, CertifyIfUnclear: len(lv) > 0 && !belowUncertain}
	d.CertifyIfBroken = c == 1 || (lo > 0 && c == lo+1)
	d.CertifyIfNot = c == top && hi == 0 || hi > 0 && c == hi-1 && !belowUncertain
	if d.CertifyIfBroken && d.CertifyIfNot {
		d.Role = results.RoleCertify
	}
	return d
}

// Verdict is the answer for one target and scenario from its finished
// steps, in the steps' measure M (users for a closed loop, Decide; a rate
// for an open loop, DecideRate) with B its breaking record.
type Verdict[M int | float64, B any] struct {
	// Breaking is nil when no step broke.
	Breaking *B
	// MaxAtSLA: the highest measure at SLA below the lowest one that is
	// not (0: none at SLA).
	MaxAtSLA, MaxTested M
	// Exact: both boundaries pinned (adjacent users; rates within
	// RateResolution).
	Exact bool
}

// Decide computes the verdict of a set of steps, by the brackets Next
// searches (clear verdicts vouching for the concurrencies beyond them).
func Decide(done []Probe) Verdict[int, results.BreakingPoint] {
	lv := levelsOf(done)
	var v Verdict[int, results.BreakingPoint]
	for c := range lv {
		v.MaxTested = max(v.MaxTested, c)
	}
	lo, hi := breakBracket(lv)
	if hi > 0 {
		v.Breaking = &results.BreakingPoint{Concurrency: hi, Rule: lv[hi].rule}
	}
	loS, hiS := slaBracket(lv)
	v.MaxAtSLA = loS
	v.Exact = hi > 0 && hi-lo == 1 && hiS > 0 && hiS-loS == 1
	return v
}
