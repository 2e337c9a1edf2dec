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
	// PrometheusCAFile holds the PEM certificates trusted, instead of the
	// system roots, for an https PrometheusURL (OpenShift's service CA;
	// optional).
	PrometheusCAFile string `json:"prometheusCAFile,omitempty"`
	// RemoteWriteURL receives each finished step's summary (optional).
	RemoteWriteURL string `json:"remoteWriteURL,omitempty"`
	// MinRequests: a step's window stays open (past stepDuration) until at
	// least this many of its requests have finished (default 20), so its
	// percentiles rest on data whatever the request length.
	MinRequests int `json:"minRequests,omitempty"`
	// MaxRequests and MaxWindow bound the re-measure budget: a window whose
	// verdict is not clear at 95 % stays open until it is, until this many
	// of its requests finished (default 200) or until it lasted MaxWindow
	// (default 5m; also the bound on waiting for MinRequests).
	MaxRequests int      `json:"maxRequests,omitempty"`
	MaxWindow   Duration `json:"maxWindow,omitzero"`
	// KeepRuns is how many run directories the results directory keeps
	// (default 30): after a run completes, the oldest beyond that number
	// are removed (never the run just completed or resumed; nothing after
	// a run that failed or was interrupted).
	KeepRuns int `json:"keepRuns,omitempty"`
	// TimeScale is for sweeping a time-scaled simulator (vllm-sim
	// --time-scale F): the SLA's time thresholds are multiplied by it and
	// its reading-speed thresholds divided by it (0 or 1: real time).
	TimeScale float64 `json:"timeScale,omitempty"`
	// APIKeyFile holds the model endpoints' API key (optional).
	APIKeyFile string `json:"apiKeyFile,omitempty"`
	// CAFile holds PEM certificates the model endpoints' TLS is trusted with,
	// besides the system roots (the OpenShift service CA for models behind
	// their auth proxy).
	CAFile string `json:"caFile,omitempty"`
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

// Defaults of the window bounds and of the results retention.
const (
	DefaultMinRequests = 20
	DefaultMaxRequests = 200
	DefaultMaxWindow   = 5 * time.Minute
	DefaultKeepRuns    = 30
)

// EffectiveSLA is the SLA the steps are judged by: the plan's, with its
// times scaled by TimeScale (a simulator running F times real time makes
// every latency F times as long and every rate 1/F times as high).
func (p PlanSpec) EffectiveSLA() SLA {
	s := p.SLA
	f := p.TimeScale
	if f <= 0 || f == 1 {
		return s
	}
	scale := func(d Duration) Duration { return D(time.Duration(float64(d.Duration) * f)) }
	s.TTFT = DurationThresholds{Excellent: scale(s.TTFT.Excellent), Acceptable: scale(s.TTFT.Acceptable), Degraded: scale(s.TTFT.Degraded)}
	s.ReadingSpeed = FloatThresholds{Excellent: s.ReadingSpeed.Excellent / f, Acceptable: s.ReadingSpeed.Acceptable / f, Degraded: s.ReadingSpeed.Degraded / f}
	return s
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
	if s.MinRequests == 0 {
		s.MinRequests = DefaultMinRequests
	}
	if s.MaxRequests == 0 {
		s.MaxRequests = max(DefaultMaxRequests, s.MinRequests)
	}
	if s.MaxWindow.IsZero() {
		s.MaxWindow = D(max(DefaultMaxWindow, s.StepDuration.Duration))
	}
	if s.KeepRuns == 0 {
		s.KeepRuns = DefaultKeepRuns
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
	if s.MinRequests < 1 || s.MinRequests > 100000 {
		errs.Add("spec.minRequests", "must be within 1..100000, got %d", s.MinRequests)
	}
	if s.MaxRequests < s.MinRequests || s.MaxRequests > 1000000 {
		errs.Add("spec.maxRequests", "must be within minRequests (%d)..1000000, got %d", s.MinRequests, s.MaxRequests)
	}
	if s.MaxWindow.Duration < s.StepDuration.Duration || s.MaxWindow.Duration > 24*time.Hour {
		errs.Add("spec.maxWindow", "must be at least stepDuration (%s) and at most 24h, got %s", s.StepDuration.Duration, s.MaxWindow.Duration)
	}
	if s.KeepRuns < 1 || s.KeepRuns > 10000 {
		errs.Add("spec.keepRuns", "must be within 1..10000 (run directories kept in the results directory; older ones are removed after a run completes), got %d", s.KeepRuns)
	}
	if s.TimeScale != 0 && !(s.TimeScale > 0 && s.TimeScale <= 100) {
		errs.Add("spec.timeScale", "must be within (0, 100] (1: real time; vllm-sim --time-scale F needs the same F), got %g", s.TimeScale)
	}
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
