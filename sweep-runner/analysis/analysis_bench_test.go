package analysis

import (
	"fmt"
	"math/rand/v2"
	"testing"
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
