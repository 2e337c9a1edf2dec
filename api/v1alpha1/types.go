package v1alpha1

import (
	"encoding/json"
	"fmt"
	"time"
)

const (
	// Group is the API group of the project's own kinds.
	Group = "step07.rhoai-demo.io"
	// Version of the kinds in this package.
	Version = "v1alpha1"
	// APIVersion is Group/Version.
	APIVersion = Group + "/" + Version
	// Kind of the generator's functionConfig.
	Kind = "ModelPerformanceMetrics"
	// PlanKind is the kind of the sweep plan sweep-runner reads.
	PlanKind = "SweepPlan"
)

// Platform values.
const (
	PlatformOpenShift  = "openshift"
	PlatformKubernetes = "kubernetes"
)

// Storage types for Prometheus data.
const (
	StoragePVC      = "pvc"
	StorageEmptyDir = "emptyDir"
)

// API styles the load generator can speak.
const (
	APICompletions = "completions"
	APIChat        = "chat"
)

// ObjectMeta is the part of Kubernetes metadata a config carries. Annotations
// must be accepted because kustomize adds its own to the functionConfig.
type ObjectMeta struct {
	Name        string            `json:"name,omitempty"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// ModelPerformanceMetrics is the functionConfig of step07gen.
type ModelPerformanceMetrics struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   ObjectMeta `json:"metadata,omitzero"`
	Spec       Spec       `json:"spec"`
}

// Spec describes the whole step-07 deployment.
type Spec struct {
	// Namespace every namespaced object goes to (default private-ai).
	Namespace string `json:"namespace,omitempty"`
	// Platform is openshift (Route, Thanos Querier, service CA) or kubernetes (Ingress).
	Platform   string         `json:"platform,omitempty"`
	Models     []Model        `json:"models,omitempty"`
	Prometheus PrometheusSpec `json:"prometheus,omitzero"`
	Grafana    GrafanaSpec    `json:"grafana,omitzero"`
	Monitoring MonitoringSpec `json:"monitoring,omitzero"`
	Sweep      SweepSpec      `json:"sweep,omitzero"`
	ArgoCD     ArgoCDSpec     `json:"argocd,omitzero"`
	// NetworkPolicies limits who reaches Prometheus and Grafana and where
	// the sweep may connect to.
	NetworkPolicies NetworkPoliciesSpec `json:"networkPolicies,omitzero"`
}

// NetworkPoliciesSpec configures the generated NetworkPolicies.
type NetworkPoliciesSpec struct {
	// Enabled generates them (default true).
	Enabled *bool `json:"enabled,omitempty"`
	// IngressNamespace is the ingress controller's namespace on platform
	// kubernetes (default ingress-nginx), the only source Grafana accepts.
	// OpenShift's router is selected by its namespace's policy-group label.
	IngressNamespace string `json:"ingressNamespace,omitempty"`
	// APIServerCIDRs are the addresses of the Kubernetes API server (the
	// control-plane nodes). When set, Prometheus' egress is limited to the
	// model pods, DNS and these CIDRs on 443/6443 (kubernetes_sd); when
	// empty Prometheus' egress is not restricted, because the API server's
	// addresses differ per cluster.
	APIServerCIDRs []string `json:"apiServerCIDRs,omitempty"`
}

// On reports whether NetworkPolicies are generated (call after Default).
func (n NetworkPoliciesSpec) On() bool { return n.Enabled == nil || *n.Enabled }

// Model is one served model variant: an InferenceService whose name is also
// the vLLM served model name.
type Model struct {
	Name      string `json:"name"`
	Precision string `json:"precision,omitempty"`
	// GPUs per replica; a pointer so that an explicit 0 is an error, not "unset".
	GPUs *int `json:"gpus,omitempty"`
	// Endpoint is the OpenAI-compatible base URL. The default is the
	// predictor Service on the vLLM container port,
	// http://<name>-predictor.<ns>.svc.cluster.local:8080: OpenShift AI 3.0
	// makes that Service headless, so no port is translated and port 80 is
	// refused. With AuthProxy it is https://...:8443.
	Endpoint string `json:"endpoint,omitempty"`
	// AuthProxy says the model is served behind OpenShift AI's auth proxy
	// ("Require token authentication", annotation
	// security.opendatahub.io/enable-auth): requests go to its TLS port 8443
	// with a bearer token (spec.sweep.apiKeySecret), trusting the service CA.
	AuthProxy bool `json:"authProxy,omitempty"`
	// MetricsPort is the vLLM container port serving /metrics (default 8080).
	MetricsPort int `json:"metricsPort,omitempty"`
	// GPUHourCost is the price of one GPU hour, for the capacity planner (optional).
	GPUHourCost float64 `json:"gpuHourCost,omitempty"`
	// MinReplicas and MaxReplicas are the InferenceService predictor's
	// (optional): when they differ the model autoscales, and the report
	// warns that its answer is per replica while the autoscaler may have
	// moved during the sweep.
	MinReplicas int `json:"minReplicas,omitempty"`
	MaxReplicas int `json:"maxReplicas,omitempty"`
}

// Autoscales says whether the model's replicas may change under a sweep.
func (m Model) Autoscales() bool { return m.MaxReplicas > 0 && m.MinReplicas != m.MaxReplicas }

// GPUCount returns the model's GPUs, 1 when unset.
func (m Model) GPUCount() int {
	if m.GPUs == nil {
		return 1
	}
	return *m.GPUs
}

// PrometheusSpec configures the local high-resolution Prometheus.
type PrometheusSpec struct {
	Image          string   `json:"image,omitempty"`
	ScrapeInterval Duration `json:"scrapeInterval,omitzero"`
	// Retention in Prometheus duration syntax (e.g. 15d).
	Retention string      `json:"retention,omitempty"`
	Storage   StorageSpec `json:"storage,omitzero"`
}

// StorageSpec is a PVC or an emptyDir.
type StorageSpec struct {
	Type             string `json:"type,omitempty"`
	Size             string `json:"size,omitempty"`
	StorageClassName string `json:"storageClassName,omitempty"`
}

// GrafanaSpec configures the Grafana instance.
type GrafanaSpec struct {
	Image string `json:"image,omitempty"`
	// RouteHost is the Route or Ingress host; empty lets the router pick one.
	RouteHost string `json:"routeHost,omitempty"`
	// AdminSecret names the Secret (keys admin-user, admin-password) the
	// admin credentials come from; it is created by the user, never generated.
	AdminSecret string `json:"adminSecret,omitempty"`
	// OAuthProxy puts Grafana behind the OpenShift OAuth proxy.
	OAuthProxy bool `json:"oauthProxy,omitempty"`
	// OAuthProxyImage is the oauth-proxy sidecar image.
	OAuthProxyImage string `json:"oauthProxyImage,omitempty"`
}

// ServiceMonitor modes: who makes user-workload monitoring scrape vLLM.
const (
	// ServiceMonitorPlatform reuses the <isvc>-metrics ServiceMonitor that
	// OpenShift AI's odh-model-controller creates for every vLLM
	// InferenceService; none is generated (a second one would scrape every
	// pod twice).
	ServiceMonitorPlatform = "platform"
	// ServiceMonitorOwn generates one ServiceMonitor per model.
	ServiceMonitorOwn = "own"
)

// MonitoringSpec points at the cluster's monitoring stack.
type MonitoringSpec struct {
	ThanosQuerierURL string `json:"thanosQuerierURL,omitempty"`
	DCGMNamespace    string `json:"dcgmNamespace,omitempty"`
	// ServiceMonitor is platform (default on OpenShift: RHOAI's own
	// <isvc>-metrics ServiceMonitor) or own (default on Kubernetes).
	ServiceMonitor string `json:"serviceMonitor,omitempty"`
}

// SweepSpec configures the scheduled load test: the Job around the sweep,
// and the sweep settings it shares with the SweepPlan it generates (inline:
// spec.sweep.warmup is the plan's spec.warmup).
type SweepSpec struct {
	Image    string `json:"image,omitempty"`
	Schedule string `json:"schedule,omitempty"`
	// TimeZone of the schedule, an IANA name (default UTC); without it the
	// schedule follows the controller-manager's zone.
	TimeZone      string `json:"timeZone,omitempty"`
	SweepSettings `json:",inline"`
	// ActiveDeadline bounds the whole Job (default 6h; at least 1m).
	ActiveDeadline *Duration `json:"activeDeadline,omitempty"`
	Results        Results   `json:"results,omitzero"`
	// APIKeySecret names a Secret (key api-key) holding the model endpoints' API key.
	APIKeySecret string `json:"apiKeySecret,omitempty"`
}

// Scenario is one workload shape.
type Scenario struct {
	Name         string `json:"name"`
	Description  string `json:"description,omitempty"`
	InputTokens  int    `json:"inputTokens"`
	OutputTokens int    `json:"outputTokens"`
	// Spread varies lengths uniformly by +-Spread (0..0.9) of the nominal value.
	Spread float64 `json:"spread,omitempty"`
	// Length distributions around inputTokens and outputTokens (the mean),
	// with GuideLLM's synthetic-data names: a standard deviation, clipped
	// to [min, max] (defaults: 1 and 4 x the mean), drawn from
	// lengthDistribution (normal, lognormal or uniform; default normal).
	// Draws are seeded per request number: two runs send the same lengths.
	InputTokensStdev   int    `json:"inputTokensStdev,omitempty"`
	InputTokensMin     int    `json:"inputTokensMin,omitempty"`
	InputTokensMax     int    `json:"inputTokensMax,omitempty"`
	OutputTokensStdev  int    `json:"outputTokensStdev,omitempty"`
	OutputTokensMin    int    `json:"outputTokensMin,omitempty"`
	OutputTokensMax    int    `json:"outputTokensMax,omitempty"`
	LengthDistribution string `json:"lengthDistribution,omitempty"`
	// Dataset replays recorded prompts and their output lengths in place of
	// synthetic ones (inputTokens and outputTokens are then the file's
	// means, filled when it is read).
	Dataset *Dataset `json:"dataset,omitempty"`
	// Mix makes the scenario one population whose requests draw their
	// shape from other scenarios of the plan by weight, so that the server
	// sees the shapes together; inputTokens and outputTokens are then the
	// weighted means.
	Mix []MixPart `json:"mix,omitempty"`
	// The population (workload.go): think time between a user's requests,
	// turns of a conversation, a system prompt shared by every user, or
	// open-loop arrivals at a rate instead of users.
	ThinkTime          *ThinkTime `json:"thinkTime,omitempty"`
	Turns              *Turns     `json:"turns,omitempty"`
	SharedPrefixTokens int        `json:"sharedPrefixTokens,omitempty"`
	Arrival            *Arrival   `json:"arrival,omitempty"`
}

// Dataset is a file of recorded prompts.
type Dataset struct {
	// Path of the file as the sweep reads it (in the Job: under
	// DatasetMountPath when ConfigMap is set, or on the results PVC,
	// /results/...).
	Path string `json:"path"`
	// Format: jsonl ({"prompt": ..., "output_tokens": N} or "messages"
	// for chat, one per line) or sharegpt (ShareGPT's JSON: conversations
	// of from/value).
	Format string `json:"format,omitempty"`
	// ConfigMap, in step07.yaml, names a ConfigMap of the namespace that
	// holds the file (under the key Path's base name); the generated Job
	// mounts it read-only at DatasetMountPath/<configMap>.
	ConfigMap string `json:"configMap,omitempty"`
}

// Dataset formats.
const (
	DatasetJSONL    = "jsonl"
	DatasetShareGPT = "sharegpt"
)

// DatasetMountPath is where the generated Job mounts dataset ConfigMaps.
const DatasetMountPath = "/datasets"

// MixPart is one shape of a mix: a scenario of the plan and its weight.
type MixPart struct {
	Scenario string  `json:"scenario"`
	Weight   float64 `json:"weight"`
	// Shape is the named scenario's lengths, copied in when the plan is
	// defaulted, so that the plan as run holds what it sent.
	Shape *Scenario `json:"shape,omitempty"`
}

// Length distributions.
const (
	LengthNormal    = "normal"
	LengthLognormal = "lognormal"
	LengthUniform   = "uniform"
)

// Results is the results PVC.
type Results struct {
	Size             string `json:"size,omitempty"`
	StorageClassName string `json:"storageClassName,omitempty"`
}

// SLA holds the grade thresholds of the SLA table and the breaking-point rules.
// For each KPI: better than Excellent is excellent, better than Acceptable is
// acceptable, worse than Degraded is degraded (and breaks the step where the
// KPI is a breaking rule); in between is a warning.
type SLA struct {
	TTFT         DurationThresholds `json:"ttft,omitzero"`
	ReadingSpeed FloatThresholds    `json:"readingSpeed,omitzero"`
	KVCache      FloatThresholds    `json:"kvCache,omitzero"`
	Success      FloatThresholds    `json:"success,omitzero"`
	// ITLP99 grades the inter-token latency's p99 (the stalls 1 % of
	// tokens see); unset (the default): not graded.
	ITLP99 DurationThresholds `json:"itlP99,omitzero"`
	// QueueFraction: a step breaks when waiting > 0 in at least this fraction
	// of the window's samples ("queue > 0 consistently").
	QueueFraction float64 `json:"queueFraction,omitempty"`
}

// slaTimes are the SLA's time thresholds with their field paths: each is
// scaled with the run's time scale (EffectiveSLA) and validated as
// increasing durations (validate); an optional one may be left unset (not
// graded). A KPI graded by a time adds its field here and nowhere else in
// this package.
func (s *SLA) slaTimes() []slaTime {
	return []slaTime{{"ttft", &s.TTFT, false}, {"itlP99", &s.ITLP99, true}}
}

type slaTime struct {
	path     string
	t        *DurationThresholds
	optional bool
}

// DurationThresholds are lower-is-better time thresholds.
type DurationThresholds struct {
	Excellent  Duration `json:"excellent,omitzero"`
	Acceptable Duration `json:"acceptable,omitzero"`
	Degraded   Duration `json:"degraded,omitzero"`
}

// FloatThresholds are numeric thresholds; the KPI decides the direction
// (reading speed and success: higher is better; KV cache: lower is better).
// Percent values are 0..100.
type FloatThresholds struct {
	Excellent  float64 `json:"excellent,omitempty"`
	Acceptable float64 `json:"acceptable,omitempty"`
	Degraded   float64 `json:"degraded,omitempty"`
}

// ArgoCDSpec configures the Application that deploys the tree.
type ArgoCDSpec struct {
	RepoURL   string `json:"repoURL,omitempty"`
	Revision  string `json:"revision,omitempty"`
	Path      string `json:"path,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Project   string `json:"project,omitempty"`
	// Plugin makes the Application render step07.yaml with the step07gen
	// Config Management Plugin instead of the committed base/ files.
	Plugin bool `json:"plugin,omitempty"`
	// PluginImage is the repo-server sidecar image holding step07gen.
	PluginImage string `json:"pluginImage,omitempty"`
}

// Duration is a time.Duration written as a Go duration string ("5s", "1m30s").
type Duration struct {
	time.Duration
}

// D makes a Duration.
func D(d time.Duration) Duration { return Duration{d} }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.Duration.String()) }

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("must be a duration string such as \"30s\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q: use a Go duration such as \"30s\" or \"2m\"", s)
	}
	d.Duration = v
	return nil
}

// IsZero lets omitempty-style checks treat unset durations as empty.
func (d Duration) IsZero() bool { return d.Duration == 0 }
