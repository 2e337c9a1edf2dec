package load

import (
	"testing"
	"time"
)

// BenchmarkSkewObserve: one ITL skew recorded (per token, every worker).
func BenchmarkSkewObserve(b *testing.B) {
	var h SkewHistogram
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		d := -time.Millisecond
		for pb.Next() {
			h.Observe(d)
			d += 3 * time.Microsecond
		}
	})
}
