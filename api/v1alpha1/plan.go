package v1alpha1

import (
	"fmt"
	"time"
)

// SweepPlan is what sweep-runner executes: the sweep settings of a
// ModelPerformanceMetrics with the models resolved to concrete targets.
type SweepPlan struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   ObjectMeta `json:"metadata,omitzero"`
	Spec       PlanSpec   `json:"spec"`
}

// PlanSpec is the body of a SweepPlan.
type PlanSpec struct {
	Targets []Target `json:"targets,omitempty"`
	// Concurrency, StartConcurrency and MaxConcurrency as in SweepSpec.
	Concurrency      []int    `json:"concurrency,omitempty"`
	StartConcurrency int      `json:"startConcurrency,omitempty"`
	MaxConcurrency   int      `json:"maxConcurrency,omitempty"`
	StepDuration     Duration `json:"stepDuration,omitzero"`
	Warmup           Duration `json:"warmup,omitzero"`
	RequestTimeout   Duration `json:"requestTimeout,omitzero"`
	// ReadyTimeout: how long the pre-flight check keeps retrying a target
	// that is unreachable or answers 5xx/429; 0 checks once.
	ReadyTimeout Duration   `json:"readyTimeout,omitzero"`
	API          string     `json:"api,omitempty"`
	Bisect       *bool      `json:"bisect,omitempty"`
	Scenarios    []Scenario `json:"scenarios,omitempty"`
	SLA          SLA        `json:"sla,omitzero"`
	// PrometheusURL is queried for DCGM power per step (optional).
	PrometheusURL string `json:"prometheusURL,omitempty"`
	// PrometheusTokenFile holds a bearer token for PrometheusURL (optional).
	PrometheusTokenFile string `json:"prometheusTokenFile,omitempty"`
	// PrometheusCAFile holds PEM certificates trusted, besides the system
	// roots, for an https PrometheusURL (OpenShift's service CA; optional).
	PrometheusCAFile string `json:"prometheusCAFile,omitempty"`
	// RemoteWriteURL receives each finished step's summary (optional).
	RemoteWriteURL string `json:"remoteWriteURL,omitempty"`
	// APIKeyFile holds the model endpoints' API key (optional).
	APIKeyFile string `json:"apiKeyFile,omitempty"`
}

// Target is one model endpoint under test.
type Target struct {
	Name string `json:"name"`
	// URL is the OpenAI-compatible base URL (without /v1).
	URL string `json:"url"`
	// MetricsURL is the vLLM /metrics URL (default URL + "/metrics").
	MetricsURL string `json:"metricsURL,omitempty"`
	// Model is the served model name sent in requests (default Name).
	Model       string  `json:"model,omitempty"`
	GPUs        int     `json:"gpus,omitempty"`
	Precision   string  `json:"precision,omitempty"`
	GPUHourCost float64 `json:"gpuHourCost,omitempty"`
}

// BisectEnabled reports whether bisection runs (default true).
func (p PlanSpec) BisectEnabled() bool { return p.Bisect == nil || *p.Bisect }

// Steps returns the doubling (or explicit) concurrency grid of the sweep.
func (p PlanSpec) Steps() []int {
	if len(p.Concurrency) > 0 {
		return append([]int(nil), p.Concurrency...)
	}
	return Doubling(p.StartConcurrency, p.MaxConcurrency)
}

// Doubling returns start, 2*start, ... up to and including max (max itself is
// appended when the doubling skips it, so the ceiling is always tested).
func Doubling(start, max int) []int {
	if start < 1 || max < start {
		return nil
	}
	var out []int
	for c := start; c <= max; c *= 2 {
		out = append(out, c)
	}
	if out[len(out)-1] != max {
		out = append(out, max)
	}
	return out
}

// Default fills unset plan fields with the project's defaults.
func (p *SweepPlan) Default() error {
	if p.APIVersion == "" {
		p.APIVersion = APIVersion
	}
	if p.Kind == "" {
		p.Kind = PlanKind
	}
	s := &p.Spec
	d := DefaultSweep()
	if len(s.Concurrency) == 0 {
		if s.StartConcurrency == 0 {
			s.StartConcurrency = d.StartConcurrency
		}
		if s.MaxConcurrency == 0 {
			s.MaxConcurrency = d.MaxConcurrency
		}
	}
	if s.StepDuration.IsZero() {
		s.StepDuration = d.StepDuration
	}
	if s.Warmup.IsZero() {
		s.Warmup = d.Warmup
	}
	if s.RequestTimeout.IsZero() {
		s.RequestTimeout = d.RequestTimeout
	}
	if s.API == "" {
		s.API = d.API
	}
	if s.Scenarios == nil {
		s.Scenarios = d.Scenarios
	}
	s.SLA.Default()
	for i := range s.Targets {
		t := &s.Targets[i]
		if t.Model == "" {
			t.Model = t.Name
		}
		if t.GPUs == 0 {
			t.GPUs = 1
		}
		if t.MetricsURL == "" && t.URL != "" {
			t.MetricsURL = trimSlash(t.URL) + "/metrics"
		}
	}
	return nil
}

// Validate reports every problem of the plan at once.
func (p *SweepPlan) Validate() error {
	var errs Errors
	if p.APIVersion != APIVersion {
		errs.Add("apiVersion", "must be %q, got %q", APIVersion, p.APIVersion)
	}
	if p.Kind != PlanKind {
		errs.Add("kind", "must be %q, got %q", PlanKind, p.Kind)
	}
	s := p.Spec
	if len(s.Targets) == 0 {
		errs.Add("spec.targets", "must list at least one target")
	}
	seen := map[string]bool{}
	for i, t := range s.Targets {
		f := fmt.Sprintf("spec.targets[%d]", i)
		if t.Name == "" {
			errs.Add(f+".name", "is required")
		} else if seen[t.Name] {
			errs.Add(f+".name", "duplicate target %q: names must be unique", t.Name)
		}
		seen[t.Name] = true
		validateURL(&errs, f+".url", t.URL, true)
		validateURL(&errs, f+".metricsURL", t.MetricsURL, false)
		if t.GPUs < 1 {
			errs.Add(f+".gpus", "must be at least 1")
		}
		if t.GPUHourCost < 0 {
			errs.Add(f+".gpuHourCost", "must not be negative")
		}
	}
	validateConcurrency(&errs, "spec", s.Concurrency, s.StartConcurrency, s.MaxConcurrency)
	validateTiming(&errs, "spec", s.StepDuration, s.Warmup, s.RequestTimeout)
	if s.ReadyTimeout.Duration > 24*time.Hour {
		errs.Add("spec.readyTimeout", "must be at most 24h")
	}
	validateAPI(&errs, "spec.api", s.API)
	validateScenarios(&errs, "spec.scenarios", s.Scenarios)
	s.SLA.validate(&errs, "spec.sla")
	validateURL(&errs, "spec.prometheusURL", s.PrometheusURL, false)
	validateURL(&errs, "spec.remoteWriteURL", s.RemoteWriteURL, false)
	return errs.Err()
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}
