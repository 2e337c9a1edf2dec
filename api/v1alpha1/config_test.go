package v1alpha1

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const header = "apiVersion: step07.rhoai-demo.io/v1alpha1\nkind: ModelPerformanceMetrics\n"

func mustLoad(t *testing.T, body string) *ModelPerformanceMetrics {
	t.Helper()
	c, err := LoadConfig([]byte(header + body))
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	return c
}

// An empty spec is the demo of the issue: two Mistral variants, 5 s scrape,
// daily sweep doubling 1..32 over scenarios A, B, C with the SLA table.
func TestEmptySpecIsTheDemo(t *testing.T) {
	c := mustLoad(t, "spec: {}\n")
	s := c.Spec
	if s.Namespace != "private-ai" || s.Platform != PlatformOpenShift {
		t.Errorf("namespace/platform: %q %q", s.Namespace, s.Platform)
	}
	if d := cmp.Diff([]string{"mistral-3-bf16/bf16/4", "mistral-3-int4/int4/1"}, modelSummary(s.Models)); d != "" {
		t.Errorf("models (-want +got):\n%s", d)
	}
	// OpenShift AI 3.0's predictor Service is headless: the container port, not 80.
	if s.Models[0].Endpoint != "http://mistral-3-bf16-predictor.private-ai.svc.cluster.local:8080" || s.Models[0].MetricsPort != 8080 {
		t.Errorf("endpoint default: %q %d", s.Models[0].Endpoint, s.Models[0].MetricsPort)
	}
	if s.Prometheus.ScrapeInterval.Duration != 5*time.Second || s.Prometheus.Storage.Type != StoragePVC {
		t.Errorf("prometheus: %+v", s.Prometheus)
	}
	if s.Monitoring.ThanosQuerierURL != "https://thanos-querier.openshift-monitoring.svc.cluster.local:9091" || s.Monitoring.DCGMNamespace != "nvidia-gpu-operator" {
		t.Errorf("monitoring: %+v", s.Monitoring)
	}
	p := c.Plan()
	if d := cmp.Diff([]int{1, 2, 4, 8, 16, 32}, p.Spec.Steps()); d != "" {
		t.Errorf("steps (-want +got):\n%s", d)
	}
	if len(s.Sweep.Scenarios) != 3 || s.Sweep.Schedule != "0 2 * * *" {
		t.Errorf("sweep: %+v", s.Sweep)
	}
	sla := s.Sweep.SLA
	if sla.TTFT.Excellent.Duration != 200*time.Millisecond || sla.TTFT.Degraded.Duration != 2*time.Second ||
		sla.ReadingSpeed != (FloatThresholds{50, 20, 10}) || sla.KVCache != (FloatThresholds{70, 90, 95}) || sla.Success != (FloatThresholds{100, 99, 95}) {
		t.Errorf("SLA: %+v", sla)
	}
	a := s.ArgoCD
	if a.Namespace != "openshift-gitops" || a.Path != "gitops/step-07-model-performance-metrics" || a.PluginImage != DefaultPluginImage || a.Plugin {
		t.Errorf("argocd: %+v", a)
	}
	if err := p.Validate(); err != nil {
		t.Errorf("plan of the demo: %v", err)
	}
}

func modelSummary(ms []Model) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name+"/"+m.Precision+"/"+itoa(m.GPUCount()))
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestKubernetesDefaults(t *testing.T) {
	c := mustLoad(t, "spec:\n  platform: kubernetes\n")
	if c.Spec.Monitoring.ThanosQuerierURL != "" || c.Spec.ArgoCD.Namespace != "argocd" {
		t.Errorf("kubernetes defaults: thanos %q argocd ns %q", c.Spec.Monitoring.ThanosQuerierURL, c.Spec.ArgoCD.Namespace)
	}
}

// Default is idempotent: defaulting a defaulted config changes nothing.
func TestDefaultIdempotent(t *testing.T) {
	c := mustLoad(t, "spec:\n  models:\n  - name: a\n")
	before := *c
	before.Spec.Models = append([]Model(nil), c.Spec.Models...)
	if err := c.Default(); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(before, *c); d != "" {
		t.Errorf("second Default changed (-before +after):\n%s", d)
	}
}

