package analysis

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkDist: the exact percentiles of a step's per-request values
// (copy, sort, eleven percentiles, mean and deviation).
func BenchmarkDist(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			src := make([]float64, n)
			for i := range src {
				src[i] = rng.ExpFloat64() * 0.05
			}
			vals := make([]float64, n)
			b.ReportAllocs()
			for b.Loop() {
				copy(vals, src)
				if d := Dist(vals); d.Count != n {
					b.Fatal(d.Count)
				}
			}
		})
	}
}

// BenchmarkHistogramObserve: one inter-token gap recorded by the engine
// (lock-free, shared by every worker).
func BenchmarkHistogramObserve(b *testing.B) {
	var h Histogram
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		d := 20 * time.Millisecond
		for pb.Next() {
			h.Observe(d)
			d += time.Microsecond
		}
	})
}

// BenchmarkHistogramDist: percentiles of the log histogram.
func BenchmarkHistogramDist(b *testing.B) {
	var h Histogram
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		h.Observe(time.Duration(rng.ExpFloat64() * float64(20*time.Millisecond)))
	}
	b.ReportAllocs()
	for b.Loop() {
		if d := h.Dist(); d.Count != 100000 {
			b.Fatal(d.Count)
		}
	}
}
