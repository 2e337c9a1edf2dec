// Package servicemonitor emits what scrapes the vLLM predictors:
//
//   - one ServiceMonitor per model (<isvc>-perf-metrics, so it never clashes
//     with the <isvc>-metrics ServiceMonitor RHOAI creates itself) selecting
//     the predictor Service by the RHOAI labels and scraping the unnamed
//     vLLM port through targetPort, at the configured scrape interval, for
//     user-workload monitoring;
//   - the local high-resolution Prometheus (perf-prometheus): ServiceAccount,
//     namespaced Role and RoleBinding (get/list/watch pods, services and
//     endpoints only), ConfigMap with prometheus.yml (kubernetes_sd of the
//     model pods, the rules ConfigMap, remote-write receiver for sweep
//     results), Deployment, Service and a PVC unless storage is emptyDir.
//
// A local Prometheus is a plain Deployment because the platform operators
// only reconcile Prometheus CRs in their own namespaces.
package servicemonitor
