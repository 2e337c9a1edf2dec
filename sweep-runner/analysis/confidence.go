package analysis

import (
	"math"
	"slices"

	"github.com/rhoai-demo/step07/api/kpi"
	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// z of a two-sided 95 % interval.
const z95 = 1.959963984540054

// QuantileCI is the distribution-free 95 % confidence interval of the p
// quantile of the population that sorted was drawn from: the order
// statistics X(l) and X(u) with P(l <= B < u) >= 0.95 for B ~ Bin(n, p),
// each tail at most 2.5 %. When n is too small for an upper order statistic
// (n < 72 for p95) the interval is Unbounded with High the largest value.
// With no sample both ends are 0 and it is Unbounded.
func QuantileCI(sorted []float64, p float64) results.Interval {
	n := len(sorted)
	if n == 0 {
		return results.Interval{Unbounded: true}
	}
	l, u := quantileRanks(n, p)
	iv := results.Interval{Low: sorted[0], High: sorted[n-1], Unbounded: u == 0}
	if l > 0 {
		iv.Low = sorted[l-1]
	}
	if u > 0 {
		iv.High = sorted[u-1]
	}
	return iv
}

// quantileRanks are the 1-based ranks of QuantileCI's order statistics in
// a sample of n: l the largest with P(B < l) <= 0.025, u the smallest with
// P(B >= u) <= 0.025, for B ~ Bin(n, p); 0 where none exists.
func quantileRanks(n int, p float64) (l, u int) {
	// cdf[k] = P(B <= k).
	cdf := make([]float64, n+1)
	var acc float64
	for k := 0; k <= n; k++ {
		acc += binomPMF(n, k, p)
		cdf[k] = acc
	}
	for r := n; r >= 1; r-- {
		if cdf[r-1] <= 0.025 {
			l = r
			break
		}
	}
	for r := 1; r <= n; r++ {
		if 1-cdf[r-1] <= 0.025 {
			u = r
			break
		}
	}
	return l, u
}

// binomPMF is P(B = k) for B ~ Bin(n, p), through logarithms so that large
// n does not overflow.
func binomPMF(n, k int, p float64) float64 {
	if p <= 0 {
		if k == 0 {
			return 1
		}
		return 0
	}
	if p >= 1 {
		if k == n {
			return 1
		}
		return 0
	}
	lg := func(x int) float64 { v, _ := math.Lgamma(float64(x) + 1); return v }
	return math.Exp(lg(n) - lg(k) - lg(n-k) + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p))
}

// Wilson is the Wilson score 95 % interval of a proportion k/n (the whole
// [0, 1] when n is 0).
func Wilson(k, n int) results.Interval {
	if n <= 0 {
		return results.Interval{Low: 0, High: 1}
	}
	nf := float64(n)
	ph := float64(k) / nf
	z2 := z95 * z95
	den := 1 + z2/nf
	mid := (ph + z2/(2*nf)) / den
	half := z95 * math.Sqrt(ph*(1-ph)/nf+z2/(4*nf*nf)) / den
	return results.Interval{Low: math.Max(0, mid-half), High: math.Min(1, mid+half)}
}

// tQuantile975 holds Student's t 97.5 % quantiles for 1..9 degrees of freedom.
var tQuantile975 = [...]float64{12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262}

// MinBatchSamples is the fewest samples a batch-means interval is computed
// from: ten batches of three. Fewer samples give no interval ([lo, hi]):
// batches of one or two samples of a 0/1 series can show no variance at all
// (an alternating series) and would claim a certainty they do not have.
const MinBatchSamples = 30

