package v1alpha1

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Names of generated objects that more than one generator (and the plan)
// must agree on.
const (
	PrometheusName   = "perf-prometheus"
	PrometheusPort   = 9090
	GrafanaName      = "perf-grafana"
	SweepName        = "guidellm-sweep"
	SweepPlanName    = "guidellm-sweep-plan"
	ResultsPVCName   = "guidellm-results"
	ResultsMountPath = "/results"
	PlanMountPath    = "/etc/sweep"
	PlanFileName     = "plan.yaml"
	APIKeyMountPath  = "/var/run/secrets/model-api-key"
	// ServiceCAMountPath holds, in the sweep Job on OpenShift, the service
	// CA that signs the model auth proxies' certificates.
	ServiceCAMountPath = "/var/run/secrets/service-ca"
	APIKeyFileName     = "api-key"
	// RulesConfigMapName holds the recording and alerting rules the local
	// Prometheus loads (the same groups as the PrometheusRule).
	RulesConfigMapName = "perf-prometheus-rules"
	RulesMountPath     = "/etc/prometheus/rules"
	// DashboardLabel marks every dashboard ConfigMap.
	DashboardLabel = "grafana_dashboard"
	// DefaultIngressNamespace is where ingress-nginx runs on plain Kubernetes.
	DefaultIngressNamespace = "ingress-nginx"
)

// Default images; pinned tags, never "latest".
const (
	// DefaultPrometheusImage is the latest patch of the 3.5 LTS line.
	DefaultPrometheusImage = "quay.io/prometheus/prometheus:v3.5.5"
	DefaultGrafanaImage    = "docker.io/grafana/grafana:12.2.0"
	// DefaultSweepImage is a placeholder: build and push it (make image) and
	// set spec.sweep.image and spec.argocd.pluginImage to where it went.
	DefaultSweepImage = "quay.io/rhoai-demo/step07:v0.1.0"
	// DefaultOAuthProxyImage is Red Hat's supported build of the OAuth proxy.
	DefaultOAuthProxyImage = "registry.redhat.io/openshift4/ose-oauth-proxy-rhel9:v4.19"
	// DefaultPluginImage holds step07gen for the ArgoCD repo-server sidecar.
	DefaultPluginImage = DefaultSweepImage
)

// DefaultModels are the demo's two variants: Mistral BF16 on 4 GPUs vs INT4 on 1.
func DefaultModels() []Model {
	return []Model{
		{Name: "mistral-3-bf16", Precision: "bf16", GPUs: ptr(4)},
		{Name: "mistral-3-int4", Precision: "int4", GPUs: ptr(1)},
	}
}

// DefaultScenarios are the three workload shapes of the plan.
func DefaultScenarios() []Scenario {
	return []Scenario{
		{Name: "A", Description: "support: short in, short out", InputTokens: 256, OutputTokens: 128},
		{Name: "B", Description: "summary: long in, short out", InputTokens: 4096, OutputTokens: 256},
		{Name: "C", Description: "coding: short in, long out", InputTokens: 256, OutputTokens: 1024},
	}
}

// Defaults of the settings only step07.yaml has: the CronJob's.
const (
	DefaultSchedule       = "0 2 * * *"
	DefaultTimeZone       = "UTC"
	DefaultActiveDeadline = 6 * time.Hour
	// DefaultJobReadyTimeout is spec.sweep.readyTimeout's default: the Job
	// waits for a predictor restarting or scaling from zero (a SweepPlan's
	// own default, DefaultReadyTimeout, checks once).
	DefaultJobReadyTimeout = 10 * time.Minute
	DefaultResultsSize     = "5Gi"
)

// Default fills the SLA table's defaults into unset thresholds.
func (s *SLA) Default() {
	if s.TTFT == (DurationThresholds{}) {
		s.TTFT = DurationThresholds{Excellent: D(200 * time.Millisecond), Acceptable: D(800 * time.Millisecond), Degraded: D(2 * time.Second)}
	}
	if s.ReadingSpeed == (FloatThresholds{}) {
		s.ReadingSpeed = FloatThresholds{Excellent: 50, Acceptable: 20, Degraded: 10}
	}
	if s.KVCache == (FloatThresholds{}) {
		s.KVCache = FloatThresholds{Excellent: 70, Acceptable: 90, Degraded: 95}
	}
	if s.Success == (FloatThresholds{}) {
		s.Success = FloatThresholds{Excellent: 100, Acceptable: 99, Degraded: 95}
	}
	if s.QueueFraction == 0 {
		s.QueueFraction = 0.5
	}
}

