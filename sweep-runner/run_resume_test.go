package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// samePlan: the plan as run of a dataset scenario holds the means its run
// measured; the same command's plan (lengths unset) is still the same plan,
// another file is not.
func TestSamePlanDataset(t *testing.T) {
	mk := func(path string, in, out int) *v1alpha1.SweepPlan {
		p := &v1alpha1.SweepPlan{Spec: v1alpha1.PlanSpec{
			Targets: []v1alpha1.Target{{Name: "m", URL: "http://127.0.0.1:1"}},
			SweepSettings: v1alpha1.SweepSettings{Scenarios: []v1alpha1.Scenario{
				{Name: "D", InputTokens: in, OutputTokens: out, Dataset: &v1alpha1.Dataset{Path: path}},
			}},
		}}
		if err := p.Default(); err != nil {
			t.Fatal(err)
		}
		return p
	}
	f := &runFlags{}
	asRun := mk("/d/a.jsonl", 212, 97)
	if !samePlan(asRun, mk("/d/a.jsonl", 0, 0), f, false) {
		t.Error("the same command's plan is not the plan as run")
	}
	if samePlan(asRun, mk("/d/b.jsonl", 0, 0), f, false) {
		t.Error("another dataset is the same plan")
	}
}

// `plan` says which replicas the sweep measured: its plan is per replica.
func TestPlanSaysReplicas(t *testing.T) {
	dir := planRun(t)
	s := &results.Step{SchemaVersion: 1, RunID: "r1", Target: "big", Model: "big", GPUs: 4, Scenario: "A",
		Concurrency: 32, Phase: results.PhaseGrid, Requests: results.Counts{Started: 10, Successful: 10}, SuccessRate: 1,
		Broken: true, Rule: results.RuleTTFT, Rules: []string{results.RuleTTFT},
		Replicas: &results.Replicas{Seen: []string{"10.0.0.2", "10.0.0.3", "10.0.0.4"}, Measured: []string{"10.0.0.2"}, Mode: results.ReplicasPinned}}
	if err := results.AppendStep(filepath.Join(dir, results.StepsFile), s); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCLI("plan", "--users", "100", dir)
	if code != 0 || !strings.Contains(out, "3 replicas behind the name") || !strings.Contains(out, "went to 10.0.0.2") {
		t.Errorf("exit %d: the plan does not say which replica it measured:\n%s%s", code, out, stderr)
	}
}
