package analysis

import (
	"strings"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// TestITLP99Graded: ITL p99 is graded only when the SLA sets it (the
// default leaves today's grades and answers as they were); set, a step whose
// token stalls exceed its acceptable threshold is no longer at SLA, and the
// reports' grade columns carry it.
func TestITLP99Graded(t *testing.T) {
	s := step(0.1, 0.01, 0, 0.3, 100, 0)
	s.Latency.ITL.Count, s.Latency.ITL.Percentiles.P99 = 1000, 0.25
	sla := defaultSLA()
	Evaluate(&s, sla)
	if _, graded := s.Grades["itl_p99"]; graded || !s.AtSLA {
		t.Errorf("default SLA: grades %v at SLA %v, want ITL p99 ungraded and the step at SLA", s.Grades, s.AtSLA)
	}
	if v := s.KPIs["itl_p99_seconds"]; v != 0.25 {
		t.Errorf("ITL p99 value %v, want 0.25 recorded even ungraded", v)
	}
	sla.ITLP99 = v1alpha1.DurationThresholds{Excellent: v1alpha1.D(50 * time.Millisecond), Acceptable: v1alpha1.D(100 * time.Millisecond), Degraded: v1alpha1.D(200 * time.Millisecond)}
	Evaluate(&s, sla)
	if s.Grades["itl_p99"] != results.GradeDegraded || s.AtSLA || s.Broken {
		t.Errorf("ITL p99 250 ms against 50/100/200 ms: grade %q at SLA %v broken %v, want degraded, not at SLA, not broken (a graded KPI, not a breaking rule)", s.Grades["itl_p99"], s.AtSLA, s.Broken)
	}
	s.Latency.ITL.Percentiles.P99 = 0.04
	Evaluate(&s, sla)
	if s.Grades["itl_p99"] != results.GradeExcellent || !s.AtSLA {
		t.Errorf("ITL p99 40 ms: grade %q at SLA %v", s.Grades["itl_p99"], s.AtSLA)
	}
	// A time-scaled plan scales its thresholds with the other times.
	eff := v1alpha1.SweepSettings{SLA: sla, TimeScale: 0.1}.EffectiveSLA()
	if eff.ITLP99.Degraded.Duration != 20*time.Millisecond {
		t.Errorf("effective ITL p99 degraded %v, want 20ms at time scale 0.1", eff.ITLP99.Degraded.Duration)
	}
}

// TestDefinitionsNameGradedKPIs: the summary's definition of max users at
// SLA names the KPIs the run's SLA grades, from the table (ITL p99 only
// when graded), and leaves the shared definitions as they were.
func TestDefinitionsNameGradedKPIs(t *testing.T) {
	sla := defaultSLA()
	want := "TTFT p95, reading speed (1/TPOT p95), KV cache max, success"
	if got := definitions(sla)["max users at SLA"]; !strings.HasSuffix(got, ": "+want) {
		t.Errorf("default SLA: %q, want it to end with the four KPIs %q", got, want)
	}
	sla.ITLP99 = v1alpha1.DurationThresholds{Excellent: v1alpha1.D(50 * time.Millisecond), Acceptable: v1alpha1.D(100 * time.Millisecond), Degraded: v1alpha1.D(200 * time.Millisecond)}
	if got := definitions(sla)["max users at SLA"]; !strings.Contains(got, "ITL p99") {
		t.Errorf("ITL p99 graded: %q does not name it", got)
	}
	if strings.Contains(results.Definitions["max users at SLA"], "TTFT") {
		t.Errorf("the shared definitions were changed: %q", results.Definitions["max users at SLA"])
	}
}