// Default fills every unset field; an empty spec becomes the demo.
func (c *ModelPerformanceMetrics) Default() error {
	if c.APIVersion == "" {
		c.APIVersion = APIVersion
	}
	if c.Kind == "" {
		c.Kind = Kind
	}
	if c.Metadata.Name == "" {
		c.Metadata.Name = "step07"
	}
	s := &c.Spec
	if s.Namespace == "" {
		s.Namespace = "private-ai"
	}
	if s.Platform == "" {
		s.Platform = PlatformOpenShift
	}
	if s.Models == nil {
		s.Models = DefaultModels()
	}
	for i := range s.Models {
		m := &s.Models[i]
		if m.GPUs == nil {
			m.GPUs = ptr(1)
		}
		if m.MetricsPort == 0 {
			m.MetricsPort = DefaultScrapePort
		}
		if m.Endpoint == "" && m.Name != "" {
			m.Endpoint = DefaultEndpoint(*m, s.Namespace)
		}
	}
	p := &s.Prometheus
	if p.Image == "" {
		p.Image = DefaultPrometheusImage
	}
	if p.ScrapeInterval.IsZero() {
		p.ScrapeInterval = D(5 * time.Second)
	}
	if p.Retention == "" {
		p.Retention = "15d"
	}
	if p.Storage.Type == "" {
		p.Storage.Type = StoragePVC
	}
	if p.Storage.Size == "" && p.Storage.Type == StoragePVC {
		p.Storage.Size = "20Gi"
	}
	g := &s.Grafana
	if g.Image == "" {
		g.Image = DefaultGrafanaImage
	}
	if g.AdminSecret == "" {
		g.AdminSecret = GrafanaName + "-admin"
	}
	if g.OAuthProxyImage == "" && g.OAuthProxy {
		g.OAuthProxyImage = DefaultOAuthProxyImage
	}
	mo := &s.Monitoring
	if mo.ThanosQuerierURL == "" && s.Platform == PlatformOpenShift {
		mo.ThanosQuerierURL = "https://thanos-querier.openshift-monitoring.svc.cluster.local:9091"
	}
	if mo.DCGMNamespace == "" {
		mo.DCGMNamespace = "nvidia-gpu-operator"
	}
	if mo.ServiceMonitor == "" {
		mo.ServiceMonitor = ServiceMonitorOwn
		if s.Platform == PlatformOpenShift {
			mo.ServiceMonitor = ServiceMonitorPlatform
		}
	}
	sw := &s.Sweep
	if sw.Image == "" {
		sw.Image = DefaultSweepImage
	}
	if sw.Schedule == "" {
		sw.Schedule = DefaultSchedule
	}
	if sw.TimeZone == "" {
		sw.TimeZone = DefaultTimeZone
	}
	setDefault(&sw.ActiveDeadline, D(DefaultActiveDeadline))
	setDefault(&sw.ReadyTimeout, D(DefaultJobReadyTimeout))
	sw.SweepSettings.Default()
	if sw.Results.Size == "" {
		sw.Results.Size = DefaultResultsSize
	}
	a := &s.ArgoCD
	if a.RepoURL == "" {
		a.RepoURL = "https://github.com/rhoai-demo/step07.git"
	}
	if a.Revision == "" {
		a.Revision = "main"
	}
	if a.Path == "" {
		a.Path = "gitops/step-07-model-performance-metrics"
	}
	if a.Namespace == "" {
		if s.Platform == PlatformOpenShift {
			a.Namespace = "openshift-gitops"
		} else {
			a.Namespace = "argocd"
		}
	}
	if a.Project == "" {
		a.Project = "default"
	}
	if a.PluginImage == "" {
		a.PluginImage = DefaultPluginImage
	}
	np := &s.NetworkPolicies
	if np.Enabled == nil {
		np.Enabled = ptr(true)
	}
	if np.IngressNamespace == "" && s.Platform == PlatformKubernetes {
		np.IngressNamespace = DefaultIngressNamespace
	}
	return nil
}

