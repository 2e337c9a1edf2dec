package v1alpha1

import (
	"sort"

	"github.com/rhoai-demo/step07/internal/k8sname"
)

// Names, ports and commands of generated objects that more than one part of
// step07gen refers to: two generators, or a generator and the tree's
// deploy.sh. A generator package names only what no other package needs;
// what two need is here, so generators never import each other. (The block
// at the top of defaults.go holds the names the SweepPlan uses too.)

// Grafana's objects that the sweep Job, the NetworkPolicies and deploy.sh
// refer to.
const (
	// GrafanaTokenSecretName is the long-lived token Secret of Grafana's
	// ServiceAccount (OpenShift with a Thanos Querier). Its
	// cluster-monitoring-view binding is the one cluster-scoped grant; only
	// Grafana mounts the token.
	GrafanaTokenSecretName = GrafanaName + "-token"
	// GrafanaServiceCAName is the ConfigMap the service CA operator fills
	// with service-ca.crt; Grafana mounts it, and the sweep Job when a model
	// sits behind its auth proxy.
	GrafanaServiceCAName = GrafanaName + "-service-ca"
	// GrafanaProxyCookieSecret names the Secret (key session_secret, 32
	// random bytes) the user creates for the OAuth proxy: a generator without
	// randomness cannot make one. deploy.sh reminds the user of it.
	GrafanaProxyCookieSecret = GrafanaName + "-proxy-cookie"
	// GrafanaHTTPPort is Grafana's own port, GrafanaProxyPort the OAuth
	// proxy's (TLS) in front of it.
	GrafanaHTTPPort  = 3000
	GrafanaProxyPort = 8443
)

// Grafana's provisioned datasources: the dashboards bind every panel to one
// by uid (the local Prometheus holds every series they read), so no
// datasource variable can point a panel at a server without its series.
const (
	// LocalDatasourceUID is perf-prometheus, Grafana's default datasource:
	// the vLLM series at the scrape interval, DCGM at the same interval
	// (see DCGMExporterService) and the sweep results it receives by remote
	// write.
	LocalDatasourceUID = PrometheusName
	// ThanosDatasourceUID is the Thanos Querier (OpenShift): the platform
	// and user-workload Prometheus, for Explore; no generated panel reads it.
	ThanosDatasourceUID = "thanos-querier"
)

// The NVIDIA GPU operator's DCGM exporter: a Service in
// spec.monitoring.dcgmNamespace whose port gpu-metrics (9400) serves the GPU
// series. The local Prometheus discovers it (kubernetes_sd, a Role there)
// and its NetworkPolicy lets it scrape that port.
const (
	DCGMExporterService  = "nvidia-dcgm-exporter"
	DCGMExporterPortName = "gpu-metrics"
	DCGMExporterPort     = 9400
)

// ScrapesDCGMElsewhere reports whether the DCGM exporter runs outside the
// config's namespace, so that the local Prometheus needs a Role in
// spec.monitoring.dcgmNamespace (and, when its egress is restricted, an
// egress rule to that namespace). With dcgmNamespace set to the config's own
// namespace (a cluster without the GPU operator, whose namespace does not
// exist) neither is generated: the DCGM job looks for the exporter there,
// under the Prometheus Role of that namespace, and finds none.
func (c *ModelPerformanceMetrics) ScrapesDCGMElsewhere() bool {
	return c.Spec.Monitoring.DCGMNamespace != "" && c.Spec.Monitoring.DCGMNamespace != c.Spec.Namespace
}

// PrometheusDCGMRoleName names the Role and RoleBinding of the local
// Prometheus in the DCGM namespace: unique per config namespace, since two
// step-07 installs share the GPU operator's namespace. (At most 84
// characters, a valid name; its label is shortened, see kit.Labels.)
func (c *ModelPerformanceMetrics) PrometheusDCGMRoleName() string {
	return k8sname.Shorten(c.Spec.Namespace+"-"+PrometheusName+"-dcgm", k8sname.MaxDNSSubdomain)
}

// GrafanaOAuthProxy reports whether the OpenShift OAuth proxy sits in front
// of Grafana: spec.grafana.oauthProxy, on OpenShift only.
func (c *ModelPerformanceMetrics) GrafanaOAuthProxy() bool {
	return c.Spec.Grafana.OAuthProxy && c.Spec.Platform == PlatformOpenShift
}

// GrafanaServingPort is the pod port the router reaches: the OAuth proxy's
// when it is on, Grafana's otherwise.
func (c *ModelPerformanceMetrics) GrafanaServingPort() int {
	if c.GrafanaOAuthProxy() {
		return GrafanaProxyPort
	}
	return GrafanaHTTPPort
}

// GrafanaClusterRoleBindingName is unique per namespace: a cluster-scoped
// name shared by two step-07 installs would make them fight. (At most 100
// characters, well within a name's 253; its app.kubernetes.io/name label
// is shortened, see kit.Labels.)
func (c *ModelPerformanceMetrics) GrafanaClusterRoleBindingName() string {
	return k8sname.Shorten(c.Spec.Namespace+"-"+GrafanaName+"-cluster-monitoring-view", k8sname.MaxDNSSubdomain)
}

// ArgoCDApplicationName names the ArgoCD Application that syncs the tree.
const ArgoCDApplicationName = "step07-model-performance-metrics"

// OnDemandCommand starts a sweep now, outside the schedule, from the
// CronJob's template.
const OnDemandCommand = "oc create job --from=cronjob/" + SweepName + " " + SweepName + "-manual-$(date +%s)"

// The sharded sweep (spec.sweep.shards > 1): the headless Service that is
// the sweep pods' subdomain, so shard i of Job J is reachable as
// J-i.guidellm-sweep-shards, and the coordination port on which index 0
// listens and the shards talk (the Service and the sweep's NetworkPolicy).
const (
	SweepShardsServiceName = SweepName + "-shards"
	SweepCoordPortName     = "coord"
	SweepCoordPort         = 7070
)

// Labels RHOAI (KServe) puts on predictor pods and Services: the
// ServiceMonitors, the local Prometheus's relabelling and the
// NetworkPolicies select the predictors by them.
const (
	LabelInferenceService = "serving.kserve.io/inferenceservice"
	LabelKServeComponent  = "component"
	ComponentPredictor    = "predictor"
)

// Names of the dashboard ConfigMaps (and, with ".json", their data keys).
// They do not depend on the config, so Grafana mounts them by name without
// building the dashboards.
const (
	DashboardProductionName = "step07-vllm-production"
	DashboardGPUName        = "step07-gpu-infrastructure"
	DashboardComparisonName = "step07-mistral-scale-comparison"
	DashboardSweepName      = "step07-sweep-results"
)

// DashboardConfigMapNames lists the dashboard ConfigMaps, sorted.
func DashboardConfigMapNames() []string {
	out := []string{DashboardProductionName, DashboardGPUName, DashboardComparisonName, DashboardSweepName}
	sort.Strings(out)
	return out
}