// BatchMeansCI is a 95 % interval of the mean of an autocorrelated series
// (the waiting > 0 indicator of successive scrapes): the series is cut into
// ten consecutive batches whose means are close to independent, and
// Student's t is applied to them. Bounds are clipped to [lo, hi], which is
// also the answer for fewer than MinBatchSamples samples.
func BatchMeansCI(series []float64, lo, hi float64) results.Interval {
	n := len(series)
	if n < MinBatchSamples {
		return results.Interval{Low: lo, High: hi}
	}
	const batches = 10
	means := make([]float64, batches)
	for b := range batches {
		from, to := b*n/batches, (b+1)*n/batches
		var s float64
		for _, v := range series[from:to] {
			s += v
		}
		means[b] = s / float64(to-from)
	}
	var mean float64
	for _, m := range means {
		mean += m
	}
	mean /= float64(batches)
	var ss float64
	for _, m := range means {
		ss += (m - mean) * (m - mean)
	}
	sd := math.Sqrt(ss / float64(batches-1))
	half := tQuantile975[batches-2] * sd / math.Sqrt(float64(batches))
	return results.Interval{Low: math.Max(lo, mean-half), High: math.Min(hi, mean+half)}
}

// Confide fills s.Confidence from the step's window measurements: ttft are
// the TTFT values the step was judged on (censored waits included), waiting
// the waiting > 0 indicators of its /metrics samples in time order (nil
// without /metrics). A breaking rule is clear when its interval lies on one
// side of its threshold; the verdict is clear when a rule is clearly
// broken, or when every rule is clearly not.
func Confide(s *results.Step, ttft []float64, waiting []float64, sla v1alpha1.SLA) {
	c, rules := judge(s, ttft, waiting, sla)
	verdictOf(s, c, rules)
}

// verdictOf fills c's verdict from the rules and hands it to s.
func verdictOf(s *results.Step, c *results.Confidence, rules []evidence) {
	anyBroken := false
	for _, r := range rules {
		broken := r.brokenAt(r.best())
		anyBroken = anyBroken || broken
		if broken {
			c.Broken = append(c.Broken, r.rule.Name)
		}
		if !broken && (r.iv.Unbounded || r.brokenAt(r.worst())) {
			c.Uncertain = append(c.Uncertain, r.rule.Name)
		}
	}
	c.Clear = len(rules) > 0 && (anyBroken || len(c.Uncertain) == 0)
	s.Confidence = c
}

// evidence is one breaking rule (kpi.Rules) as a window measured it: its
// point estimate and 95 % interval against its threshold. Confide and Plain
// read the same rules (judge), so each is written once.
type evidence struct {
	rule  kpi.Rule
	point float64
	iv    results.Interval
	thr   float64
	// enough: the data are enough for a point verdict (Plain).
	enough bool
}

func (e evidence) brokenAt(v float64) bool { return e.rule.Breaks(v, e.thr) }

// best and worst are the ends of the interval on the side of holding and
// of breaking.
func (e evidence) best() float64 {
	if e.rule.Above {
		return e.iv.Low
	}
	return e.iv.High
}

func (e evidence) worst() float64 {
	if e.rule.Above {
		return e.iv.High
	}
	return e.iv.Low
}

// judge measures a window against the breaking rules (those it has data
// for, in kpi.Rules' order): TTFT p95 by an order-statistics interval, the
// share of /metrics samples with requests waiting by batch means, the
// success rate by Wilson. It returns the intervals as a step records them
// and the rules.
func judge(s *results.Step, ttft []float64, waiting []float64, sla v1alpha1.SLA) (*results.Confidence, []evidence) {
	c := &results.Confidence{}
	sorted := slices.Clone(ttft)
	slices.Sort(sorted)
	c.TTFTP95 = QuantileCI(sorted, 0.95)
	fin := s.Requests.Successful + s.Requests.Errored
	c.Success = Wilson(s.Requests.Successful, fin)
	measured := map[string]evidence{}
	if len(sorted) > 0 {
		measured[kpi.RuleTTFT] = evidence{point: Quantile(sorted, 0.95), iv: c.TTFTP95, enough: true}
	}
	if waiting != nil {
		iv := BatchMeansCI(waiting, 0, 1)
		c.WaitingFraction = &iv
		var f float64
		for _, w := range waiting {
			f += w
		}
		if len(waiting) > 0 {
			f /= float64(len(waiting))
		}
		measured[kpi.RuleQueue] = evidence{point: f, iv: iv, enough: len(waiting) >= PlainMinSamples}
	}
	if fin > 0 {
		measured[kpi.RuleSuccess] = evidence{point: float64(s.Requests.Successful) / float64(fin), iv: c.Success, enough: true}
	}
	var rules []evidence
	for _, r := range kpi.Rules {
		if e, ok := measured[r.Name]; ok {
			e.rule, e.thr = r, r.Threshold(sla)
			rules = append(rules, e)
		}
	}
	return c, rules
}

