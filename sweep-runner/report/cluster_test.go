package report

import (
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// ClusterNotes say what the cluster did: replicas behind the name, several
// servers behind one address, disturbed steps, an autoscaling model; an
// undisturbed run on one server says nothing.
func TestClusterNotes(t *testing.T) {
	pinned := &results.Replicas{Seen: []string{"10.0.0.2", "10.0.0.3"}, Measured: []string{"10.0.0.2"}, Mode: results.ReplicasPinned}
	sum := &results.Summary{Results: []results.Result{
		{Target: "quiet", Scenario: "A", Steps: []results.Step{{Replicas: &results.Replicas{Measured: []string{"127.0.0.1"}, Mode: results.ReplicasService}}}},
		{Target: "m", Scenario: "A", Autoscaling: true, DisturbedSteps: []int{8},
			Steps: []results.Step{{Replicas: pinned}, {Replicas: &results.Replicas{Mode: results.ReplicasService, Hidden: 3}}}},
	}}
	notes := ClusterNotes(sum)
	if len(notes) != 1 {
		t.Fatalf("notes %q, want one, for m", notes)
	}
	for _, want := range []string{"m / A", "autoscales", "2 replicas behind the name (10.0.0.2, 10.0.0.3)", "went to 10.0.0.2 (", "per replica", "about 3 servers", "concurrency 8"} {
		if !strings.Contains(notes[0], want) {
			t.Errorf("note lacks %q: %s", want, notes[0])
		}
	}
}
