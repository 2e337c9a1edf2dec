package dashboards

import (
	"fmt"
	"strings"

	vm "github.com/rhoai-demo/step07/api/vllmmetrics"
)

// Template variable names.
const (
	varNamespace = "namespace"
	varModel     = "model"
	varModelA    = "model_a"
	varModelB    = "model_b"
	varScenario  = "scenario"
	varRunID     = "run_id"
)

// rateWindow is Grafana's rate interval, at least four scrape intervals.
const rateWindow = "[$__rate_interval]"

// vsel is a vLLM selector for the namespace and a model matcher, e.g.
// `namespace="$namespace", model_name=~"$model"`.
func vsel(modelMatcher string) string {
	return `namespace="$namespace", model_name` + modelMatcher
}

// Model matchers.
const (
	mAll = `=~"$model"`
	mA   = `="$model_a"`
	mB   = `="$model_b"`
)

// dedup keeps one copy of each series of the same pod scraped by several jobs
// (RHOAI's <isvc>-metrics ServiceMonitor next to ours): vllmmetrics.DedupScrapes,
// the one helper the rules use too. Every selector of vLLM and DCGM series
// goes through it (via rate, gaugeOf and dcgm) before any sum or quantile.
func dedup(expr string) string { return vm.DedupScrapes(expr) }

// rate of one counter (or histogram series) in the window, one copy per pod.
func rate(metric, sel string) string {
	return dedup(fmt.Sprintf("rate(%s{%s}%s)", metric, sel, rateWindow))
}

// gaugeOf selects a gauge, one copy per pod.
func gaugeOf(metric, sel string) string {
	return dedup(fmt.Sprintf("%s{%s}", metric, sel))
}

// rateEither is the rate of the current metric name or, where a server only
// exposes the older one, of the older name. rate() and the dedup drop the
// metric name, so `or` keeps one series per label set: a server that exposes
// both names is not counted twice.
func rateEither(current, older, sel string) string {
	return fmt.Sprintf("(%s or %s)", rate(current, sel), rate(older, sel))
}

// quantile is vLLM's own dashboard form: histogram_quantile over the bucket
// rates summed by le (and the grouping labels).
func quantile(q, bucketRate, by string) string {
	return fmt.Sprintf("histogram_quantile(%s, sum by(le%s)(%s))", q, prefixComma(by), bucketRate)
}

func prefixComma(by string) string {
	if by == "" {
		return ""
	}
	return ", " + by
}

// ttftQ, itlQ, e2eQ, queueQ: quantiles of the latency histograms.
func ttftQ(q, sel, by string) string {
	return quantile(q, rate(vm.TimeToFirstTokenSeconds+"_bucket", sel), by)
}

func itlQ(q, sel, by string) string {
	return quantile(q, rateEither(vm.InterTokenLatencySeconds+"_bucket", vm.TimePerOutputTokenSeconds+"_bucket", sel), by)
}

func e2eQ(q, sel, by string) string {
	return quantile(q, rate(vm.E2ERequestLatencySeconds+"_bucket", sel), by)
}

func queueQ(q, sel, by string) string {
	return quantile(q, rate(vm.RequestQueueTimeSeconds+"_bucket", sel), by)
}

// lengthQ is a quantile of one of vLLM's per-request token histograms
// (vllmmetrics.RequestPromptTokens, RequestGenerationTokens).
func lengthQ(q, hist, sel, by string) string {
	return quantile(q, rate(hist+"_bucket", sel), by)
}

// meanOf is a histogram's mean observation in the rate window: the rate of
// its _sum over the rate of its _count, exact where a quantile is
// interpolated within a bucket.
func meanOf(hist, sel, by string) string {
	return fmt.Sprintf("sum by(%s)(%s) / sum by(%s)(%s)", by, rate(hist+"_sum", sel), by, rate(hist+"_count", sel))
}

