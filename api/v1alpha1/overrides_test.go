package v1alpha1

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func loadedPlan(t *testing.T, body string) *SweepPlan {
	t.Helper()
	var p SweepPlan
	if err := DecodeStrict([]byte(planHeader+body), &p); err != nil {
		t.Fatal(err)
	}
	return &p
}

// apply is what sweep-runner run does: decode, overrides, defaults, validation.
func apply(t *testing.T, body string, o PlanOverrides) *SweepPlan {
	t.Helper()
	p := loadedPlan(t, body)
	if err := p.Apply(o); err != nil {
		t.Fatal(err)
	}
	if err := p.Default(); err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestApplyNothingChangesNothing(t *testing.T) {
	body := "  concurrency: [2, 4]\n  warmup: 0s\n  minRequests: 30\n  apiKeyFile: /k\n"
	want := loadedPlan(t, body)
	got := loadedPlan(t, body)
	if err := got.Apply(PlanOverrides{}); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("empty overrides changed the plan (-want +got):\n%s", d)
	}
}

// A zero given is kept: --warmup 0 is no warmup and --ready-timeout 0
// checks once, whatever the plan says.
func TestApplyKeepsZero(t *testing.T) {
	p := apply(t, "  warmup: 30s\n  readyTimeout: 5m\n", PlanOverrides{Warmup: Ptr(time.Duration(0)), ReadyTimeout: Ptr(time.Duration(0))})
	if p.Spec.Warmup.Duration != 0 || p.Spec.ReadyTimeout.Duration != 0 {
		t.Errorf("warmup %s readyTimeout %s, want 0s 0s", p.Spec.Warmup.Duration, p.Spec.ReadyTimeout.Duration)
	}
	// ... and so is the plan's own zero when no override is given.
	p = apply(t, "  warmup: 0s\n", PlanOverrides{StepDuration: Ptr(2 * time.Minute)})
	if p.Spec.Warmup.Duration != 0 || p.Spec.StepDuration.Duration != 2*time.Minute {
		t.Errorf("warmup %s step %s", p.Spec.Warmup.Duration, p.Spec.StepDuration.Duration)
	}
	// A zero where none is allowed is not replaced by the default.
	p = loadedPlan(t, "")
	p.Apply(PlanOverrides{MinRequests: Ptr(0)})
	p.Default()
	if err := p.Validate(); err == nil || *p.Spec.MinRequests != 0 {
		t.Errorf("minRequests 0: %v, %d", err, *p.Spec.MinRequests)
	}
}

func TestApplyGrid(t *testing.T) {
	// An explicit list replaces the doubling.
	p := apply(t, "  startConcurrency: 2\n  maxConcurrency: 64\n", PlanOverrides{Concurrency: []int{1, 3}})
	if d := cmp.Diff([]int{1, 3}, p.Spec.Steps()); d != "" || p.Spec.StartConcurrency != nil || p.Spec.MaxConcurrency != nil {
		t.Errorf("list over a doubling: %s %v %v", d, p.Spec.StartConcurrency, p.Spec.MaxConcurrency)
	}
	// A doubling bound replaces the list; the other bound is the plan's or its default.
	p = apply(t, "  concurrency: [2, 4, 6]\n", PlanOverrides{MaxConcurrency: Ptr(8)})
	if d := cmp.Diff([]int{1, 2, 4, 8}, p.Spec.Steps()); d != "" {
		t.Errorf("max over a list (-want +got):\n%s", d)
	}
	p = apply(t, "  concurrency: [2, 4, 6]\n", PlanOverrides{StartConcurrency: Ptr(4)})
	if d := cmp.Diff([]int{4, 8, 16, 32}, p.Spec.Steps()); d != "" {
		t.Errorf("start over a list (-want +got):\n%s", d)
	}
	p = apply(t, "  maxConcurrency: 16\n", PlanOverrides{StartConcurrency: Ptr(4)})
	if d := cmp.Diff([]int{4, 8, 16}, p.Spec.Steps()); d != "" {
		t.Errorf("start over the plan's max (-want +got):\n%s", d)
	}
	orig := loadedPlan(t, "")
	if err := orig.Apply(PlanOverrides{Concurrency: []int{1}, MaxConcurrency: Ptr(8)}); !errors.Is(err, ErrConcurrencyOverrides) {
		t.Errorf("list and doubling together: %v", err)
	}
}

