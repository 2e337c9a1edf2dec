package vllmsim

import (
	"github.com/prometheus/client_golang/prometheus"
	"time"

	vm "github.com/rhoai-demo/step07/api/vllmmetrics"
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

// lengthBuckets are the buckets of vLLM's per-request token histograms
// (request_prompt_tokens, request_generation_tokens): its
// build_1_2_5_buckets(max_model_len), 1, 2, 5, 10, 20, 50, ... while not
// above maxModelLen, so a server's buckets depend on its max-model-len as
// vLLM's do.
func lengthBuckets(maxModelLen int) []float64 {
	var b []float64
	for p := 1.0; ; p *= 10 { // float64: no overflow for any int
		for _, m := range []float64{1, 2, 5} {
			if m*p > float64(maxModelLen) {
				return b
			}
			b = append(b, m*p)
		}
	}
}

// Metric names the simulator serves, V1 first; the older names replace the
// renamed ones under MetricsCompat "v0" (vllmmetrics.Names, NamesOlder).
var (
	MetricNamesV1 = vm.Names
	MetricNamesV0 = vm.NamesOlder
)

// metrics are the engine's vLLM series in a private registry.
type metrics struct {
	reg                                                *prometheus.Registry
	ttft, itl, e2e, queueTime, prefillTime, decodeTime prometheus.Observer
	reqPromptTokens, reqGenerationTokens               prometheus.Observer
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
	labels := prometheus.Labels{vm.LabelModelName: cfg.Model}
	if !v0 {
		labels[vm.LabelEngine] = "0"
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
	// The server's start, as a vLLM process exports its own start time
	// (process_start_time_seconds, without the model's labels): a client
	// sees a restart of the server in it. The simulated server's start
	// rather than the OS process's, so an in-process server made anew is a
	// restart too.
	started := float64(time.Now().UnixNano()) / 1e9
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "process_start_time_seconds", Help: "Start time of the server since unix epoch in seconds."},
		func() float64 { return started }))
	gauge(vm.NumRequestsRunning, "Number of requests in model execution batches.", g.running)
	gauge(vm.NumRequestsWaiting, "Number of requests waiting to be processed.", g.waiting)
	gauge(name(vm.KVCacheUsagePerc, vm.GPUCacheUsagePerc), "KV-cache usage. 1 means 100 percent usage.", g.kvUsage)
	m.ttft = hist(vm.TimeToFirstTokenSeconds, "Histogram of time to first token in seconds.", ttftBuckets)
	m.itl = hist(name(vm.InterTokenLatencySeconds, vm.TimePerOutputTokenSeconds),
		name("Histogram of inter-token latency in seconds.", "Histogram of time per output token in seconds."), itlBuckets)
	m.e2e = hist(vm.E2ERequestLatencySeconds, "Histogram of e2e request latency in seconds.", requestLatencyBuckets)
	m.queueTime = hist(vm.RequestQueueTimeSeconds, "Histogram of time spent in WAITING phase for request.", requestLatencyBuckets)
	m.prefillTime = hist(vm.RequestPrefillTimeSeconds, "Histogram of time spent in PREFILL phase for request.", requestLatencyBuckets)
	m.decodeTime = hist(vm.RequestDecodeTimeSeconds, "Histogram of time spent in DECODE phase for request.", requestLatencyBuckets)
	m.reqPromptTokens = hist(vm.RequestPromptTokens, "Number of prefill tokens processed.", lengthBuckets(cfg.MaxModelLen))
	m.reqGenerationTokens = hist(vm.RequestGenerationTokens, "Number of generation tokens processed.", lengthBuckets(cfg.MaxModelLen))
	m.promptTokens = counter(vm.PromptTokensTotal, "Number of prefill tokens processed.")
	m.generationTokens = counter(vm.GenerationTokensTotal, "Number of generation tokens processed.")
	m.preemptions = counter(vm.NumPreemptionsTotal, "Cumulative number of preemption from the engine.")
	m.prefixQueries = counter(name(vm.PrefixCacheQueriesTotal, vm.GPUPrefixCacheQueriesTotal),
		"Prefix cache queries, in terms of number of queried tokens.")
	m.prefixHits = counter(name(vm.PrefixCacheHitsTotal, vm.GPUPrefixCacheHitsTotal),
		"Prefix cache hits, in terms of number of cached tokens.")
	m.success = prometheus.NewCounterVec(prometheus.CounterOpts{Name: vm.RequestSuccessTotal,
		Help: "Count of successfully processed requests.", ConstLabels: labels}, []string{vm.LabelFinishedReason})
	reg.MustRegister(m.success)
	for _, r := range []string{ReasonStop, ReasonLength, ReasonAbort, ReasonError} {
		m.success.WithLabelValues(r) // every reason exists from the start, as in vLLM
	}
	return m
}
