package selfcheck

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/results"
)

func TestP99(t *testing.T) {
	inf := math.Inf(1)
	buckets := []float64{-inf, 0, 0.001, 0.01, 0.1, inf}
	for _, c := range []struct {
		before, after []uint64
		want          float64
	}{
		{[]uint64{0, 0, 0, 0, 0}, []uint64{0, 0, 0, 0, 0}, 0},
		// 99 fast waits and one slow: the 99th is fast.
		{[]uint64{0, 5, 0, 0, 0}, []uint64{0, 104, 0, 1, 0}, 0.001},
		// The counts before the window do not count.
		{[]uint64{0, 1000, 0, 0, 0}, []uint64{0, 1000, 0, 10, 0}, 0.1},
		{[]uint64{0, 0, 0, 0, 0}, []uint64{0, 98, 0, 2, 0}, 0.1},
		// The last bucket reads at its lower bound.
		{[]uint64{0, 0, 0, 0, 0}, []uint64{0, 0, 0, 0, 3}, 0.1},
		// Lengths that do not match read 0.
		{[]uint64{0}, []uint64{0, 1}, 0},
	} {
		if got := p99(buckets, c.before, c.after); got != c.want {
			t.Errorf("%v -> %v: %g, want %g", c.before, c.after, got, c.want)
		}
	}
	if got := p99(buckets[:5], []uint64{0, 0, 0, 0, 0}, []uint64{0, 1, 0, 0, 0}); got != 0 {
		t.Errorf("buckets that do not bound the counts: %g", got)
	}
}

func TestJudge(t *testing.T) {
	for _, c := range []struct {
		name    string
		c       results.Client
		wall    time.Duration // 1 s when 0
		reasons []string
	}{
		{"idle", results.Client{}, 0, nil},
		{"healthy", results.Client{Periods: 10, SchedLatencyP99Seconds: 0.002}, 0, nil},
		{"starved by its quota", results.Client{LimitCores: 0.1, Periods: 10, ThrottledPeriods: 10, ThrottledSeconds: 0.7}, 0,
			[]string{"client throttled by its cgroup (limit 0.1 cores) in 100 % of CPU periods (700 ms held back)"}},
		{"throttled often but briefly", results.Client{Periods: 100, ThrottledPeriods: 30, ThrottledSeconds: 0.01}, 0, nil},
		// A burst on 64 CPUs that spends the quota at once: 3 periods of
		// 300 held back 18 s summed over the CPUs, a freeze of 0.3 s in 30.
		{"throttled long but rarely", results.Client{Periods: 300, ThrottledPeriods: 3, ThrottledSeconds: 18}, 30 * time.Second, nil},
		{"one P, eight spinners", results.Client{SchedLatencyP99Seconds: 0.16777216}, 0,
			[]string{"client goroutines waited 168 ms (p99) for scheduling"}},
		{"both", results.Client{Periods: 12, ThrottledPeriods: 12, ThrottledSeconds: 2.08, SchedLatencyP99Seconds: 0.201}, 0,
			[]string{"client throttled by its cgroup in 100 % of CPU periods (2.1 s held back)", "client goroutines waited 201 ms (p99) for scheduling"}},
	} {
		cl := c.c
		wall := c.wall
		if wall == 0 {
			wall = time.Second
		}
		judge(&cl, wall)
		if !slices.Equal(cl.Reasons, c.reasons) || cl.Limited != (len(c.reasons) > 0) {
			t.Errorf("%s: limited %v %q, want %q", c.name, cl.Limited, cl.Reasons, c.reasons)
		}
	}
}