// Plan derives the sweep plan the generated Job runs. Call after Default.
func (c *ModelPerformanceMetrics) Plan() SweepPlan {
	s := c.Spec
	sw := s.Sweep
	p := SweepPlan{
		APIVersion: APIVersion,
		Kind:       PlanKind,
		Metadata:   ObjectMeta{Name: SweepPlanName, Namespace: s.Namespace},
		Spec: PlanSpec{
			SweepSettings: sw.SweepSettings.clone(),
			// GPU power, like every series the sweep reads: the local
			// Prometheus scrapes the DCGM exporter at the scrape interval
			// on every platform, needing no token, no TLS and no
			// cluster-wide grant.
			PrometheusURL:  fmt.Sprintf("http://%s.%s.svc:%d", PrometheusName, s.Namespace, PrometheusPort),
			RemoteWriteURL: fmt.Sprintf("http://%s.%s.svc:%d/api/v1/write", PrometheusName, s.Namespace, PrometheusPort),
		},
	}
	datasetsInJob(p.Spec.Scenarios)
	if sw.APIKeySecret != "" {
		p.Spec.APIKeyFile = APIKeyMountPath + "/" + APIKeyFileName
	}
	if c.NeedsServiceCA() {
		p.Spec.CAFile = ServiceCAMountPath + "/service-ca.crt"
	}
	for _, m := range s.Models {
		p.Spec.Targets = append(p.Spec.Targets, Target{
			Name:        m.Name,
			URL:         m.Endpoint,
			MetricsURL:  metricsURL(m),
			Model:       m.Name,
			GPUs:        m.GPUCount(),
			Precision:   m.Precision,
			GPUHourCost: m.GPUHourCost,
			Autoscaling: m.Autoscales(),
		})
	}
	return p
}

// NeedsServiceCA reports whether the sweep Job mounts the OpenShift service
// CA: to reach a model behind its auth proxy (whose serving certificate the
// service CA signs).
func (c *ModelPerformanceMetrics) NeedsServiceCA() bool {
	for _, m := range c.Spec.Models {
		if m.AuthProxy {
			return true
		}
	}
	return false
}

// Ports of an OpenShift AI 3.0 vLLM predictor pod. The predictor Service is
// headless (rawDeploymentServiceConfig: Headless), so a client connects to
// these container ports directly.
const (
	PredictorPort     = 8080
	AuthProxyPort     = 8443
	DefaultScrapePort = PredictorPort
)

// DefaultEndpoint is the predictor Service on the vLLM port, or on the auth
// proxy's TLS port when the model sits behind it.
func DefaultEndpoint(m Model, ns string) string {
	if m.AuthProxy {
		return fmt.Sprintf("https://%s-predictor.%s.svc.cluster.local:%d", m.Name, ns, AuthProxyPort)
	}
	return fmt.Sprintf("http://%s-predictor.%s.svc.cluster.local:%d", m.Name, ns, PredictorPort)
}

// metricsURL is the vLLM container's /metrics. vLLM serves it on its API
// port without the auth proxy, so it is plain http on the metrics port of
// the endpoint's host: the predictor Service is headless and reaches every
// container port. An http endpoint on that port, or on no port with the
// default metrics port (a Service translating 80 to 8080), is used as is.
func metricsURL(m Model) string {
	u, err := url.Parse(m.Endpoint)
	if err != nil || u.Host == "" {
		return strings.TrimRight(m.Endpoint, "/") + "/metrics"
	}
	samePort := u.Port() == strconv.Itoa(m.MetricsPort) || (u.Port() == "" && m.MetricsPort == DefaultScrapePort)
	if u.Scheme == "http" && samePort {
		return strings.TrimRight(m.Endpoint, "/") + "/metrics"
	}
	return (&url.URL{Scheme: "http", Host: net.JoinHostPort(u.Hostname(), strconv.Itoa(m.MetricsPort)), Path: "/metrics"}).String()
}

func ptr[T any](v T) *T { return &v }