// The bounds that follow another setting follow the overridden one.
func TestApplyDerivedBounds(t *testing.T) {
	p := apply(t, "", PlanOverrides{MinRequests: Ptr(500)})
	if *p.Spec.MinRequests != 500 || *p.Spec.MaxRequests != 500 {
		t.Errorf("min 500: max %d", *p.Spec.MaxRequests)
	}
	p = apply(t, "  maxRequests: 100\n", PlanOverrides{MinRequests: Ptr(150)})
	if *p.Spec.MaxRequests != 150 {
		t.Errorf("min over a lower plan max: max %d, want 150", *p.Spec.MaxRequests)
	}
	p = loadedPlan(t, "  maxRequests: 100\n")
	p.Apply(PlanOverrides{MinRequests: Ptr(150), MaxRequests: Ptr(120)})
	if *p.Spec.MaxRequests != 120 {
		t.Errorf("both given: max %d, want 120 (and Validate to refuse it)", *p.Spec.MaxRequests)
	}
	p = apply(t, "  maxWindow: 3m\n", PlanOverrides{StepDuration: Ptr(10 * time.Minute)})
	if p.Spec.MaxWindow.Duration != 10*time.Minute {
		t.Errorf("step over a shorter plan maxWindow: %s", p.Spec.MaxWindow.Duration)
	}
	p = apply(t, "", PlanOverrides{StepDuration: Ptr(10 * time.Minute)})
	if p.Spec.MaxWindow.Duration != 10*time.Minute {
		t.Errorf("step over the default maxWindow: %s", p.Spec.MaxWindow.Duration)
	}
	p = apply(t, "  maxWindow: 3m\n", PlanOverrides{StepDuration: Ptr(2 * time.Minute), MaxWindow: Ptr(4 * time.Minute)})
	if p.Spec.MaxWindow.Duration != 4*time.Minute {
		t.Errorf("maxWindow given: %s", p.Spec.MaxWindow.Duration)
	}
}

func TestApplyTargetsScenariosAndRest(t *testing.T) {
	targets := []Target{{Name: "b", URL: "http://b"}}
	o := PlanOverrides{
		Targets: targets, Scenarios: []string{"c", " a"}, API: Ptr(APIChat), TimeScale: Ptr(0.5),
		Bisect: Ptr(false), APIKeyFile: Ptr("/key"), CAFile: Ptr(""), RequestTimeout: Ptr(time.Minute), MaxRequests: Ptr(300),
	}
	p := apply(t, "  caFile: /ca\n", o)
	targets[0].Name = "changed"
	if len(p.Spec.Targets) != 1 || p.Spec.Targets[0].Name != "b" || p.Spec.Targets[0].Model != "b" {
		t.Errorf("targets: %+v", p.Spec.Targets)
	}
	if len(p.Spec.Scenarios) != 2 || p.Spec.Scenarios[0].Name != "C" || p.Spec.Scenarios[1].Name != "A" {
		t.Errorf("scenarios: %+v", p.Spec.Scenarios)
	}
	if p.Spec.API != APIChat || p.Spec.TimeScale != 0.5 || p.Spec.BisectEnabled() || p.Spec.APIKeyFile != "/key" || p.Spec.CAFile != "" ||
		p.Spec.RequestTimeout.Duration != time.Minute || *p.Spec.MaxRequests != 300 {
		t.Errorf("settings: %+v", p.Spec.SweepSettings)
	}
	// An unknown scenario names the plan's; the plan is left as it was.
	before := loadedPlan(t, "  scenarios:\n  - {name: X, inputTokens: 1, outputTokens: 1}\n")
	p = loadedPlan(t, "  scenarios:\n  - {name: X, inputTokens: 1, outputTokens: 1}\n")
	err := p.Apply(PlanOverrides{Scenarios: []string{"x", "Z"}, Warmup: Ptr(time.Second)})
	var unknown *UnknownScenarioError
	if !errors.As(err, &unknown) || err.Error() != `unknown scenario "Z" (the plan has X)` {
		t.Errorf("unknown scenario: %v", err)
	}
	if d := cmp.Diff(before, p); d != "" {
		t.Errorf("a failed Apply changed the plan:\n%s", d)
	}
}

func TestApplyOutputs(t *testing.T) {
	p := apply(t, "  keepRuns: 3\n  prometheusURL: http://p:9090\n  remoteWriteURL: http://p:9090/api/v1/write\n", PlanOverrides{})
	p.ApplyOutputs(OutputOverrides{})
	if *p.Spec.KeepRuns != 3 || p.Spec.PrometheusURL != "http://p:9090" {
		t.Errorf("empty output overrides: %+v", p.Spec)
	}
	p.ApplyOutputs(OutputOverrides{KeepRuns: Ptr(5), RemoteWriteURL: Ptr(""), PrometheusURL: Ptr("http://q"), PrometheusTokenFile: Ptr("/t"), PrometheusCAFile: Ptr("/c")})
	s := p.Spec
	if *s.KeepRuns != 5 || s.RemoteWriteURL != "" || s.PrometheusURL != "http://q" || s.PrometheusTokenFile != "/t" || s.PrometheusCAFile != "/c" {
		t.Errorf("output overrides: %+v", s)
	}
}
