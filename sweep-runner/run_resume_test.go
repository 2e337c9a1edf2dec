package main

import (
	"testing"

	"github.com/rhoai-demo/step07/api/v1alpha1"
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
