package v1alpha1

import "sort"

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
	// cluster-monitoring-view binding is the one cluster-scoped grant; the
	// sweep Job mounts the token to read GPU power from the Thanos Querier.
	GrafanaTokenSecretName = GrafanaName + "-token"
	// GrafanaServiceCAName is the ConfigMap the service CA operator fills
	// with service-ca.crt; Grafana and the sweep Job mount it.
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
// name shared by two step-07 installs would make them fight.
func (c *ModelPerformanceMetrics) GrafanaClusterRoleBindingName() string {
	return c.Spec.Namespace + "-" + GrafanaName + "-cluster-monitoring-view"
}

// ArgoCDApplicationName names the ArgoCD Application that syncs the tree.
const ArgoCDApplicationName = "step07-model-performance-metrics"

// OnDemandCommand starts a sweep now, outside the schedule, from the
// CronJob's template.
const OnDemandCommand = "oc create job --from=cronjob/" + SweepName + " " + SweepName + "-manual-$(date +%s)"

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
