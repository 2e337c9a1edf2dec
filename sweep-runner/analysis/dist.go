package analysis

import (
	"math"
	"sort"

	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// Dist summarises values (sorted in place). Percentiles interpolate linearly
// between closest ranks (numpy's default), so p50 equals the median.
func Dist(values []float64) results.Distribution {
	n := len(values)
	if n == 0 {
		return results.Distribution{}
	}
	sort.Float64s(values)
	var sum float64
	for _, v := range values {
		sum += v
	}
	mean := sum / float64(n)
	var ss float64
	for _, v := range values {
		ss += (v - mean) * (v - mean)
	}
	q := func(p float64) float64 { return Quantile(values, p) }
	return results.Distribution{
		Mean: mean, Median: q(0.5), StdDev: math.Sqrt(ss / float64(n)),
		Min: values[0], Max: values[n-1], Count: n, TotalSum: sum,
		Percentiles: results.Percentiles{
			P001: q(0.001), P01: q(0.01), P05: q(0.05), P10: q(0.10), P25: q(0.25), P50: q(0.5),
			P75: q(0.75), P90: q(0.90), P95: q(0.95), P99: q(0.99), P999: q(0.999),
		},
	}
}

// Quantile of sorted values, 0 <= p <= 1, linear interpolation between
// closest ranks. Empty input gives 0.
func Quantile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if p <= 0 {
		return sorted[0]
	}
	if p >= 1 {
		return sorted[n-1]
	}
	h := p * float64(n-1)
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= n {
		return sorted[n-1]
	}
	return sorted[i] + (h-lo)*(sorted[i+1]-sorted[i])
}

// Bucket is one cumulative histogram bucket (Prometheus style).
type Bucket struct {
	UpperBound float64
	Count      float64
}

// HistogramQuantile is PromQL's histogram_quantile on cumulative buckets
// sorted by upper bound (the last one +Inf): linear interpolation inside the
// bucket holding the rank. It returns 0 for an empty histogram.
func HistogramQuantile(q float64, b []Bucket) float64 {
	if len(b) == 0 {
		return 0
	}
	total := b[len(b)-1].Count
	if total <= 0 {
		return 0
	}
	rank := q * total
	prevBound, prevCount := 0.0, 0.0
	for i, bk := range b {
		if bk.Count >= rank {
			if math.IsInf(bk.UpperBound, 1) {
				if i == 0 {
					return 0
				}
				return b[i-1].UpperBound // PromQL: the highest finite bound
			}
			if bk.Count == prevCount {
				return bk.UpperBound
			}
			return prevBound + (bk.UpperBound-prevBound)*(rank-prevCount)/(bk.Count-prevCount)
		}
		prevBound, prevCount = bk.UpperBound, bk.Count
	}
	return b[len(b)-1].UpperBound
}
