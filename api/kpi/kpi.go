package kpi

import (
	"fmt"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	vm "github.com/rhoai-demo/step07/api/vllmmetrics"
)

// Names of the breaking rules, as steps record them (results.Step.Rules)
// and the simulator's ground truth reports them.
const (
	RuleTTFT    = "ttft_p95"
	RuleQueue   = "queue"
	RuleSuccess = "success"
)

// A Rule is one way a step breaks: a measure against one threshold of the
// SLA. Every value is in the rule's unit: seconds for TTFT, a share (0..1)
// of samples or requests for the queue and success.
type Rule struct {
	// Name is what a broken step records.
	Name string
	// Doc says the rule in words, for reports and docs.
	Doc string
	// Threshold reads the rule's threshold from an SLA (the effective SLA
	// of a time-scaled plan: v1alpha1.SweepSettings.EffectiveSLA).
	Threshold func(sla v1alpha1.SLA) float64
	// Above: the rule breaks above its threshold (at it too with
	// Inclusive); otherwise below it.
	Above, Inclusive bool
	// Far is where a point estimate lies far from the threshold thr: at or
	// below lo, or at or above hi (an exploring step's plain verdict).
	Far func(thr float64) (lo, hi float64)
	// Says puts the rule at threshold thr in words ("TTFT p95 > 2s").
	Says func(thr float64) string
}

// Breaks says whether a value v breaks the rule at threshold thr.
func (r Rule) Breaks(v, thr float64) bool {
	switch {
	case r.Above && r.Inclusive:
		return v >= thr
	case r.Above:
		return v > thr
	}
	return v < thr
}

// Rules are the breaking rules in the product's order (the first a step
// breaks is its Rule): TTFT p95 above the degraded threshold, requests
// waiting in at least queueFraction of the /metrics samples ("queue > 0
// consistently"), success below the degraded threshold.
var Rules = []Rule{
	{
		Name: RuleTTFT, Doc: "TTFT p95 above the degraded threshold",
		Threshold: func(sla v1alpha1.SLA) float64 { return sla.TTFT.Degraded.Seconds() },
		Above:     true,
		Far:       func(t float64) (float64, float64) { return t / 2, 2 * t },
		Says:      func(t float64) string { return "TTFT p95 > " + seconds(t) },
	},
	{
		Name: RuleQueue, Doc: "requests waiting in at least queueFraction of the /metrics samples",
		Threshold: func(sla v1alpha1.SLA) float64 { return sla.QueueFraction },
		Above:     true, Inclusive: true,
		Far: func(q float64) (float64, float64) { return q / 2, (1 + q) / 2 },
		Says: func(q float64) string {
			return fmt.Sprintf("requests wait in at least %.0f %% of the /metrics samples", q*100)
		},
	},
	{
		Name: RuleSuccess, Doc: "success rate below the degraded threshold",
		Threshold: func(sla v1alpha1.SLA) float64 { return sla.Success.Degraded / 100 },
		Far:       func(t float64) (float64, float64) { return t - (1 - t), (1 + t) / 2 },
		Says:      func(t float64) string { return fmt.Sprintf("success < %g %%", t*100) },
	},
}

// Broken returns the names of the rules a level breaks, in the product's
// order. value gives each rule's measure; ok false when the level has no
// measure for it (a rule without data neither breaks nor holds).
func Broken(sla v1alpha1.SLA, value func(rule string) (v float64, ok bool)) []string {
	var out []string
	for _, r := range Rules {
		if v, ok := value(r.Name); ok && r.Breaks(v, r.Threshold(sla)) {
			out = append(out, r.Name)
		}
	}
	return out
}

// Grades of a KPI against its SLA thresholds.
const (
	GradeExcellent  = "excellent"
	GradeAcceptable = "acceptable"
	GradeWarning    = "warning"
	GradeDegraded   = "degraded"
	GradeUnknown    = "unknown" // not measured (e.g. no /metrics), or not graded
)

// Thresholds of a graded KPI, in its unit.
type Thresholds struct{ Excellent, Acceptable, Degraded float64 }

