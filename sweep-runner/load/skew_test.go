package load

import (
	"math"
	"sync"
	"testing"
	"time"
)

func TestSkewHistogram(t *testing.T) {
	var h SkewHistogram
	if d := h.Dist(); d.Count != 0 || d.Max != 0 {
		t.Fatalf("empty: %+v", d)
	}
	// -5 ms .. +94 ms in 1 ms steps, plus one exact zero.
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := -5 + g; i < 95; i += 4 {
				h.Observe(time.Duration(i) * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	h.Observe(0)
	d := h.Dist()
	if d.Count != 101 || d.Min != -0.005 || d.Max != 0.094 {
		t.Fatalf("count %d min %v max %v", d.Count, d.Min, d.Max)
	}
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 0.006*math.Abs(want)+1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	// Sorted values: -5..-1 ms, 0, 0, 1..94 ms (rank = ceil(p*101)).
	near("p01", d.Percentiles.P01, -0.004)
	near("p05", d.Percentiles.P05, 0)
	near("p50", d.Percentiles.P50, 0.044)
	near("p99", d.Percentiles.P99, 0.093)
	near("mean", d.Mean, (float64(94*95/2-15)/1000)/101)
	if n := testing.AllocsPerRun(1000, func() { h.Observe(-3 * time.Microsecond) }); n != 0 {
		t.Errorf("Observe allocates %v", n)
	}
	var nilH *SkewHistogram
	if d := nilH.Dist(); d.Count != 0 {
		t.Errorf("nil histogram: %+v", d)
	}
}
