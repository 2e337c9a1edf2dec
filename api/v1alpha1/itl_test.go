package v1alpha1

import (
	"strings"
	"testing"
)

// TestITLP99Thresholds: spec.sweep.sla.itlP99 is unset by default (not
// graded), accepted in order, and refused out of order with its path.
func TestITLP99Thresholds(t *testing.T) {
	if c := mustLoad(t, "spec: {}\n"); c.Spec.Sweep.SLA.ITLP99 != (DurationThresholds{}) {
		t.Errorf("default itlP99 %+v, want unset", c.Spec.Sweep.SLA.ITLP99)
	}
	c := mustLoad(t, "spec:\n  sweep:\n    sla:\n      itlP99: {excellent: 50ms, acceptable: 100ms, degraded: 200ms}\n")
	if c.Spec.Sweep.SLA.ITLP99.Degraded.Duration.Milliseconds() != 200 {
		t.Errorf("itlP99 %+v", c.Spec.Sweep.SLA.ITLP99)
	}
	_, err := LoadConfig([]byte(header + "spec:\n  sweep:\n    sla:\n      itlP99: {excellent: 300ms, acceptable: 100ms, degraded: 200ms}\n"))
	if err == nil || !strings.Contains(err.Error(), "spec.sweep.sla.itlP99") {
		t.Errorf("out of order: %v", err)
	}
}
