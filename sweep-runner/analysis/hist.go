package analysis

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// Log histogram of durations: bucket i holds (base*g^(i-1), base*g^i] with
// g = 1.01, so a percentile read from it is within 0.5 % of the true value.
const (
	histBase    = 1e-6 // 1 µs: everything below lands in bucket 0
	histGrowth  = 1.01
	histBuckets = 2400 // up to ~ 2.3e4 s
)

var logGrowth = math.Log(histGrowth)

// Histogram records durations from many goroutines without locks or
// allocation (atomic counters). The zero value is ready to use.
type Histogram struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	sumNs  atomic.Int64
	minNs  atomic.Int64 // 0: unset (stored as ns+1)
	maxNs  atomic.Int64
}

func bucketOf(sec float64) int {
	if sec <= histBase {
		return 0
	}
	i := int(math.Ceil(math.Log(sec/histBase) / logGrowth))
	if i >= histBuckets {
		return histBuckets - 1
	}
	return i
}

// Observe records one duration.
func (h *Histogram) Observe(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(d.Seconds())].Add(1)
	h.n.Add(1)
	h.sumNs.Add(int64(d))
	v := int64(d) + 1
	for {
		m := h.minNs.Load()
		if (m != 0 && m <= v) || h.minNs.CompareAndSwap(m, v) {
			break
		}
	}
	for {
		m := h.maxNs.Load()
		if m >= v || h.maxNs.CompareAndSwap(m, v) {
			break
		}
	}
}

// Count of observations.
func (h *Histogram) Count() uint64 { return h.n.Load() }

// Reset clears the histogram (not concurrently with Observe).
func (h *Histogram) Reset() { *h = Histogram{} }

// Dist summarises the histogram: mean, min, max and sum are exact;
// percentiles and the standard deviation come from the buckets (each value
// taken at its bucket's geometric middle, clamped to [min, max]).
func (h *Histogram) Dist() results.Distribution {
	n := h.n.Load()
	if n == 0 {
		return results.Distribution{}
	}
	minS := float64(h.minNs.Load()-1) / 1e9
	maxS := float64(h.maxNs.Load()-1) / 1e9
	sum := float64(h.sumNs.Load()) / 1e9
	mean := sum / float64(n)
	counts := make([]uint64, histBuckets)
	var total uint64
	for i := range counts {
		counts[i] = h.counts[i].Load()
		total += counts[i]
	}
	mid := func(i int) float64 {
		var v float64
		if i == 0 {
			v = histBase / 2
		} else {
			v = histBase * math.Pow(histGrowth, float64(i)-0.5)
		}
		return math.Min(math.Max(v, minS), maxS)
	}
	var ss float64
	for i, c := range counts {
		if c > 0 {
			d := mid(i) - mean
			ss += float64(c) * d * d
		}
	}
	q := func(p float64) float64 {
		if p <= 0 {
			return minS
		}
		if p >= 1 {
			return maxS
		}
		rank := uint64(math.Ceil(p * float64(total)))
		if rank == 0 {
			rank = 1
		}
		var cum uint64
		for i, c := range counts {
			cum += c
			if cum >= rank {
				return mid(i)
			}
		}
		return maxS
	}
	return results.Distribution{
		Mean: mean, Median: q(0.5), StdDev: math.Sqrt(ss / float64(total)),
		Min: minS, Max: maxS, Count: int(n), TotalSum: sum,
		Percentiles: results.Percentiles{
			P001: q(0.001), P01: q(0.01), P05: q(0.05), P10: q(0.10), P25: q(0.25), P50: q(0.5),
			P75: q(0.75), P90: q(0.90), P95: q(0.95), P99: q(0.99), P999: q(0.999),
		},
	}
}