// Where a KPI's value comes from: a percentile of one of a step's latency
// distributions (seconds), its reciprocal (a rate: tokens per second), the
// largest KV cache usage of the window (percent), or the share of finished
// requests that succeeded (percent).
const (
	FromLatency = "latency"
	FromRate    = "rate"
	FromKVCache = "kv_cache"
	FromSuccess = "success"
)

// Latency distributions a source may name (results.Latency's fields and
// vLLM's histograms of the same).
const (
	DistTTFT = "ttft"
	DistTPOT = "tpot"
	DistITL  = "itl"
	DistE2E  = "e2e"
)

// Source says where a KPI's value comes from.
type Source struct {
	// From is FromLatency, FromRate, FromKVCache or FromSuccess.
	From string
	// Dist and Quantile name the latency percentile (FromLatency,
	// FromRate); Fallback is the distribution read when Dist has no
	// sample (a rate from partial streams when no request finished).
	Dist, Fallback string
	Quantile       float64
}

// A KPI is one graded measure of a step: the report's grade columns, the
// at-SLA verdict, the SLA aim and the capacity plan iterate over KPIs.
type KPI struct {
	// Key names the KPI's grade (results.Step.Grades) and Value its value
	// (results.Step.KPIs), as steps.jsonl records them.
	Key, Value string
	// Title and Unit label it in reports ("TTFT p95", "s"); Short heads
	// its grade in the Markdown report's grades column ("TTFT"); Format
	// writes its value in a report cell (fmt; empty for seconds, written
	// as ms or s).
	Title, Unit, Short, Format string
	// Describe names it where the report states the SLA ("reading speed
	// (1/TPOT p95)"); Title when empty.
	Describe string
	// Higher: higher is better (a rate, success); else lower is better.
	Higher bool
	Source Source
	// Thresholds reads its thresholds from an SLA (the effective SLA of a
	// time-scaled plan); ok false when the SLA leaves it ungraded.
	Thresholds func(sla v1alpha1.SLA) (t Thresholds, ok bool)
	// Panel is its stat panel in the production dashboard's SLA row, read
	// live from vLLM's metrics (nil: only the sweep measures it).
	Panel *Panel
	// Alert is its alerting rule on the same live series, firing past the
	// degraded threshold (nil: no alert).
	Alert *Alert
}

// Alert is a KPI's alerting rule: its name (the runbook's heading in
// docs/alerts.md), severity and annotations. The rules generator builds
// the recording rule and the expression from the KPI's Source.
type Alert struct {
	Name, Severity, Summary string
	// Desc is the description, a fmt format: %[1]s is the degraded
	// threshold as the report writes it ("2s", "95"), %[2]s the hold time,
	// %[3]s the rate window.
	Desc string
}

// Panel is a KPI's production dashboard panel: its title and description
// (the query follows from its Source).
type Panel struct{ Title, Desc string }

// Grade grades v against t: excellent at or better than Excellent,
// acceptable at or better than Acceptable, a warning at or better than
// Degraded, else degraded.
func (k KPI) Grade(v float64, t Thresholds) string {
	better := func(a, b float64) bool { return a <= b }
	if k.Higher {
		better = func(a, b float64) bool { return a >= b }
	}
	switch {
	case better(v, t.Excellent):
		return GradeExcellent
	case better(v, t.Acceptable):
		return GradeAcceptable
	case better(v, t.Degraded):
		return GradeWarning
	}
	return GradeDegraded
}

// Within says whether v is at or better than threshold thr.
func (k KPI) Within(v, thr float64) bool {
	if k.Higher {
		return v >= thr
	}
	return v <= thr
}

func durations(d v1alpha1.DurationThresholds) (Thresholds, bool) {
	return Thresholds{d.Excellent.Seconds(), d.Acceptable.Seconds(), d.Degraded.Seconds()}, d != (v1alpha1.DurationThresholds{})
}

func floats(f v1alpha1.FloatThresholds) (Thresholds, bool) {
	return Thresholds{f.Excellent, f.Acceptable, f.Degraded}, f != (v1alpha1.FloatThresholds{})
}

