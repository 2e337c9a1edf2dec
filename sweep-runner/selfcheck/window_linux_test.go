package selfcheck

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestOwnWindow reads this process's real cgroup and runtime metrics over
// a window of light client work (four users streaming for 200 ms from a
// local server): some CPU, nothing limited.
func TestOwnWindow(t *testing.T) {
	url := streamServer(t)
	p := Start()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			resp, err := http.Get(url)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		})
	}
	wg.Wait()
	c := p.Stop()
	t.Logf("%+v", *c)
	if c.CPUSeconds <= 0 || c.CPUCores <= 0 {
		t.Errorf("no CPU time read over the window: %+v", *c)
	}
	if c.SchedLatencyP99Seconds < 0 {
		t.Errorf("scheduling latency p99 %g", c.SchedLatencyP99Seconds)
	}
	if c.Limited {
		t.Errorf("light work read as limited: %q (cgroup %s, limit %g cores)", c.Reasons, c.Cgroup, c.LimitCores)
	}
}

// TestThrottledClient: a client in a cgroup limited to a tenth of a CPU,
// its goroutines spinning, is Limited with a throttled reason.
func TestThrottledClient(t *testing.T) {
	cg := newCPUCgroup(t, 0.1)
	r := runChild(t, cg, time.Second, childEnv+"=spin", spinnersEnv+"=4")
	c := r.Client
	t.Logf("%+v", c)
	if c.Cgroup == "" || c.LimitCores < 0.09 || c.LimitCores > 0.11 {
		t.Errorf("the child's cgroup read as %q limited to %g cores, want its 0.1", c.Cgroup, c.LimitCores)
	}
	if !c.Limited || !hasReason(c.Reasons, "throttled") {
		t.Errorf("a client held to a tenth of a CPU: Limited %v, reasons %q, want a throttled reason", c.Limited, c.Reasons)
	}
}

// TestSchedulingStarvedClient: a client with one P and eight spinning
// goroutines (each waits for the others' 10 ms time slices) is Limited
// with a scheduling reason.
func TestSchedulingStarvedClient(t *testing.T) {
	r := runChild(t, nil, time.Second, childEnv+"=spin", spinnersEnv+"=8", "GOMAXPROCS=1")
	c := r.Client
	t.Logf("%+v", c)
	if !c.Limited || !hasReason(c.Reasons, "scheduling") {
		t.Errorf("eight goroutines spinning on one P: Limited %v, reasons %q, want a scheduling reason", c.Limited, c.Reasons)
	}
}

func hasReason(reasons []string, word string) bool {
	for _, r := range reasons {
		if strings.Contains(r, word) {
			return true
		}
	}
	return false
}
