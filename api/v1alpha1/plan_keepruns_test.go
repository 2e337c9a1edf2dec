package v1alpha1

import (
	"errors"
	"strings"
	"testing"
)

const planHeader = "apiVersion: step07.rhoai-demo.io/v1alpha1\nkind: SweepPlan\nspec:\n  targets:\n  - {name: m, url: 'http://127.0.0.1:8000'}\n"

// keepRuns: 30 by default, as given otherwise, and at least 1 (with its
// field path and the allowed range in the message).
func TestPlanKeepRuns(t *testing.T) {
	p, err := LoadPlan([]byte(planHeader))
	if err != nil {
		t.Fatal(err)
	}
	if *p.Spec.KeepRuns != DefaultKeepRuns || DefaultKeepRuns != 30 {
		t.Errorf("default keepRuns %d, want 30", *p.Spec.KeepRuns)
	}
	if p, err := LoadPlan([]byte(planHeader + "  keepRuns: 3\n")); err != nil || *p.Spec.KeepRuns != 3 {
		t.Errorf("keepRuns 3: %v %v", p, err)
	}
	for _, bad := range []string{"-1", "0", "10001"} {
		_, err := LoadPlan([]byte(planHeader + "  keepRuns: " + bad + "\n"))
		var errs Errors
		if !errors.As(err, &errs) || !strings.Contains(err.Error(), "spec.keepRuns: must be within 1..10000") || !strings.Contains(err.Error(), "got "+bad) {
			t.Errorf("keepRuns %s: %v", bad, err)
		}
	}
}
