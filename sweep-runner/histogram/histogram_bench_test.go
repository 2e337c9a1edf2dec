package histogram_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/histogram"
)

// BenchmarkHistogramObserve: one inter-token gap recorded by the engine
// (lock-free, shared by every worker).
func BenchmarkHistogramObserve(b *testing.B) {
	var h histogram.Histogram
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		d := 20 * time.Millisecond
		for pb.Next() {
			h.Observe(d)
			d += time.Microsecond
		}
	})
}

// BenchmarkSkewObserve: one ITL skew recorded (per token, every worker),
// negative and positive.
func BenchmarkSkewObserve(b *testing.B) {
	var h histogram.Histogram
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		d := -time.Millisecond
		for pb.Next() {
			h.Observe(d)
			d += 3 * time.Microsecond
		}
	})
}

// BenchmarkHistogramDist: percentiles of the log histogram.
func BenchmarkHistogramDist(b *testing.B) {
	var h histogram.Histogram
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