// Every problem is reported at once, each with its field path.
func TestErrorsCarryPaths(t *testing.T) {
	cases := map[string]string{
		"spec:\n  foo: 1\n":                                                                         "spec.foo: unknown field",
		"spec:\n  models:\n  - name: a\n    gpus: x\n":                                              `spec.models[0].gpus: must be an integer, got string "x"`,
		"spec:\n  models:\n  - gpus: 1\n":                                                           "spec.models[0].name: is required",
		"spec:\n  models:\n  - name: a\n  - name: a\n":                                              `spec.models[1].name: duplicate model "a"`,
		"spec:\n  models:\n  - name: A_b\n":                                                         `spec.models[0].name: "A_b" is not a DNS-1123 label`,
		"spec:\n  models:\n  - name: a\n    gpus: 0\n":                                              "spec.models[0].gpus: must be at least 1",
		"spec:\n  sweep:\n    schedule: '61 * * * *'\n":                                             "spec.sweep.schedule: invalid cron schedule",
		"spec:\n  sweep:\n    warmup: soon\n":                                                       `spec.sweep.warmup: invalid duration "soon"`,
		"spec:\n  prometheus:\n    storage:\n      size: big\n":                                     `spec.prometheus.storage.size: invalid quantity "big"`,
		"spec:\n  monitoring:\n    thanosQuerierURL: ftp://x\n":                                     "spec.monitoring.thanosQuerierURL: invalid URL",
		"spec:\n  sweep:\n    sla:\n      kvCache: {excellent: 95, acceptable: 90, degraded: 70}\n": "spec.sweep.sla.kvCache: thresholds out of order",
		"spec:\n  sweep:\n    scenarios: []\n":                                                      "spec.sweep.scenarios: must list at least one scenario",
		"spec:\n  prometheus:\n    image: prom/prometheus:latest\n":                                 "spec.prometheus.image: \"prom/prometheus:latest\": pin a tag",
		"spec:\n  argocd:\n    path: /abs\n":                                                        "spec.argocd.path: must be a relative path",
		"spec:\n  argocd:\n    pluginImage: 'a b'\n":                                                "spec.argocd.pluginImage: invalid image reference",
		"spec:\n  grafana:\n    oauthProxy: true\n  platform: kubernetes\n":                         "spec.grafana.oauthProxy: needs platform \"openshift\"",
		"spec:\n  networkPolicies:\n    apiServerCIDRs: [10.0.0.0/33]\n":                            `spec.networkPolicies.apiServerCIDRs[0]: invalid CIDR "10.0.0.0/33"`,
		"spec:\n  networkPolicies:\n    ingressNamespace: nginx\n":                                  "spec.networkPolicies.ingressNamespace: applies to platform \"kubernetes\" only",
		"spec:\n  platform: kubernetes\n  networkPolicies:\n    ingressNamespace: Ingress_NS\n":     `spec.networkPolicies.ingressNamespace: "Ingress_NS" is not a DNS-1123 label`,
		"spec:\n  networkPolicies:\n    enabled: yes-please\n":                                      "spec.networkPolicies.enabled: must be true or false",
		"spec:\n  models:\n  - name: a\n    endpoint: https://api.example.com\n":                    `spec.models[0].endpoint: host "api.example.com" is outside the cluster`,
		"spec:\n  models:\n  - name: a\n    authProxy: true\n":                                      "spec.models[0].authProxy: needs spec.sweep.apiKeySecret",
		"spec:\n  platform: kubernetes\n  models:\n  - name: a\n    authProxy: true\n":              "spec.models[0].authProxy: needs platform \"openshift\"",
		"spec:\n  platform: kubernetes\n  monitoring:\n    serviceMonitor: platform\n":              "spec.monitoring.serviceMonitor: \"platform\" needs platform \"openshift\"",
		"spec:\n  monitoring:\n    serviceMonitor: both\n":                                          `spec.monitoring.serviceMonitor: must be "platform"`,
		"spec:\n  sweep:\n    timeZone: Mars/Olympus\n":                                             `spec.sweep.timeZone: unknown time zone "Mars/Olympus"`,
		"spec:\n  sweep:\n    timeZone: Local\n":                                                    `spec.sweep.timeZone: "Local" is not an explicit time zone`,
		"spec:\n  sweep:\n    keepRuns: -1\n":                                                       "spec.sweep.keepRuns: must be within 1..10000",
	}
	for body, want := range cases {
		_, err := LoadConfig([]byte(header + body))
		var errs Errors
		if !errors.As(err, &errs) {
			t.Errorf("%q: want Errors, got %v", body, err)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error lacks %q:\n%v", body, want, err)
		}
	}
	_, err := LoadConfig([]byte(header + "spec:\n  namespace: X\n  models:\n  - name: a\n    gpus: 0\n  sweep:\n    stepDuration: 500ms\n"))
	var errs Errors
	if !errors.As(err, &errs) || len(errs) < 3 {
		t.Fatalf("want every problem at once, got %v", err)
	}
}

