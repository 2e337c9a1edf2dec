package v1alpha1

import "fmt"

// SweepPlan is what sweep-runner executes: the sweep settings of a
// ModelPerformanceMetrics with the models resolved to concrete targets.
type SweepPlan struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   ObjectMeta `json:"metadata,omitzero"`
	Spec       PlanSpec   `json:"spec"`
}

// PlanSpec is the body of a SweepPlan: the targets, the sweep settings it
// shares with step07.yaml's spec.sweep (inline: same YAML names), and where
// the results go.
type PlanSpec struct {
	Targets       []Target `json:"targets,omitempty"`
	SweepSettings `json:",inline"`
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
	// Autoscaling: the model's InferenceService autoscales (minReplicas
	// differs from maxReplicas); the report warns.
	Autoscaling bool `json:"autoscaling,omitempty"`
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
	s.SweepSettings.Default()
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
	s.SweepSettings.validate(&errs, "spec")
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