// readingSpeed is the tokens per second a user sees while the answer streams:
// the inverse of the mean inter-token latency (V1) or time per output token
// (older vLLM).
func readingSpeed(sel, by string) string {
	return fmt.Sprintf("sum by(%s)%s / sum by(%s)%s", by,
		rateEither(vm.InterTokenLatencySeconds+"_count", vm.TimePerOutputTokenSeconds+"_count", sel), by,
		rateEither(vm.InterTokenLatencySeconds+"_sum", vm.TimePerOutputTokenSeconds+"_sum", sel))
}

// kvUsagePercent is the KV cache usage in percent, either generation.
func kvUsagePercent(sel, by string) string {
	return fmt.Sprintf("100 * max by(%s)(%s or %s)", by, gaugeOf(vm.KVCacheUsagePerc, sel), gaugeOf(vm.GPUCacheUsagePerc, sel))
}

// successPercent: requests that finished normally (stop or length) out of
// all finished requests.
func successPercent(sel, by string) string {
	return fmt.Sprintf(`100 * sum by(%s)(%s) / sum by(%s)(%s)`, by,
		rate(vm.RequestSuccessTotal, sel+`, finished_reason=~"stop|length"`), by, rate(vm.RequestSuccessTotal, sel))
}

// genTokRate is the output token throughput.
func genTokRate(sel, by string) string {
	return fmt.Sprintf("sum by(%s)(%s)", by, rate(vm.GenerationTokensTotal, sel))
}

// podRegex is the regex matching the predictor pods of a model (KServe names
// them <isvc>-predictor-...; the InferenceService name is the served model name).
func podRegex(modelVar string) string {
	return "$" + modelVar + "-predictor.*"
}

// dcgm selects a DCGM metric for the GPUs of the pods matching podRe, whether
// the pod labels arrive as pod/namespace (scraped with honorLabels, or when
// the scrape target has no pod label) or as exported_pod (OpenShift's
// platform Prometheus scraping the dcgm-exporter Service). fn wraps the
// selector (e.g. in rate()); both branches get a gpu_pod label with the
// workload pod's name. The result keeps one series per GPU: an exporter
// scraped by two jobs counts once (dedup; the GPU labels gpu, UUID and
// Hostname keep GPUs apart).
func dcgm(metric, podRe string, fn func(string) string) string {
	fn = dcgmFn(fn)
	a := fmt.Sprintf(`label_replace(%s, "gpu_pod", "$1", "exported_pod", "(.+)")`, fn(fmt.Sprintf(`%s{exported_pod=~"%s"}`, metric, podRe)))
	b := fmt.Sprintf(`label_replace(%s, "gpu_pod", "$1", "pod", "(.+)")`, fn(fmt.Sprintf(`%s{pod=~"%s"}`, metric, podRe)))
	return "(" + a + " or " + b + ")"
}

// dcgmPlain is dcgm without relabelling, for totals (sum() drops labels).
func dcgmPlain(metric, podRe string, fn func(string) string) string {
	fn = dcgmFn(fn)
	return fmt.Sprintf(`(%s or %s)`, fn(fmt.Sprintf(`%s{exported_pod=~"%s"}`, metric, podRe)),
		fn(fmt.Sprintf(`%s{pod=~"%s"}`, metric, podRe)))
}

// dcgmFn is fn (nil: the plain selector) with one copy per GPU.
func dcgmFn(fn func(string) string) func(string) string {
	return func(s string) string {
		if fn != nil {
			s = fn(s)
		}
		return dedup(s)
	}
}

func increaseFn(s string) string { return "increase(" + s + "[$__range])" }

// gpuTable is the config's GPU count per model as an instant vector, one
// series per model with the given label: the join partner for "per GPU".
func gpuTable(label string, models []gpuModel) string {
	parts := make([]string, 0, len(models))
	for _, m := range models {
		parts = append(parts, fmt.Sprintf(`label_replace(vector(%d), "%s", "%s", "", "")`, m.gpus, label, m.name))
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, " or ") + ")"
}

type gpuModel struct {
	name string
	gpus int
}
