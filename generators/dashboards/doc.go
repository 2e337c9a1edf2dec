// Package dashboards generates the step-07 Grafana dashboards as code with
// the Grafana Foundation SDK: one ConfigMap per dashboard, labelled for the
// provisioning sidecar/provider that step07gen mounts.
//
// Every query is written to return a series whatever vLLM generation a model
// server runs (V1 names or the older ones) and however DCGM pod labels arrive
// (pod or exported_pod), and to count a pod once when several jobs scrape it
// (vllmmetrics.DedupScrapes: RHOAI's <isvc>-metrics ServiceMonitor next to ours);
// the tests parse every query and run them against a real Prometheus that
// scrapes every simulated pod under two jobs.
package dashboards
