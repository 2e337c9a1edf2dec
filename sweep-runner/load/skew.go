package load

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// Signed log histogram: a skew (client minus server) can be negative. The
// magnitude goes to log buckets as in analysis.Histogram (1 µs base,
// growth 1.01: percentiles within 0.5 %), one set per sign; magnitudes up
// to 1 µs share a middle bucket read as 0.
const (
	skewBase    = 1e-6
	skewGrowth  = 1.01
	skewBuckets = 2400
)

var skewLogGrowth = math.Log(skewGrowth)

// SkewHistogram records signed durations from many goroutines without
// locks or allocation. The zero value is ready to use.
type SkewHistogram struct {
	zero     atomic.Uint64
	pos, neg [skewBuckets]atomic.Uint64
	n        atomic.Uint64
	sumNs    atomic.Int64
	minNs    atomic.Int64 // stored + skewOffset
	maxNs    atomic.Int64
}

const skewOffset = 1 << 62

func skewBucket(sec float64) int {
	i := int(math.Ceil(math.Log(sec/skewBase) / skewLogGrowth))
	return min(max(i, 1), skewBuckets-1)
}

// Observe records one signed duration.
func (h *SkewHistogram) Observe(d time.Duration) {
	switch s := d.Seconds(); {
	case s > skewBase:
		h.pos[skewBucket(s)].Add(1)
	case s < -skewBase:
		h.neg[skewBucket(-s)].Add(1)
	default:
		h.zero.Add(1)
	}
	h.n.Add(1)
	h.sumNs.Add(int64(d))
	v := int64(d) + skewOffset // > 0 for any real skew; 0 means unset
	for m := h.minNs.Load(); (m == 0 || v < m) && !h.minNs.CompareAndSwap(m, v); m = h.minNs.Load() {
	}
	for m := h.maxNs.Load(); v > m && !h.maxNs.CompareAndSwap(m, v); m = h.maxNs.Load() {
	}
}

// Count of observations.
func (h *SkewHistogram) Count() uint64 { return h.n.Load() }

// Dist summarises the histogram in seconds (read it after the writers
// stopped): mean, min, max and sum exact, percentiles and the standard
// deviation from the buckets (a bucket's value is its geometric middle,
// clamped to [min, max]).
func (h *SkewHistogram) Dist() results.Distribution {
	if h == nil || h.n.Load() == 0 {
		return results.Distribution{}
	}
	minS := float64(h.minNs.Load()-skewOffset) / 1e9
	maxS := float64(h.maxNs.Load()-skewOffset) / 1e9
	// Buckets in ascending order of value: negatives from the largest
	// magnitude down, the zero bucket, positives up.
	type bk struct {
		v float64
		c uint64
	}
	mid := func(i int) float64 { return skewBase * math.Pow(skewGrowth, float64(i)-0.5) }
	clamp := func(v float64) float64 { return math.Min(math.Max(v, minS), maxS) }
	var bs []bk
	var total uint64
	for i := skewBuckets - 1; i >= 1; i-- {
		if c := h.neg[i].Load(); c > 0 {
			bs = append(bs, bk{clamp(-mid(i)), c})
			total += c
		}
	}
	if c := h.zero.Load(); c > 0 {
		bs = append(bs, bk{clamp(0), c})
		total += c
	}
	for i := 1; i < skewBuckets; i++ {
		if c := h.pos[i].Load(); c > 0 {
			bs = append(bs, bk{clamp(mid(i)), c})
			total += c
		}
	}
	sum := float64(h.sumNs.Load()) / 1e9
	mean := sum / float64(total)
	var ss float64
	for _, b := range bs {
		ss += float64(b.c) * (b.v - mean) * (b.v - mean)
	}
	q := func(p float64) float64 {
		if p <= 0 {
			return minS
		}
		if p >= 1 {
			return maxS
		}
		rank := max(uint64(math.Ceil(p*float64(total))), 1)
		var cum uint64
		for _, b := range bs {
			cum += b.c
			if cum >= rank {
				return b.v
			}
		}
		return maxS
	}
	return results.Distribution{
		Mean: mean, Median: q(0.5), StdDev: math.Sqrt(ss / float64(total)),
		Min: minS, Max: maxS, Count: int(total), TotalSum: sum,
		Percentiles: results.Percentiles{
			P001: q(0.001), P01: q(0.01), P05: q(0.05), P10: q(0.10), P25: q(0.25), P50: q(0.5),
			P75: q(0.75), P90: q(0.90), P95: q(0.95), P99: q(0.99), P999: q(0.999),
		},
	}
}
