// Package selfcheck measures the sweep's own client over a step's window:
// whether it could have added latency the server never caused. On a shared
// cluster the client's pod may be held to a CPU quota its load exceeds, or
// its goroutines may outnumber its processors; either delays when requests
// are sent and when chunks are read, and the step's latencies then measure
// the client as much as the server. A step whose client was Limited is not
// evidence for a breaking point (results.Client, Step.Disturbed).
//
// Start and Stop read, at both ends of the window, only what the kernel and
// the runtime already count: the process's CPU time (getrusage), its
// cgroup's CFS bandwidth counters (cpu.stat of cgroup v2 or of v1's cpu
// controller, and the quota), and the runtime's histogram of how long
// runnable goroutines waited to run (/sched/latencies:seconds). Both are
// needed: a cgroup throttle freezes the whole process, so its goroutines
// do not see the wait as scheduling latency, and too many busy goroutines
// on too few Ps are invisible to the cgroup.
//
// The thresholds of Limited come from BenchmarkWindow, which runs a
// streaming client as a child process unlimited, in a cgroup with a
// quota, and with one P, and measures what the client added to the
// latencies it read.
package selfcheck