// Keys of the graded KPIs that code outside the table names (the report's
// TTFT cell with its interval, the capacity plan's TTFT at SLA).
const (
	KeyTTFT         = "ttft"
	KeyReadingSpeed = "reading_speed"
	KeyKVCache      = "kv_cache"
	KeySuccess      = "success"
)

// ByKey is the graded KPI of a key; ok false for none.
func ByKey(key string) (KPI, bool) {
	for _, k := range KPIs {
		if k.Key == key {
			return k, true
		}
	}
	return KPI{}, false
}

// Graded are the KPIs an SLA grades (its thresholds set), with them.
func Graded(sla v1alpha1.SLA) []GradedKPI {
	var out []GradedKPI
	for _, k := range KPIs {
		if t, ok := k.Thresholds(sla); ok {
			out = append(out, GradedKPI{k, t})
		}
	}
	return out
}

// GradedKPI is a KPI with the thresholds it is graded by.
type GradedKPI struct {
	KPI
	T Thresholds
}

// KPIs are the graded KPIs, in the reports' column order.
var KPIs = []KPI{
	{
		Key: KeyTTFT, Value: "ttft_p95_seconds", Title: "TTFT p95", Unit: "s", Short: "TTFT",
		Source:     Source{From: FromLatency, Dist: DistTTFT, Quantile: 0.95},
		Thresholds: func(s v1alpha1.SLA) (Thresholds, bool) { return durations(s.TTFT) },
		Panel: &Panel{Title: "TTFT p95", Desc: "95th percentile time to first token per model over the rate window. Time to first token: request arrival to the first generated token, from vLLM's histogram " +
			vm.TimeToFirstTokenSeconds + ". SLA colours from the config (excellent/acceptable/degraded)."},
		Alert: &Alert{Name: "VLLMTimeToFirstTokenP95Degraded", Severity: "critical",
			Summary: "TTFT p95 of {{ $labels.model_name }} is above the degraded threshold",
			Desc:    "Time to first token p95 of {{ $labels.model_name }} in {{ $labels.namespace }} is {{ $value | humanizeDuration }}, above the SLA's degraded threshold of %[1]s for %[2]s: users wait too long for the first token."},
	},
	{
		// 1 / TPOT p95: the output tokens per second that 95 % of users
		// read at or above; 1 / ITL p95 of the partial streams when no
		// request finished within the step.
		Key: KeyReadingSpeed, Value: "reading_speed_tokens_per_second", Title: "reading speed", Describe: "reading speed (1/TPOT p95)", Unit: "tok/s", Short: "read", Format: "%.1f tok/s", Higher: true,
		Source:     Source{From: FromRate, Dist: DistTPOT, Fallback: DistITL, Quantile: 0.95},
		Thresholds: func(s v1alpha1.SLA) (Thresholds, bool) { return floats(s.ReadingSpeed) },
		Panel: &Panel{Title: "Reading speed", Desc: "Tokens per second a user sees while the answer streams: 1 / mean inter-token latency (" +
			vm.InterTokenLatencySeconds + ", or " + vm.TimePerOutputTokenSeconds + " on older vLLM). Higher is better; SLA colours from the config."},
		Alert: &Alert{Name: "VLLMReadingSpeedDegraded", Severity: "warning",
			Summary: "Reading speed of {{ $labels.model_name }} is below the degraded threshold",
			Desc:    "Tokens per second per streaming request of {{ $labels.model_name }} in {{ $labels.namespace }} is {{ $value | humanize }}, below the SLA's degraded threshold of %[1]s tok/s for %[2]s."},
	},
	{
		Key: KeyKVCache, Value: "kv_cache_max_percent", Title: "KV cache max", Unit: "%", Short: "KV", Format: "%.0f %%",
		Source:     Source{From: FromKVCache},
		Thresholds: func(s v1alpha1.SLA) (Thresholds, bool) { return floats(s.KVCache) },
		Panel: &Panel{Title: "KV cache usage", Desc: "GPU KV cache usage per model (" + vm.KVCacheUsagePerc + ", or " + vm.GPUCacheUsagePerc +
			" on older vLLM). Near 100 % the scheduler preempts requests; SLA colours from the config."},
		Alert: &Alert{Name: "VLLMKVCacheNearlyFull", Severity: "warning",
			Summary: "KV cache of {{ $labels.model_name }} is nearly full",
			Desc:    "KV cache usage of {{ $labels.model_name }} in {{ $labels.namespace }} is {{ $value | humanizePercentage }}, above the SLA's degraded threshold of %[1]s %% for %[2]s: vLLM preempts requests and latency climbs."},
	},
	{
		// The longest gaps between tokens: the stalls 1 % of tokens see
		// (graded only when spec.sweep.sla.itlP99 is set).
		Key: "itl_p99", Value: "itl_p99_seconds", Title: "ITL p99", Unit: "s", Short: "ITL99",
		Source:     Source{From: FromLatency, Dist: DistITL, Quantile: 0.99},
		Thresholds: func(s v1alpha1.SLA) (Thresholds, bool) { return durations(s.ITLP99) },
		Panel: &Panel{Title: "ITL p99", Desc: "99th percentile inter-token latency per model over the rate window (" + vm.InterTokenLatencySeconds + ", or " +
			vm.TimePerOutputTokenSeconds + " on older vLLM): the stalls 1 % of tokens see. SLA colours from the config."},
		Alert: &Alert{Name: "VLLMInterTokenLatencyP99Degraded", Severity: "warning",
			Summary: "ITL p99 of {{ $labels.model_name }} is above the degraded threshold",
			Desc:    "Inter-token latency p99 of {{ $labels.model_name }} in {{ $labels.namespace }} is {{ $value | humanizeDuration }}, above the SLA's degraded threshold of %[1]s for %[2]s: streams stall between tokens."},
	},
	{
		Key: KeySuccess, Value: "success_percent", Title: "success", Unit: "%", Short: "succ", Format: "%.1f %%", Higher: true,
		Source:     Source{From: FromSuccess},
		Thresholds: func(s v1alpha1.SLA) (Thresholds, bool) { return floats(s.Success) },
		Panel: &Panel{Title: "Success rate", Desc: "Share of finished requests that ended normally (finished_reason stop or length) out of all finished requests (also abort, error), from " +
			vm.RequestSuccessTotal + ". SLA colours from the config."},
		Alert: &Alert{Name: "VLLMSuccessRateDegraded", Severity: "critical",
			Summary: "Success rate of {{ $labels.model_name }} is below the degraded threshold",
			Desc:    "Only {{ $value | humanizePercentage }} of the requests finished by {{ $labels.model_name }} in {{ $labels.namespace }} ended normally (stop or length) over %[3]s, below the SLA's degraded threshold of %[1]s %%, for %[2]s."},
	},
}

// seconds writes a threshold in seconds as a Go duration ("200ms", "2s").
func seconds(v float64) string { return time.Duration(v * float64(time.Second)).String() }

// States puts a graded KPI's thresholds in words, as the report states the
// SLA: "TTFT p95 200ms / 800ms / 2s", "success 100 / 99 / 95 %".
func (g GradedKPI) States() string {
	name := g.Describe
	if name == "" {
		name = g.Title
	}
	t := g.Texts()
	if g.Unit == "s" {
		return fmt.Sprintf("%s %s / %s / %s", name, t[0], t[1], t[2])
	}
	return fmt.Sprintf("%s %s / %s / %s %s", name, t[0], t[1], t[2], g.Unit)
}

// Texts are its excellent, acceptable and degraded thresholds as written
// in reports: durations for seconds ("200ms"), else numbers ("50").
func (g GradedKPI) Texts() [3]string {
	out := [3]string{}
	for i, v := range []float64{g.T.Excellent, g.T.Acceptable, g.T.Degraded} {
		if g.Unit == "s" {
			out[i] = seconds(v)
		} else {
			out[i] = fmt.Sprintf("%g", v)
		}
	}
	return out
}
