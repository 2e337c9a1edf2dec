// Package dashboards generates the step-07 Grafana dashboards as code with
// the Grafana Foundation SDK: one ConfigMap per dashboard, labelled for the
// provisioning sidecar/provider that step07gen mounts.
//
// Every query is written to return a series whatever vLLM generation a model
// server runs (V1 names or the older ones) and however DCGM pod labels arrive
// (pod or exported_pod), and to count a pod once when several jobs scrape it
// (vllmmetrics.DedupScrapes: RHOAI's <isvc>-metrics ServiceMonitor next to ours);
// the tests parse every query and run them against real Prometheus servers
// laid out as on the cluster (the local one and the platform's behind the
// Thanos Querier), each scraping every simulated pod under two jobs.
//
// Every panel, query and variable reads the local Prometheus by uid
// (v1alpha1.LocalDatasourceUID): it holds the vLLM and DCGM series at the
// scrape interval and the sweep results, so there is no datasource variable.
package dashboards
