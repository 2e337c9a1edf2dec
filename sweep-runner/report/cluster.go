package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// ClusterNotes say what the cluster did to the run, per target and
// scenario: how many replicas were behind the name and which were
// measured (so that the answer, and the capacity plan built on it, is read
// as per replica), and the steps it disturbed (set aside and measured
// again). Empty when there is nothing to say: one server, undisturbed.
func ClusterNotes(sum *results.Summary) []string {
	var out []string
	for _, r := range sum.Results {
		var seen, measured []string
		mode := ""
		shared, hidden := 0, 0
		for _, s := range r.Steps {
			if rp := s.Replicas; rp != nil {
				seen, measured = union(seen, rp.Seen), union(measured, rp.Measured)
				mode = rp.Mode
				hidden = max(hidden, rp.Hidden)
			}
			if s.Foreign != nil && s.Foreign.Allowed {
				shared++
			}
		}
		var parts []string
		if r.Autoscaling {
			parts = append(parts, "its InferenceService autoscales (minReplicas differs from maxReplicas): the answer is per replica, and the autoscaler may have added or removed replicas during the sweep (see the steps' replicas and events)")
		}
		if len(seen) > 1 {
			parts = append(parts, fmt.Sprintf("%d replicas behind the name (%s); the load and /metrics went to %s (%s), so the answer and the capacity plan are per replica",
				len(seen), strings.Join(seen, ", "), strings.Join(measured, ", "), mode))
		}
		if hidden > 1 {
			parts = append(parts, fmt.Sprintf("about %d servers answered behind one address (a Service's virtual IP: the load spread over them, and /metrics read one of them), so the answer is for that address, not per replica; sweep a headless Service or a pod to size one replica", hidden))
		}
		if len(r.DisturbedSteps) > 0 {
			parts = append(parts, fmt.Sprintf("steps disturbed by the cluster (a restart, foreign traffic or a starved client; set aside and measured again) at concurrency %s", ints(r.DisturbedSteps)))
		}
		if shared > 0 {
			parts = append(parts, fmt.Sprintf("%d step(s) shared the server with foreign traffic (allowBusy): capacity is under-read there", shared))
		}
		if len(parts) > 0 {
			out = append(out, fmt.Sprintf("- %s / %s: %s", r.Target, r.Scenario, strings.Join(parts, "; ")))
		}
	}
	return out
}

func union(a, b []string) []string {
	for _, x := range b {
		if !slices.Contains(a, x) {
			a = append(a, x)
		}
	}
	return a
}
