// Package servicemonitor emits what lets OpenShift's user-workload
// monitoring scrape the vLLM predictors, with spec.monitoring.serviceMonitor
// own: one ServiceMonitor per model (<isvc>-perf-metrics, so it never
// clashes with the <isvc>-metrics ServiceMonitor RHOAI creates itself)
// selecting the predictor Service by the RHOAI labels and scraping the
// unnamed vLLM port through targetPort, at the configured scrape interval.
// With serviceMonitor: platform (the default on OpenShift) it emits nothing.
//
// The local high-resolution Prometheus is package prometheus.
package servicemonitor
