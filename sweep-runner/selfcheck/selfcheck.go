package selfcheck

import (
	"fmt"
	"math"
	"runtime/metrics"
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// schedLatencies is the runtime's histogram of the time goroutines waited,
// runnable, before they ran.
const schedLatencies = "/sched/latencies:seconds"

// Probe holds the counters read at a window's start.
type Probe struct {
	start   time.Time
	cpu     time.Duration
	cgroup  cgroupStat
	buckets []float64
	counts  []uint64
}

// Start snapshots the counters at a window's start.
func Start() *Probe {
	p := &Probe{cgroup: readCgroup()}
	p.buckets, p.counts = readSched()
	p.cpu = processCPU()
	p.start = time.Now()
	return p
}

// Stop reads them again and returns what the client did over the window
// (never nil).
func (p *Probe) Stop() *results.Client {
	wall := time.Since(p.start)
	cpu := processCPU() - p.cpu
	_, counts := readSched()
	cg := readCgroup()
	c := &results.Client{CPUSeconds: cpu.Seconds()}
	if wall > 0 {
		c.CPUCores = cpu.Seconds() / wall.Seconds()
	}
	if cg.version != "" && cg.version == p.cgroup.version {
		c.Cgroup = cg.version
		c.LimitCores = cg.limit
		c.Periods = nonNegative(cg.periods - p.cgroup.periods)
		c.ThrottledPeriods = nonNegative(cg.throttled - p.cgroup.throttled)
		c.ThrottledSeconds = float64(nonNegative(cg.throttledNs-p.cgroup.throttledNs)) / 1e9
	}
	c.SchedLatencyP99Seconds = p99(p.buckets, p.counts, counts)
	judge(c, wall)
	return c
}

// Thresholds of Limited. They come from BenchmarkWindow (as root:
// go test ./sweep-runner/selfcheck -run '^$' -bench Window -benchtime 5x
// -v), run twice on a 2-core AMD EPYC VM with cgroup v1 and Go 1.26, the
// second time beside another test suite: 12 windows of 1 s per workload.
// The client's added latency is the p99 delay from a chunk's write by the
// server (the parent process, never limited) to its read by the client.
// Unlimited, 64 streaming users (0.1-0.2 cores) read their chunks 1.4-4.2
// ms late at p99.
const (
	// throttledShare and throttledHeld: the client was limited by its
	// cgroup when it was throttled in more than throttledShare of the
	// window's CFS periods and its tasks were held back more than
	// throttledHeld of the window (the kernel sums the held time over
	// CPUs: four goroutines spinning at 0.1 cores on the two CPUs were held
	// back 1.4-2.5 s in a window of 1 s). The 64 users under quotas of 0.1 to 0.25 cores: held back
	// 0.3 % of the window, chunks 3.2 ms late; 1.7 %, 4.8 ms; 2.6 %, 11 ms;
	// 6.7-92 %, 13-86 ms (throttled in 50-100 % of the periods at 0.1 and
	// 0.15 cores, 0-30 % at 0.25). So 2 % held back is where the client
	// starts adding latency. The share keeps a rare throttle from counting
	// on a machine with many CPUs, where one burst that spends the quota
	// at once holds every CPU back for the rest of its period.
	throttledShare = 0.05
	throttledHeld  = 0.02
	// schedLatency: the client was limited by its own scheduler when its
	// goroutines' p99 wait to run was over schedLatency seconds (the
	// runtime's time slice). The histogram reads 10.5 ms for a wait of
	// 8.4-10.5 ms. Healthy windows read at most 6.3 ms (the 64 users, also
	// with one P or a quota of 0.5 or 1 core) and 2.6 ms (TestOwnWindow's
	// light work, 30 runs, even with four CPU hogs on the two cores).
	// Overloaded, 256-1024 users on the two shared cores read: 8.4 ms or
	// less with chunks 3-22 ms late; 10.5 ms, 18-25 ms late; 12.6-336 ms,
	// 48-399 ms late. One P with eight spinning goroutines: 168-336 ms.
	// A cgroup's throttle freezes the whole process and shows here little
	// or not at all (the 64 users at 0.1 cores: 0.8-3.2 ms in 11 windows of
	// 12 while their chunks were 53-86 ms late), hence both checks.
	schedLatency = 0.010
)

// judge sets Limited and Reasons from the figures.
func judge(c *results.Client, wall time.Duration) {
	if c.Periods > 0 && wall > 0 {
		share := float64(c.ThrottledPeriods) / float64(c.Periods)
		if share > throttledShare && c.ThrottledSeconds/wall.Seconds() > throttledHeld {
			limit := ""
			if c.LimitCores > 0 {
				limit = fmt.Sprintf(" (limit %.2g cores)", c.LimitCores)
			}
			c.Reasons = append(c.Reasons, fmt.Sprintf("client throttled by its cgroup%s in %.0f %% of CPU periods (%s held back)", limit, 100*share, seconds(c.ThrottledSeconds)))
		}
	}
	if c.SchedLatencyP99Seconds > schedLatency {
		c.Reasons = append(c.Reasons, fmt.Sprintf("client goroutines waited %s (p99) for scheduling", seconds(c.SchedLatencyP99Seconds)))
	}
	c.Limited = len(c.Reasons) > 0
}

// seconds writes a duration in seconds the way a person reads it.
func seconds(s float64) string {
	if s >= 1 {
		return fmt.Sprintf("%.1f s", s)
	}
	return fmt.Sprintf("%.0f ms", 1000*s)
}

func nonNegative(v int64) int64 { return max(v, 0) }

// readSched reads the scheduling latency histogram: its bucket boundaries
// and a copy of its counts.
func readSched() ([]float64, []uint64) {
	s := []metrics.Sample{{Name: schedLatencies}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		return nil, nil
	}
	h := s[0].Value.Float64Histogram()
	return h.Buckets, append([]uint64(nil), h.Counts...)
}

// p99 is the 99th percentile of the histogram's growth from before to
// after (counts of the buckets bounded by buckets): the upper bound of the
// bucket it falls in, or the lower bound when that is +Inf; 0 when nothing
// was recorded.
func p99(buckets []float64, before, after []uint64) float64 {
	if len(before) != len(after) || len(buckets) != len(after)+1 {
		return 0
	}
	var total uint64
	for i := range after {
		total += after[i] - before[i]
	}
	if total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(0.99 * float64(total)))
	var seen uint64
	for i := range after {
		seen += after[i] - before[i]
		if seen < rank {
			continue
		}
		v := buckets[i+1]
		if math.IsInf(v, 1) {
			v = buckets[i]
		}
		return max(v, 0)
	}
	return 0
}
