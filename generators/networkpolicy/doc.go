// Package networkpolicy generates the NetworkPolicies of the step-07
// workloads. Each policy selects one generated workload by its selector
// labels (name and part-of, never a version) and allows only the flows that
// workload needs:
//
//   - perf-prometheus ingress: Grafana (queries) and the sweep pods (queries
//     and remote write) on 9090. Nothing else reaches it: it has no
//     ServiceMonitor, so no platform Prometheus scrapes it, and its own
//     scrapes are egress. Egress: not restricted unless
//     spec.networkPolicies.apiServerCIDRs is set (kubernetes_sd needs the API
//     server, whose addresses differ per cluster); then the models' predictor
//     pods on their metrics ports, the DCGM exporter's namespace
//     (spec.monitoring.dcgmNamespace) on 9400, DNS and those CIDRs on
//     443/6443.
//   - perf-grafana ingress: the router (OpenShift: namespaces labelled
//     policy-group.network.openshift.io/ingress; Kubernetes: the ingress
//     controller's namespace) on the serving port only: 8443 (the OAuth
//     proxy) when spec.grafana.oauthProxy is on, 3000 otherwise. Egress is
//     not restricted: the OAuth proxy talks to the OAuth and API servers.
//   - guidellm-sweep: no ingress at all (with spec.sweep.shards > 1 only
//     the sweep's own pods, on the coordination port); egress to the
//     models' predictor pods (80, 8080, the metrics port and the endpoint
//     URL's port), to
//     the Prometheus URLs of the plan (the local Prometheus on 9090, which
//     holds GPU power too; the Thanos Querier in openshift-monitoring on
//     9091/9092 only if a plan pointed there), to DNS and, with shards,
//     to the sweep's own pods on the coordination port (7070).
//
// Ports are pod ports: NetworkPolicies are evaluated after a Service's
// port translation (80 -> 8080 on the predictor Service, 53 -> 5353 on
// OpenShift's DNS); 80 is listed for CNIs that match the Service port.
package networkpolicy
