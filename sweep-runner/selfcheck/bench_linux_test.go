package selfcheck

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkWindow measures the figures Limited's thresholds come from:
// one child client per iteration, a 1 s window of a workload, unlimited or
// in a cgroup with a CPU quota or with one P. Besides the window's own
// figures it reports what the client added: the p99 lateness of a 1 ms
// sleep and, for the streaming users, the p99 delay from a chunk's write
// by the server (this process) to its read by the client; -v logs each
// window. Run as root:
//
//	go test ./sweep-runner/selfcheck -run '^$' -bench Window -benchtime 5x -v
func BenchmarkWindow(b *testing.B) {
	url := streamServer(b)
	http := func(users int) []string {
		return []string{childEnv + "=http", usersEnv + fmt.Sprintf("=%d", users), urlEnv + "=" + url}
	}
	spin := func(n int) []string { return []string{childEnv + "=spin", spinnersEnv + fmt.Sprintf("=%d", n)} }
	for _, w := range []struct {
		name  string
		cores float64 // the cgroup's quota, 0 for none
		env   []string
	}{
		{"http64/unlimited", 0, http(64)},
		{"http256/unlimited", 0, http(256)},
		{"http512/unlimited", 0, http(512)},
		{"http1024/unlimited", 0, http(1024)},
		{"http64/gomaxprocs=1", 0, append(http(64), "GOMAXPROCS=1")},
		{"http64/quota=1", 1, http(64)},
		{"http64/quota=0.5", 0.5, http(64)},
		{"http64/quota=0.25", 0.25, http(64)},
		{"http64/quota=0.15", 0.15, http(64)},
		{"http64/quota=0.1", 0.1, http(64)},
		{"http256/quota=0.5", 0.5, http(256)},
		{"http256/quota=0.4", 0.4, http(256)},
		{"http256/quota=0.3", 0.3, http(256)},
		{"spin2/unlimited", 0, spin(2)},
		{"spin4/quota=0.1", 0.1, spin(4)},
		{"spin8/gomaxprocs=1", 0, append(spin(8), "GOMAXPROCS=1")},
	} {
		b.Run(w.name, func(b *testing.B) {
			var share, held, sched, late, delay, cores, limited float64
			for range b.N {
				var cg *cpuCgroup
				if w.cores > 0 {
					cg = newCPUCgroup(b, w.cores)
				}
				r := runChild(b, cg, time.Second, w.env...)
				c := r.Client
				b.Logf("throttled %d/%d periods, held %.4f s, sched p99 %.2f ms, sleep late p99 %.2f ms, chunk delay p99 %.2f ms (%d chunks), %.2f cores, %q",
					c.ThrottledPeriods, c.Periods, c.ThrottledSeconds, 1000*c.SchedLatencyP99Seconds, 1000*r.Lateness, 1000*r.Delay, r.Chunks, c.CPUCores, c.Reasons)
				if c.Periods > 0 {
					share += float64(c.ThrottledPeriods) / float64(c.Periods)
				}
				held += c.ThrottledSeconds
				sched += c.SchedLatencyP99Seconds
				late += r.Lateness
				delay += r.Delay
				cores += c.CPUCores
				if c.Limited {
					limited++
				}
			}
			n := float64(b.N)
			b.ReportMetric(100*share/n, "throttled-%")
			b.ReportMetric(held/n, "held-s")
			b.ReportMetric(1000*sched/n, "sched-p99-ms")
			b.ReportMetric(1000*late/n, "sleep-late-p99-ms")
			b.ReportMetric(1000*delay/n, "chunk-delay-p99-ms")
			b.ReportMetric(cores/n, "cores")
			b.ReportMetric(limited/n, "limited")
			b.ReportMetric(0, "ns/op")
		})
	}
}
