// Package rules generates the recording rules for the SLA signals and the
// alerts on the SLA's degraded thresholds: once as a PrometheusRule for
// OpenShift user-workload monitoring, once as a Prometheus rules file in a
// ConfigMap that the local Prometheus mounts at v1alpha1.RulesMountPath.
// Both come from the same groups. Every vLLM selector goes through
// vllmmetrics.DedupScrapes, so a pod scraped by several jobs counts once.
package rules
