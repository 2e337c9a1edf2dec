package histogram_test

import (
	"math"
	"sync"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/analysis"
	"github.com/rhoai-demo/step07/sweep-runner/histogram"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// Durations 10 µs .. 100 ms: percentiles within 0.6 % of the exact ones.
func TestAccuracy(t *testing.T) {
	var h histogram.Histogram
	var vals []float64
	for i := 1; i <= 10000; i++ {
		d := time.Duration(i) * 10 * time.Microsecond
		h.Observe(d)
		vals = append(vals, d.Seconds())
	}
	got, exact := h.Dist(), analysis.Dist(vals)
	if got.Count != exact.Count || !near(got.Mean, exact.Mean, 1e-9) || got.Min != exact.Min || got.Max != exact.Max {
		t.Fatalf("moments differ: %+v vs %+v", got, exact)
	}
	for name, pair := range map[string][2]float64{
		"p50": {got.Percentiles.P50, exact.Percentiles.P50}, "p95": {got.Percentiles.P95, exact.Percentiles.P95},
		"p99": {got.Percentiles.P99, exact.Percentiles.P99}, "p10": {got.Percentiles.P10, exact.Percentiles.P10},
		"median": {got.Median, exact.Median},
	} {
		if rel := math.Abs(pair[0]-pair[1]) / pair[1]; rel > 0.006 {
			t.Errorf("%s: %v vs exact %v (rel %.4f)", name, pair[0], pair[1], rel)
		}
	}
	if rel := math.Abs(got.StdDev-exact.StdDev) / exact.StdDev; rel > 0.01 {
		t.Errorf("std dev %v vs %v", got.StdDev, exact.StdDev)
	}
	if (new(histogram.Histogram).Dist() != results.Distribution{}) {
		t.Error("empty histogram not zero")
	}
	var nilH *histogram.Histogram
	if d := nilH.Dist(); d.Count != 0 || nilH.Count() != 0 {
		t.Errorf("nil histogram: %+v", d)
	}
	h.Reset()
	if h.Count() != 0 || h.Dist().Count != 0 {
		t.Error("Reset kept observations")
	}
}

// Signed values from several goroutines: a skew (client minus server) can
// be negative.
func TestSigned(t *testing.T) {
	var h histogram.Histogram
	// -5 ms .. +94 ms in 1 ms steps, plus one exact zero.
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := -5 + g; i < 95; i += 4 {
				h.Observe(time.Duration(i) * time.Millisecond)
			}
		})
	}
	wg.Wait()
	h.Observe(0)
	d := h.Dist()
	if d.Count != 101 || d.Min != -0.005 || d.Max != 0.094 || h.Count() != 101 {
		t.Fatalf("count %d min %v max %v", d.Count, d.Min, d.Max)
	}
	check := func(name string, got, want float64) {
		t.Helper()
		if !near(got, want, 0.006*math.Abs(want)+1e-9) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	// Sorted values: -5..-1 ms, 0, 0, 1..94 ms (rank = ceil(p*101)); the
	// middle bucket reads 0 when negatives were seen.
	check("p01", d.Percentiles.P01, -0.004)
	check("p05", d.Percentiles.P05, 0)
	check("p50", d.Percentiles.P50, 0.044)
	check("p99", d.Percentiles.P99, 0.093)
	check("mean", d.Mean, (float64(94*95/2-15)/1000)/101)
}

// Values up to 1 µs share the middle bucket: read at 0.5 µs when nothing
// was negative, clamped to the exact extrema.
func TestMiddleBucket(t *testing.T) {
	var h histogram.Histogram
	h.Observe(0)
	h.Observe(time.Microsecond)
	h.Observe(time.Second)
	d := h.Dist()
	if d.Percentiles.P01 != 0.5e-6 || d.Median != 0.5e-6 || d.Percentiles.P99 > 1.005 || d.Percentiles.P99 < 0.995 {
		t.Errorf("%+v", d.Percentiles)
	}
	var only histogram.Histogram
	only.Observe(300 * time.Nanosecond)
	if d := only.Dist(); d.Median != 300e-9 || d.Min != 300e-9 || d.Max != 300e-9 {
		t.Errorf("one value: %+v", d)
	}
	var negs histogram.Histogram
	negs.Observe(-3 * time.Second)
	negs.Observe(-2 * time.Second)
	if d := negs.Dist(); !near(d.Median, -3, 0.015) || d.Max != -2 || !near(d.Percentiles.P99, -2, 0.01) {
		t.Errorf("negatives: %+v", d)
	}
}

// Observe and Dist never allocate.
func TestNoAlloc(t *testing.T) {
	var h histogram.Histogram
	if n := testing.AllocsPerRun(1000, func() { h.Observe(3 * time.Millisecond) }); n != 0 {
		t.Errorf("Observe allocates %v", n)
	}
	if n := testing.AllocsPerRun(1000, func() { h.Observe(-3 * time.Microsecond) }); n != 0 {
		t.Errorf("Observe (negative) allocates %v", n)
	}
	if n := testing.AllocsPerRun(10, func() { h.Dist() }); n != 0 {
		t.Errorf("Dist allocates %v", n)
	}
}
