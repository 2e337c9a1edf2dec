// Package vllmmetrics names, once, the Prometheus series a vLLM model server
// exposes at /metrics and the NVIDIA DCGM exporter exposes for its GPUs:
// the names the Grafana dashboards and the recording rules query, the
// sweep-runner scrapes (server gauges and TTFT) and asks Prometheus for
// (GPU power), and the simulator (vllmsim) serves. Changing a name here
// changes every side together. The sweep's own series are in
// api/sweepmetrics.
//
// # vLLM generations
//
// vLLM V1 (the default engine since 0.8) names its series as the constants
// without a suffix; every series carries the label model_name and, in V1,
// engine ("0" with one engine). Three names changed during V1; a query that
// must work whatever version a model server runs asks for both names (e.g.
// `vllm:kv_cache_usage_perc or vllm:gpu_cache_usage_perc`):
//
//	current (V1)                      older (V0 and early V1)              older name
//	KVCacheUsagePerc                  GPUCacheUsagePerc                    deprecated 0.9.2, gone ~0.12
//	InterTokenLatencySeconds          TimePerOutputTokenSeconds            deprecated 0.11, gone ~0.13
//	PrefixCache{Queries,Hits}Total    GPUPrefixCache{Queries,Hits}Total    older vLLM only
//
// Names and Renamed list them. Histograms are named by their base name
// (series _bucket, _sum and _count); counters by the exposed name, _total
// included.
//
// # Scraped twice
//
// On OpenShift AI 3.0 a vLLM pod may be scraped by two jobs (RHOAI's
// <isvc>-metrics ServiceMonitor next to ours): DedupScrapes is the PromQL
// wrapper that counts such a pod once.
package vllmmetrics
