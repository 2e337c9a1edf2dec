package vllmmetrics

// Labels of the vLLM series.
const (
	// LabelModelName is the served model name (V0 and V1).
	LabelModelName = "model_name"
	// LabelEngine is the engine index (V1 only; "0" with one engine).
	LabelEngine = "engine"
	// LabelFinishedReason of RequestSuccessTotal: stop, length, abort, error.
	LabelFinishedReason = "finished_reason"
)

// vLLM gauges.
const (
	// NumRequestsRunning is the number of requests in model execution batches.
	NumRequestsRunning = "vllm:num_requests_running"
	// NumRequestsWaiting is the number of requests waiting to be scheduled.
	NumRequestsWaiting = "vllm:num_requests_waiting"
	// KVCacheUsagePerc is the KV cache usage, 0..1 (V1).
	KVCacheUsagePerc = "vllm:kv_cache_usage_perc"
	// GPUCacheUsagePerc is the older name of KVCacheUsagePerc (V0 and V1
	// before 0.12; deprecated in 0.9.2).
	GPUCacheUsagePerc = "vllm:gpu_cache_usage_perc"
)

// vLLM histograms (base names: the series add _bucket, _sum and _count).
const (
	// TimeToFirstTokenSeconds: request arrival to the first generated token.
	TimeToFirstTokenSeconds = "vllm:time_to_first_token_seconds"
	// InterTokenLatencySeconds: time between two output tokens of a request (V1).
	InterTokenLatencySeconds = "vllm:inter_token_latency_seconds"
	// TimePerOutputTokenSeconds is the older name of InterTokenLatencySeconds
	// (V0 and V1 before 0.13; deprecated in 0.11).
	TimePerOutputTokenSeconds = "vllm:time_per_output_token_seconds"
	// E2ERequestLatencySeconds: whole request latency, queue time included.
	E2ERequestLatencySeconds = "vllm:e2e_request_latency_seconds"
	// RequestQueueTimeSeconds: time in the WAITING phase.
	RequestQueueTimeSeconds = "vllm:request_queue_time_seconds"
	// RequestPrefillTimeSeconds: time in the PREFILL phase.
	RequestPrefillTimeSeconds = "vllm:request_prefill_time_seconds"
	// RequestDecodeTimeSeconds: time in the DECODE phase.
	RequestDecodeTimeSeconds = "vllm:request_decode_time_seconds"
	// RequestPromptTokens: prompt tokens of each finished request, as the
	// server counted them (its /tokenize and usage.prompt_tokens). Buckets
	// 1, 2, 5, 10, 20, 50, ... up to max-model-len (vLLM's
	// build_1_2_5_buckets); same name in V0 and V1.
	RequestPromptTokens = "vllm:request_prompt_tokens"
	// RequestGenerationTokens: generated tokens of each finished request,
	// buckets as RequestPromptTokens.
	RequestGenerationTokens = "vllm:request_generation_tokens"
)

// vLLM counters (exposed names, _total included).
const (
	// PromptTokensTotal counts prefill tokens processed.
	PromptTokensTotal = "vllm:prompt_tokens_total"
	// GenerationTokensTotal counts generated (output) tokens.
	GenerationTokensTotal = "vllm:generation_tokens_total"
	// RequestSuccessTotal counts finished requests by LabelFinishedReason.
	RequestSuccessTotal = "vllm:request_success_total"
	// NumPreemptionsTotal counts preempted (evicted and recomputed) requests.
	NumPreemptionsTotal = "vllm:num_preemptions_total"
	// PrefixCacheQueriesTotal counts prefix cache queries, in tokens (V1).
	PrefixCacheQueriesTotal = "vllm:prefix_cache_queries_total"
	// PrefixCacheHitsTotal counts prefix cache hits, in tokens (V1).
	PrefixCacheHitsTotal = "vllm:prefix_cache_hits_total"
	// GPUPrefixCacheQueriesTotal is the older name of PrefixCacheQueriesTotal.
	GPUPrefixCacheQueriesTotal = "vllm:gpu_prefix_cache_queries_total"
	// GPUPrefixCacheHitsTotal is the older name of PrefixCacheHitsTotal.
	GPUPrefixCacheHitsTotal = "vllm:gpu_prefix_cache_hits_total"
)

// Rename is a series whose name changed: Current is V1's, Older the name
// of V0 and of V1 before the change.
type Rename struct{ Current, Older string }

