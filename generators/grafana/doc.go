// Package grafana emits the Grafana instance that shows the step-07
// dashboards: ServiceAccount; on OpenShift its long-lived token Secret, a
// ClusterRoleBinding to cluster-monitoring-view (so it may query Thanos
// Querier) and the service-CA ConfigMap; the datasources ConfigMap (the
// local Prometheus as default with timeInterval = scrape interval, the one
// every dashboard panel reads; Thanos Querier, for Explore, with the bearer
// token from the environment); the dashboard
// provider ConfigMap; the Deployment (emptyDir /var/lib/grafana, admin
// credentials from the user's Secret, anonymous access off, every dashboard
// ConfigMap mounted through one projected volume); the Service; and a Route
// with edge TLS on OpenShift or an Ingress on plain Kubernetes.
package grafana
