// Package prometheus emits the local high-resolution Prometheus
// (perf-prometheus): ServiceAccount, namespaced Role and RoleBinding
// (get/list/watch pods, services and endpoints only), ConfigMap with
// prometheus.yml (kubernetes_sd of the model pods, the rules ConfigMap,
// remote-write receiver for sweep results), Deployment, Service and a PVC
// unless storage is emptyDir.
//
// It also scrapes the NVIDIA DCGM exporter (Service nvidia-dcgm-exporter,
// port gpu-metrics) in spec.monitoring.dcgmNamespace at the scrape interval,
// so that every series the dashboards and the sweep read is in this one
// Prometheus; when that namespace is not the config's, a Role and
// RoleBinding there (the same read-only verbs) let its ServiceAccount
// discover the exporter.
//
// A local Prometheus is a plain Deployment because the platform operators
// only reconcile Prometheus CRs in their own namespaces.
package prometheus
