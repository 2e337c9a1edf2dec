package analysis

import (
	"math"
	"slices"

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
	// cdf[k] = P(B <= k).
	cdf := make([]float64, n+1)
	var acc float64
	for k := 0; k <= n; k++ {
		acc += binomPMF(n, k, p)
		cdf[k] = acc
	}
	// Lower: the largest l (1-based) with P(B < l) = cdf[l-1] <= 0.025.
	iv := results.Interval{Low: sorted[0]}
	for l := n; l >= 1; l-- {
		if cdf[l-1] <= 0.025 {
			iv.Low = sorted[l-1]
			break
		}
	}
	// Upper: the smallest u with P(B >= u) = 1 - cdf[u-1] <= 0.025.
	iv.High, iv.Unbounded = sorted[n-1], true
	for u := 1; u <= n; u++ {
		if 1-cdf[u-1] <= 0.025 {
			iv.High, iv.Unbounded = sorted[u-1], false
			break
		}
	}
	return iv
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
	c := &results.Confidence{}
	sorted := slices.Clone(ttft)
	slices.Sort(sorted)
	c.TTFTP95 = QuantileCI(sorted, 0.95)
	fin := s.Requests.Successful + s.Requests.Errored
	c.Success = Wilson(s.Requests.Successful, fin)
	if waiting != nil {
		iv := BatchMeansCI(waiting, 0, 1)
		c.WaitingFraction = &iv
	}
	type rule struct {
		name          string
		broken, clear bool
	}
	var rules []rule
	ttftT := sla.TTFT.Degraded.Seconds()
	if len(sorted) > 0 {
		// Broken when p95 > threshold.
		br := c.TTFTP95.Low > ttftT
		ok := !c.TTFTP95.Unbounded && c.TTFTP95.High <= ttftT
		rules = append(rules, rule{results.RuleTTFT, br, br || ok})
	}
	if c.WaitingFraction != nil {
		q := sla.QueueFraction
		br := c.WaitingFraction.Low >= q
		ok := c.WaitingFraction.High < q
		rules = append(rules, rule{results.RuleQueue, br, br || ok})
	}
	if fin > 0 {
		t := sla.Success.Degraded / 100
		br := c.Success.High < t
		ok := c.Success.Low >= t
		rules = append(rules, rule{results.RuleSuccess, br, br || ok})
	}
	anyBroken := false
	for _, r := range rules {
		anyBroken = anyBroken || r.broken
		if r.broken {
			c.Broken = append(c.Broken, r.name)
		}
		if !r.clear {
			c.Uncertain = append(c.Uncertain, r.name)
		}
	}
	c.Clear = anyBroken || len(c.Uncertain) == 0
	if len(rules) == 0 {
		c.Clear = false
	}
	s.Confidence = c
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
	Confide(s, ttft, waiting, sla)
	c := s.Confidence
	if c.Clear {
		return true, len(c.Broken) > 0
	}
	sorted := slices.Clone(ttft)
	slices.Sort(sorted)
	far, brk := true, false
	if len(sorted) > 0 {
		t := sla.TTFT.Degraded.Seconds()
		p := Quantile(sorted, 0.95)
		brk = brk || p > t
		far = far && (p <= t/2 || p >= 2*t)
	}
	if waiting != nil {
		q := sla.QueueFraction
		var f float64
		for _, w := range waiting {
			f += w
		}
		if len(waiting) > 0 {
			f /= float64(len(waiting))
		}
		brk = brk || f >= q
		far = far && len(waiting) >= PlainMinSamples && (f <= q/2 || f >= (1+q)/2)
	}
	if fin := s.Requests.Successful + s.Requests.Errored; fin > 0 {
		t := sla.Success.Degraded / 100
		r := float64(s.Requests.Successful) / float64(fin)
		brk = brk || r < t
		far = far && (r >= (1+t)/2 || r <= t-(1-t))
	}
	return far, brk
}
