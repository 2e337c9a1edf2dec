// Package prometheus emits the local high-resolution Prometheus
// (perf-prometheus): ServiceAccount, namespaced Role and RoleBinding
// (get/list/watch pods, services and endpoints only), ConfigMap with
// prometheus.yml (kubernetes_sd of the model pods, the rules ConfigMap,
// remote-write receiver for sweep results), Deployment, Service and a PVC
// unless storage is emptyDir.
//
// A local Prometheus is a plain Deployment because the platform operators
// only reconcile Prometheus CRs in their own namespaces.
package prometheus
