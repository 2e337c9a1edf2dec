package vllmsim

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Histogram buckets of vLLM V1 (vllm/v1/metrics/loggers.py).
var (
	ttftBuckets = []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0,
		2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0}
	itlBuckets = []float64{0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0,
		2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0}
	requestLatencyBuckets = []float64{0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0,
		30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0}
)

// Metric names the simulator serves, V1 first; the v0 names replace the
// three renamed ones under MetricsCompat "v0".
var (
	MetricNamesV1 = []string{
		"vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc",
		"vllm:time_to_first_token_seconds", "vllm:inter_token_latency_seconds",
		"vllm:e2e_request_latency_seconds", "vllm:request_queue_time_seconds",
		"vllm:request_prefill_time_seconds", "vllm:request_decode_time_seconds",
		"vllm:prompt_tokens_total", "vllm:generation_tokens_total", "vllm:request_success_total",
		"vllm:num_preemptions_total", "vllm:prefix_cache_queries_total", "vllm:prefix_cache_hits_total",
	}
	MetricNamesV0 = []string{
		"vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:gpu_cache_usage_perc",
		"vllm:time_to_first_token_seconds", "vllm:time_per_output_token_seconds",
		"vllm:e2e_request_latency_seconds", "vllm:request_queue_time_seconds",
		"vllm:request_prefill_time_seconds", "vllm:request_decode_time_seconds",
		"vllm:prompt_tokens_total", "vllm:generation_tokens_total", "vllm:request_success_total",
		"vllm:num_preemptions_total", "vllm:gpu_prefix_cache_queries_total", "vllm:gpu_prefix_cache_hits_total",
	}
)

// metrics are the engine's vLLM series in a private registry.
type metrics struct {
	reg                                                *prometheus.Registry
	ttft, itl, e2e, queueTime, prefillTime, decodeTime prometheus.Observer
	promptTokens, generationTokens, preemptions        prometheus.Counter
	prefixQueries, prefixHits                          prometheus.Counter
	success                                            *prometheus.CounterVec
}

// gauges reads the scheduler's state at scrape time.
type gauges interface {
	running() float64
	waiting() float64
	kvUsage() float64
}

func newMetrics(cfg Config, g gauges) *metrics {
	v0 := cfg.MetricsCompat == "v0"
	labels := prometheus.Labels{"model_name": cfg.Model}
	if !v0 {
		labels["engine"] = "0"
	}
	name := func(v1, old string) string {
		if v0 {
			return old
		}
		return v1
	}
	reg := prometheus.NewRegistry()
	hist := func(n, help string, b []float64) prometheus.Histogram {
		h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: n, Help: help, Buckets: b, ConstLabels: labels})
		reg.MustRegister(h)
		return h
	}
	counter := func(n, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: n, Help: help, ConstLabels: labels})
		reg.MustRegister(c)
		return c
	}
	gauge := func(n, help string, f func() float64) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: n, Help: help, ConstLabels: labels}, f))
	}
	m := &metrics{reg: reg}
	gauge("vllm:num_requests_running", "Number of requests in model execution batches.", g.running)
	gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", g.waiting)
	gauge(name("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"), "KV-cache usage. 1 means 100 percent usage.", g.kvUsage)
	m.ttft = hist("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", ttftBuckets)
	m.itl = hist(name("vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"),
		name("Histogram of inter-token latency in seconds.", "Histogram of time per output token in seconds."), itlBuckets)
	m.e2e = hist("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", requestLatencyBuckets)
	m.queueTime = hist("vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", requestLatencyBuckets)
	m.prefillTime = hist("vllm:request_prefill_time_seconds", "Histogram of time spent in PREFILL phase for request.", requestLatencyBuckets)
	m.decodeTime = hist("vllm:request_decode_time_seconds", "Histogram of time spent in DECODE phase for request.", requestLatencyBuckets)
	m.promptTokens = counter("vllm:prompt_tokens_total", "Number of prefill tokens processed.")
	m.generationTokens = counter("vllm:generation_tokens_total", "Number of generation tokens processed.")
	m.preemptions = counter("vllm:num_preemptions_total", "Cumulative number of preemption from the engine.")
	m.prefixQueries = counter(name("vllm:prefix_cache_queries_total", "vllm:gpu_prefix_cache_queries_total"),
		"Prefix cache queries, in terms of number of queried tokens.")
	m.prefixHits = counter(name("vllm:prefix_cache_hits_total", "vllm:gpu_prefix_cache_hits_total"),
		"Prefix cache hits, in terms of number of cached tokens.")
	m.success = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vllm:request_success_total",
		Help: "Count of successfully processed requests.", ConstLabels: labels}, []string{"finished_reason"})
	reg.MustRegister(m.success)
	for _, r := range []string{ReasonStop, ReasonLength, ReasonAbort, ReasonError} {
		m.success.WithLabelValues(r) // every reason exists from the start, as in vLLM
	}
	return m
}
