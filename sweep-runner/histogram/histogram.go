package histogram

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// Bucket layout.
const (
	// Base is the magnitude, in seconds, up to which values share the
	// middle bucket (1 µs).
	Base = 1e-6
	// Growth is the ratio of two neighbouring bucket bounds: a bucket's
	// middle is within 0.5 % of any value in it.
	Growth = 1.01
	// Buckets per sign (bucket 0 unused: the middle bucket); the last one
	// also holds everything beyond Base·Growth^(Buckets-1) (~2.3e4 s).
	Buckets = 2400
)

var (
	logGrowth = math.Log(Growth)
	// mids[i] is bucket i's geometric middle in seconds (i ≥ 1).
	mids = func() (m [Buckets]float64) {
		for i := 1; i < Buckets; i++ {
			m[i] = Base * math.Pow(Growth, float64(i)-0.5)
		}
		return m
	}()
)

// offset keeps stored extrema above 0 (0 means unset) for any duration
// longer than -146 years.
const offset = 1 << 62

// Histogram records signed durations from many goroutines without locks or
// allocation. The zero value is ready to use.
type Histogram struct {
	zero     atomic.Uint64
	pos, neg [Buckets]atomic.Uint64
	n        atomic.Uint64
	sumNs    atomic.Int64
	minNs    atomic.Int64 // stored + offset; 0: unset
	maxNs    atomic.Int64
}

// bucket of a magnitude above Base: 1..Buckets-1.
func bucket(sec float64) int {
	i := int(math.Ceil(math.Log(sec/Base) / logGrowth))
	return min(max(i, 1), Buckets-1)
}

// Observe records one duration.
func (h *Histogram) Observe(d time.Duration) {
	switch s := d.Seconds(); {
	case s > Base:
		h.pos[bucket(s)].Add(1)
	case s < -Base:
		h.neg[bucket(-s)].Add(1)
	default:
		h.zero.Add(1)
	}
	h.n.Add(1)
	h.sumNs.Add(int64(d))
	v := int64(d) + offset
	for m := h.minNs.Load(); (m == 0 || v < m) && !h.minNs.CompareAndSwap(m, v); m = h.minNs.Load() {
	}
	for m := h.maxNs.Load(); v > m && !h.maxNs.CompareAndSwap(m, v); m = h.maxNs.Load() {
	}
}

// Count of observations.
func (h *Histogram) Count() uint64 {
	if h == nil {
		return 0
	}
	return h.n.Load()
}

// Reset clears the histogram (not concurrently with Observe).
func (h *Histogram) Reset() { *h = Histogram{} }

// Dist summarises the histogram in seconds (read it after the writers
// stopped; a nil histogram is empty): mean, min, max and sum are exact,
// percentiles and the standard deviation come from the buckets. It does
// not allocate.
func (h *Histogram) Dist() results.Distribution {
	if h == nil || h.n.Load() == 0 {
		return results.Distribution{}
	}
	minS := float64(h.minNs.Load()-offset) / 1e9
	maxS := float64(h.maxNs.Load()-offset) / 1e9
	// Counts in ascending order of value: negatives from the largest
	// magnitude down, the middle bucket, positives up.
	const middle = Buckets - 1
	var counts [2*Buckets - 1]uint64
	var total uint64
	for i := 1; i < Buckets; i++ {
		counts[middle-i] = h.neg[i].Load()
		counts[middle+i] = h.pos[i].Load()
		total += counts[middle-i] + counts[middle+i]
	}
	counts[middle] = h.zero.Load()
	total += counts[middle]
	if total == 0 {
		return results.Distribution{}
	}
	zeroAt := 0.0
	if minS >= 0 {
		zeroAt = Base / 2 // the middle bucket holds [0, Base]
	}
	value := func(k int) float64 {
		v := zeroAt
		switch {
		case k < middle:
			v = -mids[middle-k]
		case k > middle:
			v = mids[k-middle]
		}
		return math.Min(math.Max(v, minS), maxS)
	}
	sum := float64(h.sumNs.Load()) / 1e9
	mean := sum / float64(total)
	var ss float64
	for k, c := range counts {
		if c > 0 {
			d := value(k) - mean
			ss += float64(c) * d * d
		}
	}
	// The percentiles in one walk up the buckets: each the value at rank
	// ceil(p·total) (at least 1).
	ps := [...]float64{0.001, 0.01, 0.05, 0.10, 0.25, 0.5, 0.75, 0.90, 0.95, 0.99, 0.999}
	var qs [len(ps)]float64
	var cum uint64
	j := 0
	for k, c := range counts {
		if c == 0 {
			continue
		}
		cum += c
		for ; j < len(ps) && cum >= max(uint64(math.Ceil(ps[j]*float64(total))), 1); j++ {
			qs[j] = value(k)
		}
	}
	for ; j < len(ps); j++ {
		qs[j] = maxS
	}
	return results.Distribution{
		Mean: mean, Median: qs[5], StdDev: math.Sqrt(ss / float64(total)),
		Min: minS, Max: maxS, Count: int(total), TotalSum: sum,
		Percentiles: results.Percentiles{
			P001: qs[0], P01: qs[1], P05: qs[2], P10: qs[3], P25: qs[4], P50: qs[5],
			P75: qs[6], P90: qs[7], P95: qs[8], P99: qs[9], P999: qs[10],
		},
	}
}