// PlainMinSamples is the fewest /metrics samples an exploring step judges
// the queue rule by.
const PlainMinSamples = 10

// Plain judges an exploring step, which only has to place the bracket of
// the breaking point: its verdict is plain when it is clear at 95 %
// (Confide), or when every breaking rule's point estimate lies far from its
// threshold: TTFT p95 at most half the degraded threshold or at least
// twice it, waiting > 0 in at most half of queueFraction of the samples or
// in at least half-way from queueFraction to all of them (with at least
// PlainMinSamples samples), success at least half-way from its threshold to
// 100 % or below the threshold by as much. A plain verdict is a guess, not
// a certificate: certified steps vouch for the answer, and a certified
// verdict that contradicts a plain one moves the search (Next). s must
// hold the window's counts; it gets Confidence filled. broken is the point
// verdict, plain or not.
func Plain(s *results.Step, ttft []float64, waiting []float64, sla v1alpha1.SLA) (plain, broken bool) {
	c, rules := judge(s, ttft, waiting, sla)
	verdictOf(s, c, rules)
	if c.Clear {
		return true, len(c.Broken) > 0
	}
	far := len(rules) > 0 // a window that measured nothing is not plain
	for _, r := range rules {
		broken = broken || r.brokenAt(r.point)
		lo, hi := r.rule.Far(r.thr)
		far = far && r.enough && (r.point <= lo || r.point >= hi)
	}
	return far, broken
}

// Futile says whether a certifying window's verdict would still be
// unclear with grow times the data it holds, if the data go on as they
// went (the TTFTs distributed as measured, the waiting share and the
// success rate where they are, their intervals narrowed as the sample
// grows). A window that cannot answer within its bounds stops paying for
// the server: its verdict is recorded as uncertain either way. s must hold
// the window's counts.
func Futile(s *results.Step, ttft []float64, waiting []float64, sla v1alpha1.SLA, grow float64) bool {
	if grow <= 1 {
		return false
	}
	c, rules := judge(s, ttft, waiting, sla)
	if verdictOf(&results.Step{}, c, rules); c.Clear {
		return false
	}
	sorted := slices.Clone(ttft)
	slices.Sort(sorted)
	for i := range rules {
		r := &rules[i]
		switch r.rule.Name {
		case results.RuleTTFT:
			r.iv = projectQuantileCI(sorted, 0.95, grow)
		case results.RuleQueue:
			// The batch means' half-width shrinks as the square root of
			// the samples; with too few samples for batch means the
			// interval is [0, 1], no estimate to shrink.
			if len(waiting) < MinBatchSamples {
				continue
			}
			half := (r.iv.High - r.iv.Low) / 2 / math.Sqrt(grow)
			r.iv = results.Interval{Low: math.Max(0, r.point-half), High: math.Min(1, r.point+half)}
		case results.RuleSuccess:
			fin := s.Requests.Successful + s.Requests.Errored
			n := int(math.Round(float64(fin) * grow))
			r.iv = Wilson(int(math.Round(r.point*float64(n))), n)
		}
	}
	proj := &results.Step{}
	verdictOf(proj, &results.Confidence{}, rules)
	return !proj.Confidence.Clear
}

// projectQuantileCI is QuantileCI for a sample grow times as large drawn
// from sorted's empirical distribution: the order statistics' ranks at the
// larger size, read as quantiles of sorted.
func projectQuantileCI(sorted []float64, p, grow float64) results.Interval {
	n := len(sorted)
	if n == 0 {
		return results.Interval{Unbounded: true}
	}
	m := int(math.Round(float64(n) * grow))
	l, u := quantileRanks(m, p)
	at := func(r int) float64 { return Quantile(sorted, float64(r-1)/float64(max(m-1, 1))) }
	iv := results.Interval{Low: sorted[0], High: sorted[n-1], Unbounded: u == 0}
	if l > 0 {
		iv.Low = at(l)
	}
	if u > 0 {
		iv.High = at(u)
	}
	return iv
}