// Renamed lists the renamed series.
var Renamed = []Rename{
	{KVCacheUsagePerc, GPUCacheUsagePerc},
	{InterTokenLatencySeconds, TimePerOutputTokenSeconds},
	{PrefixCacheQueriesTotal, GPUPrefixCacheQueriesTotal},
	{PrefixCacheHitsTotal, GPUPrefixCacheHitsTotal},
}

// Names are the series of a current (V1) vLLM server, as the simulator
// serves them.
var Names = []string{
	NumRequestsRunning, NumRequestsWaiting, KVCacheUsagePerc,
	TimeToFirstTokenSeconds, InterTokenLatencySeconds,
	E2ERequestLatencySeconds, RequestQueueTimeSeconds,
	RequestPrefillTimeSeconds, RequestDecodeTimeSeconds,
	RequestPromptTokens, RequestGenerationTokens,
	PromptTokensTotal, GenerationTokensTotal, RequestSuccessTotal,
	NumPreemptionsTotal, PrefixCacheQueriesTotal, PrefixCacheHitsTotal,
}

// NamesOlder are the same series under the older names (V0, early V1): Names
// with every Renamed entry's Current replaced by its Older.
var NamesOlder = []string{
	NumRequestsRunning, NumRequestsWaiting, GPUCacheUsagePerc,
	TimeToFirstTokenSeconds, TimePerOutputTokenSeconds,
	E2ERequestLatencySeconds, RequestQueueTimeSeconds,
	RequestPrefillTimeSeconds, RequestDecodeTimeSeconds,
	RequestPromptTokens, RequestGenerationTokens,
	PromptTokensTotal, GenerationTokensTotal, RequestSuccessTotal,
	NumPreemptionsTotal, GPUPrefixCacheQueriesTotal, GPUPrefixCacheHitsTotal,
}

// NVIDIA DCGM exporter series of a GPU, labelled gpu, UUID, modelName,
// Hostname and the pod, namespace and container holding the GPU (exported_pod,
// exported_namespace, exported_container when scraped without honorLabels).
const (
	// DCGMPowerUsage is the power draw in W (gauge).
	DCGMPowerUsage = "DCGM_FI_DEV_POWER_USAGE"
	// DCGMTotalEnergyConsumption is the energy since boot in mJ (counter).
	DCGMTotalEnergyConsumption = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"
	// DCGMFBUsed is the framebuffer memory in use, MiB.
	DCGMFBUsed = "DCGM_FI_DEV_FB_USED"
	// DCGMFBFree is the framebuffer memory free, MiB.
	DCGMFBFree = "DCGM_FI_DEV_FB_FREE"
	// DCGMGPUUtil is the coarse utilisation in % (time a kernel ran).
	DCGMGPUUtil = "DCGM_FI_DEV_GPU_UTIL"
	// DCGMGREngineActive is the fraction of time the graphics/compute
	// engine was active, 0..1: the better utilisation signal.
	DCGMGREngineActive = "DCGM_FI_PROF_GR_ENGINE_ACTIVE"
	// DCGMGPUTemp is the GPU temperature in °C.
	DCGMGPUTemp = "DCGM_FI_DEV_GPU_TEMP"
	// DCGMSMClock is the streaming multiprocessor clock in MHz.
	DCGMSMClock = "DCGM_FI_DEV_SM_CLOCK"
)

// ScrapeLabels are the labels in which the copies of one pod's series differ
// when several scrape jobs read the same pod: the job, the Service and port
// of a ServiceMonitor, and the scraped address.
const ScrapeLabels = "job, service, endpoint, instance"

// DedupScrapes keeps one copy of each series of expr (a selector, or rate()
// of one) where several jobs scrape the same pod. On OpenShift AI 3.0
// odh-model-controller creates a Service and ServiceMonitor <isvc>-metrics
// for every vLLM InferenceService; next to ours (serviceMonitor: own) every
// vLLM series then exists twice, differing only in ScrapeLabels, and a plain
// sum() or histogram_quantile() counts it twice. max without() those labels
// collapses the copies (equal values, or rates a scrape phase apart) before
// any sum or quantile. instance goes too, since two scrape configs may reach
// one pod at different addresses, so series identity rests on namespace and
// pod (set by every scrape config this project generates or expects: the
// ServiceMonitors, the local Prometheus's kubernetes_sd relabelling, the
// tests' static targets) plus the metric's own labels (model_name, engine,
// le, finished_reason): distinct pods and engines stay apart. Every query of
// the rules and dashboards over vLLM series (and DCGM series) goes through it.
func DedupScrapes(expr string) string {
	return "max without(" + ScrapeLabels + ")(" + expr + ")"
}