// The plan is what sweep-runner reads: it must round-trip through LoadPlan.
func TestPlanRoundTrip(t *testing.T) {
	c := mustLoad(t, "spec:\n  models:\n  - name: a\n    metricsPort: 9000\n  sweep:\n    concurrency: [2, 8]\n    apiKeySecret: k\n")
	p := c.Plan()
	if p.Spec.Targets[0].MetricsURL != "http://a-predictor.private-ai.svc.cluster.local:9000/metrics" {
		t.Errorf("metrics URL for a non-default port: %q", p.Spec.Targets[0].MetricsURL)
	}
	if p.Spec.APIKeyFile != APIKeyMountPath+"/"+APIKeyFileName {
		t.Errorf("api key file: %q", p.Spec.APIKeyFile)
	}
	b, err := marshalYAML(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := LoadPlan(b)
	if err != nil {
		t.Fatalf("LoadPlan of Plan(): %v\n%s", err, b)
	}
	if d := cmp.Diff(p, *got); d != "" {
		t.Errorf("plan round trip (-plan +loaded):\n%s", d)
	}
}

func TestDurationJSON(t *testing.T) {
	b, _ := D(90 * time.Second).MarshalJSON()
	if string(b) != `"1m30s"` {
		t.Errorf("marshal: %s", b)
	}
	var d Duration
	if err := d.UnmarshalJSON([]byte(`"2m"`)); err != nil || d.Duration != 2*time.Minute {
		t.Errorf("unmarshal: %v %v", d, err)
	}
}

// Type errors and validation errors of the rest come in one report.
func TestDecodeAndValidationErrorsTogether(t *testing.T) {
	_, err := LoadConfig([]byte(header + "spec:\n  bogus: 1\n  models:\n  - name: a\n    gpus: four\n  - name: B\n  sweep:\n    schedule: never\n    warmup: 7\n"))
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want Errors, got %v", err)
	}
	var paths []string
	for _, e := range errs {
		paths = append(paths, e.Path)
	}
	want := []string{"spec.bogus", "spec.models[0].gpus", "spec.sweep.warmup", "spec.models[1].name", "spec.sweep.schedule"}
	if d := cmp.Diff(want, paths); d != "" {
		t.Errorf("paths (-want +got):\n%s\n%v", d, err)
	}
	// A broken list element is reported once, not again as "name is required".
	_, err = LoadConfig([]byte(header + "spec:\n  models:\n  - 7\n"))
	if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Path != "spec.models[0]" {
		t.Errorf("got %v", err)
	}
}

// NetworkPolicies are on by default; the ingress namespace defaults on
// Kubernetes only; an external endpoint is fine once they are off.
func TestNetworkPolicyDefaults(t *testing.T) {
	c := mustLoad(t, "spec: {}\n")
	if !c.Spec.NetworkPolicies.On() || c.Spec.NetworkPolicies.IngressNamespace != "" {
		t.Errorf("openshift defaults: %+v", c.Spec.NetworkPolicies)
	}
	c = mustLoad(t, "spec:\n  platform: kubernetes\n")
	if !c.Spec.NetworkPolicies.On() || c.Spec.NetworkPolicies.IngressNamespace != DefaultIngressNamespace {
		t.Errorf("kubernetes defaults: %+v", c.Spec.NetworkPolicies)
	}
	c = mustLoad(t, "spec:\n  networkPolicies:\n    enabled: false\n  models:\n  - name: a\n    endpoint: https://api.example.com\n")
	if c.Spec.NetworkPolicies.On() {
		t.Error("enabled: false is ignored")
	}
}

func TestEndpointNamespace(t *testing.T) {
	for host, want := range map[string]string{
		"m-predictor":                               "ns",
		"m-predictor.other.svc":                     "other",
		"m-predictor.other.svc.cluster.local":       "other",
		"M-PREDICTOR.Other.svc.cluster.local.":      "other",
		"m.bad_ns.svc":                              "bad_ns",
		"api.example.com":                           "",
		"m-predictor.other.svc.cluster.example.com": "",
		"10.0.0.1":                                  "",
		"m-predictor.other":                         "",
	} {
		got, ok := EndpointNamespace(host, "ns")
		if got != want || ok != (want != "") {
			t.Errorf("%s: got %q %v, want %q", host, got, ok, want)
		}
	}
}

// OpenShift AI 3.0 defaults: a headless predictor Service, so the endpoint
// and /metrics are on container ports; the auth proxy on 8443 with the
// service CA; RHOAI's own ServiceMonitor reused on OpenShift only; the
// CronJob's zone and the runs kept.
func TestRHOAIDefaults(t *testing.T) {
	c := mustLoad(t, "spec:\n  models:\n  - name: a\n    authProxy: true\n  - name: b\n  sweep:\n    apiKeySecret: k\n")
	if got := c.Spec.Models[0].Endpoint; got != "https://a-predictor.private-ai.svc.cluster.local:8443" {
		t.Errorf("auth proxy endpoint: %q", got)
	}
	p := c.Plan()
	if got := p.Spec.Targets[0].MetricsURL; got != "http://a-predictor.private-ai.svc.cluster.local:8080/metrics" {
		t.Errorf("metrics behind the auth proxy come from the vLLM port: %q", got)
	}
	if got := p.Spec.Targets[1].MetricsURL; got != "http://b-predictor.private-ai.svc.cluster.local:8080/metrics" {
		t.Errorf("metrics URL: %q", got)
	}
	if p.Spec.CAFile != ServiceCAMountPath+"/service-ca.crt" {
		t.Errorf("a model behind the auth proxy needs the service CA: caFile %q", p.Spec.CAFile)
	}
	if c.Spec.Monitoring.ServiceMonitor != ServiceMonitorPlatform || c.Spec.Sweep.TimeZone != "UTC" || *c.Spec.Sweep.KeepRuns != 30 || *p.Spec.KeepRuns != 30 {
		t.Errorf("defaults: serviceMonitor %q timeZone %q keepRuns %d/%d", c.Spec.Monitoring.ServiceMonitor, c.Spec.Sweep.TimeZone, *c.Spec.Sweep.KeepRuns, *p.Spec.KeepRuns)
	}
	k := mustLoad(t, "spec:\n  platform: kubernetes\n  sweep:\n    timeZone: Europe/Paris\n    keepRuns: 3\n")
	if k.Spec.Monitoring.ServiceMonitor != ServiceMonitorOwn || k.Plan().Spec.CAFile != "" || *k.Plan().Spec.KeepRuns != 3 {
		t.Errorf("kubernetes: serviceMonitor %q caFile %q keepRuns %d", k.Spec.Monitoring.ServiceMonitor, k.Plan().Spec.CAFile, *k.Plan().Spec.KeepRuns)
	}
	// An explicit Service on port 80 (no port in the URL) keeps /metrics on it.
	e := mustLoad(t, "spec:\n  models:\n  - name: a\n    endpoint: http://vllm.private-ai.svc\n")
	if got := e.Plan().Spec.Targets[0].MetricsURL; got != "http://vllm.private-ai.svc/metrics" {
		t.Errorf("metrics URL of a port-80 Service: %q", got)
	}
}

// A model whose InferenceService autoscales says so in the plan (the
// report warns); minReplicas above maxReplicas is refused.
func TestAutoscalingModel(t *testing.T) {
	c := mustLoad(t, "spec:\n  models:\n  - {name: a, minReplicas: 1, maxReplicas: 3}\n  - {name: b, minReplicas: 2, maxReplicas: 2}\n  - {name: c}\n")
	var got []bool
	for _, tg := range c.Plan().Spec.Targets {
		got = append(got, tg.Autoscaling)
	}
	if d := cmp.Diff([]bool{true, false, false}, got); d != "" {
		t.Errorf("autoscaling (-want +got):\n%s", d)
	}
	_, err := LoadConfig([]byte(header + "spec:\n  models:\n  - {name: a, minReplicas: 3, maxReplicas: 1}\n"))
	if err == nil || !strings.Contains(err.Error(), "spec.models[0].minReplicas") {
		t.Errorf("minReplicas > maxReplicas: %v", err)
	}
}
