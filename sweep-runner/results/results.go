package results

import (
	"encoding/json"
	"github.com/rhoai-demo/step07/api/kpi"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
)

// SchemaVersion of Step and Summary; bumped on incompatible changes.
// Version 2 added steady_state, confidence, censored and the tail counts
// (a version-1 line reads with those empty).
const SchemaVersion = 2

// File names inside a run directory.
const (
	PlanFile    = "plan.yaml"
	RunFile     = "run.json"
	StepsFile   = "steps.jsonl"
	SummaryJSON = "summary.json"
	SummaryCSV  = "summary.csv"
	ReportMD    = "report.md"
)

// Run statuses.
const (
	StatusRunning     = "running"
	StatusComplete    = "complete"
	StatusInterrupted = "interrupted"
	StatusFailed      = "failed"
)

// Breaking-point rules, in the order they are checked: the names of
// kpi.Rules (defined there once), and a step that got no token at all.
const (
	RuleTTFT       = kpi.RuleTTFT
	RuleQueue      = kpi.RuleQueue
	RuleSuccess    = kpi.RuleSuccess
	RuleNoResponse = "no_response" // requests started but none produced a token
)

// Grades of a KPI against the SLA table (kpi's, defined there once).
const (
	GradeExcellent  = kpi.GradeExcellent
	GradeAcceptable = kpi.GradeAcceptable
	GradeWarning    = kpi.GradeWarning
	GradeDegraded   = kpi.GradeDegraded
	GradeUnknown    = kpi.GradeUnknown
)

// Error kinds counted in Step.Errors. HTTP status errors are "http_<code>".
const (
	ErrTimeout        = "timeout"         // the per-request timeout expired
	ErrConnect        = "connect"         // could not connect or send the request
	ErrBrokenStream   = "broken_stream"   // the stream ended without [DONE] or the connection broke
	ErrMalformedChunk = "malformed_chunk" // a chunk that is not valid JSON of the expected shape
	ErrStreamError    = "stream_error"    // the server sent an error object inside the stream
	ErrStalled        = "stalled"         // cut at the step's end after sending nothing for longer than the degraded TTFT
	// A server's answer past one of the client's limits (a line, an event,
	// the headers, the whole stream: client/limits.go); the connection is
	// dropped.
	ErrOversized = "oversized"
	// A stream that went on past max_tokens (more events than it allows).
	ErrOverlong = "overlong"
)

// Phases of a step: the part of the search that chose it.
const (
	PhaseGrid    = "grid"    // the doubling or explicit grid
	PhaseAim     = "aim"     // the concurrency the server's gauges predicted (analysis.Predict)
	PhaseBisect  = "bisect"  // bisection between the last good and first broken step
	PhaseCertify = "certify" // an end of the bracket measured again to a clear verdict
)

// Roles of a step: how much certainty its window buys.
const (
	// RoleExplore: the step only places the bracket; its window closes as
	// soon as its verdict is plain (analysis.Plain).
	RoleExplore = "explore"
	// RoleCertify: the answer rests on the step; its window stays open
	// until the verdict is clear at 95 % (or the plan's budget is spent).
	RoleCertify = "certify"
)

// Percentiles of a Distribution (GuideLLM's set).
type Percentiles struct {
	P001 float64 `json:"p001"`
	P01  float64 `json:"p01"`
	P05  float64 `json:"p05"`
	P10  float64 `json:"p10"`
	P25  float64 `json:"p25"`
	P50  float64 `json:"p50"`
	P75  float64 `json:"p75"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
}

// Distribution summarises a set of values. An empty set has Count 0 and
// zeros elsewhere (never NaN, so the JSON stays valid).
type Distribution struct {
	Mean        float64     `json:"mean"`
	Median      float64     `json:"median"`
	StdDev      float64     `json:"std_dev"`
	Min         float64     `json:"min"`
	Max         float64     `json:"max"`
	Count       int         `json:"count"`
	TotalSum    float64     `json:"total_sum"`
	Percentiles Percentiles `json:"percentiles"`
}

// Counts accounts for every request started in a period:
// Successful + Errored + Incomplete == Started.
type Counts struct {
	Started    int `json:"started"`
	Successful int `json:"successful"`
	Errored    int `json:"errored"`
	// Incomplete requests were still running when the step ended and were
	// cancelled by the runner (not a server failure).
	Incomplete int `json:"incomplete"`
}

// Window is the measurement window of a step (wall-clock times for
// correlation with Prometheus; lengths measured on the monotonic clock).
type Window struct {
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	WarmupSeconds   float64   `json:"warmup_seconds"`
	DurationSeconds float64   `json:"duration_seconds"`
	// GraceSeconds is how long requests in flight at the window's end were
	// given to finish before being cancelled (counted incomplete).
	GraceSeconds float64 `json:"grace_seconds"`
}

// Latency holds the client-side latency distributions, in seconds, of the
// requests started inside the window.
type Latency struct {
	// TTFT: request start to the first chunk carrying generated text, over
	// every window request that received one (successful or incomplete).
	TTFT Distribution `json:"ttft"`
	// TPOT: (e2e - TTFT) / (output tokens - 1) of successful requests.
	TPOT Distribution `json:"tpot"`
	// ITL: gaps between successive content chunks of window requests
	// (percentiles from a log histogram, relative error below 0.5 %).
	ITL Distribution `json:"itl"`
	// E2E: request start to the end of the stream, successful requests.
	E2E Distribution `json:"e2e"`
}

// Tokens are per-request token counts (from usage) of successful requests.
type Tokens struct {
	Prompt Distribution `json:"prompt"`
	Output Distribution `json:"output"`
	// CountMismatches: requests whose usage.completion_tokens differs from
	// the number of content chunks received.
	CountMismatches int `json:"count_mismatches"`
	// OutputLengthMismatches: successful requests whose output length is not
	// the one requested (the server ignored min_tokens/ignore_eos).
	OutputLengthMismatches int `json:"output_length_mismatches"`
	// UsageMissing: successful requests whose stream had no usage chunk.
	UsageMissing int `json:"usage_missing"`
}

// Throughput of the step over the window.
type Throughput struct {
	// RequestsPerSecond: successful window requests per window second.
	RequestsPerSecond float64 `json:"requests_per_second"`
	// OutputTokensPerSecond: output tokens received during the window.
	OutputTokensPerSecond float64 `json:"output_tokens_per_second"`
	// TotalTokensPerSecond adds the prompt tokens of the window's requests.
	TotalTokensPerSecond        float64 `json:"total_tokens_per_second"`
	OutputTokensPerSecondPerGPU float64 `json:"output_tokens_per_second_per_gpu"`
	// GoodputRequestsPerSecond: successful window requests meeting every
	// per-request SLA threshold (TTFT and reading speed at "acceptable").
	GoodputRequestsPerSecond float64 `json:"goodput_requests_per_second"`
}

// Gauge summarises a scraped gauge over the window.
type Gauge struct {
	Mean float64 `json:"mean"`
	Max  float64 `json:"max"`
}

// Server holds what the target's /metrics said during the window.
type Server struct {
	// Samples: successful scrapes inside the window; ScrapeErrors failed ones.
	Samples      int `json:"samples"`
	ScrapeErrors int `json:"scrape_errors"`
	// Generation of the metric names: "v1" (kv_cache_usage_perc) or "v0"
	// (gpu_cache_usage_perc).
	Generation string `json:"generation,omitempty"`
	Waiting    Gauge  `json:"waiting"`
	// WaitingFraction: fraction of samples with waiting > 0.
	WaitingFraction float64 `json:"waiting_fraction"`
	Running         Gauge   `json:"running"`
	// KVCacheUsage in 0..1.
	KVCacheUsage Gauge   `json:"kv_cache_usage"`
	Preemptions  float64 `json:"preemptions"`
	// TTFTP95Seconds from the delta of vllm:time_to_first_token_seconds
	// over the window (0 when no request finished its prefill).
	TTFTP95Seconds float64 `json:"ttft_p95_seconds"`
	TTFTCount      float64 `json:"ttft_count"`
	// PrefixCache: the prefix cache counters' delta over the window
	// (population.go); absent when the server exposes none.
	PrefixCache *PrefixCache `json:"prefix_cache,omitempty"`
}

// Fidelity compares the client's view with timestamps the server put in the
// stream (vllm-sim's sim_t_ns / server_ttft_seconds); absent otherwise.
type Fidelity struct {
	// ServerTTFT: the server's own TTFT of window requests, seconds.
	ServerTTFT Distribution `json:"server_ttft"`
	// TTFTSkew: client TTFT minus server TTFT of the same request, seconds.
	TTFTSkew Distribution `json:"ttft_skew"`
	// ITLSkew: for successive content chunks of window requests, the
	// client's gap between their arrivals minus the server's gap between
	// their writes (sim_t_ns), seconds; signed (a chunk read late makes the
	// gap before it longer and the one after it shorter). Percentiles from
	// a signed log histogram (relative error below 0.5 %).
	ITLSkew Distribution `json:"itl_skew"`
}

// At is the percentile at quantile q (one of those recorded: 0.001, 0.01,
// 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999); ok false for another.
func (p Percentiles) At(q float64) (float64, bool) {
	for _, x := range []struct {
		q float64
		v float64
	}{{0.001, p.P001}, {0.01, p.P01}, {0.05, p.P05}, {0.1, p.P10}, {0.25, p.P25}, {0.5, p.P50}, {0.75, p.P75}, {0.9, p.P90}, {0.95, p.P95}, {0.99, p.P99}, {0.999, p.P999}} {
		if x.q == q {
			return x.v, true
		}
	}
	return 0, false
}

// KPIs are the values graded against the SLA table, by the Value key of
// each of kpi.KPIs ("ttft_p95_seconds", "reading_speed_tokens_per_second",
// "kv_cache_max_percent", "success_percent", ...). A KPI the step did not
// measure is absent (files written before this wrote -1 for an unknown KV
// cache and 0 for an unknown reading speed: read as absent).
type KPIs map[string]float64

// UnmarshalJSON reads KPIs, dropping the old files' markers of unknown
// values (negative, or a zero rate).
func (k *KPIs) UnmarshalJSON(b []byte) error {
	var m map[string]float64
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	for _, x := range kpi.KPIs {
		if v, ok := m[x.Value]; ok && (v < 0 || v == 0 && x.Source.From == kpi.FromRate) {
			delete(m, x.Value)
		}
	}
	*k = m
	return nil
}

// Get is the value of k's KPI and whether the step measured it.
func (k KPIs) Get(x kpi.KPI) (float64, bool) {
	v, ok := k[x.Value]
	return v, ok
}

// Grades of the KPIs, by the Key of each of kpi.KPIs ("ttft",
// "reading_speed", "kv_cache", "success", ...).
type Grades map[string]string

// Of is the grade of x (unknown when absent).
func (g Grades) Of(x kpi.KPI) string {
	if v, ok := g[x.Key]; ok {
		return v
	}
	return GradeUnknown
}

// Step is one line of steps.jsonl: everything measured and decided at one
// concurrency for one target and scenario.
type Step struct {
	SchemaVersion int     `json:"schema_version"`
	RunID         string  `json:"run_id"`
	Target        string  `json:"target"`
	Model         string  `json:"model"`
	GPUs          int     `json:"gpus"`
	Precision     string  `json:"precision,omitempty"`
	GPUHourCost   float64 `json:"gpu_hour_cost,omitempty"`
	Scenario      string  `json:"scenario"`
	InputTokens   int     `json:"input_tokens"`
	OutputTokens  int     `json:"output_tokens"`
	API           string  `json:"api"`
	Concurrency   int     `json:"concurrency"`
	Phase         string  `json:"phase"`
	// Role: explore or certify (Role*); empty in steps written before
	// roles, which were all run to a clear verdict.
	Role string `json:"role,omitempty"`
	// Aim: the prediction in force when the step was chosen (nil before
	// any step of the pair gave one).
	Aim *Prediction `json:"aim,omitempty"`
	// Held: how long the step held the target, and what it cost.
	Held *Held `json:"held,omitempty"`
	// Settle: how the step went from the previous step's users to its own
	// without draining the server (nil: it started from an idle server).
	Settle *Settle `json:"settle,omitempty"`
	// Seq orders steps within the run (1, 2, ...).
	Seq       int       `json:"seq"`
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at"`
	Window    Window    `json:"window"`
	// Requests started inside the window; WarmupRequests those started
	// before it (excluded from every statistic except output tok/s).
	Requests       Counts `json:"requests"`
	WarmupRequests Counts `json:"warmup_requests"`
	// TailRequests started after the window closed, while the load went on
	// for the window's last requests to finish; they are aborted (their
	// connections closed) when the step ends and count in no statistic.
	TailRequests Counts `json:"tail_requests"`
	// Censored: window requests that had not finished when the step ended
	// (counted incomplete or errored above); those without a first token
	// enter the TTFT distribution with the time they had waited, a lower
	// bound, so a stuck queue is never dropped from the judgement.
	Censored int `json:"censored"`
	// Errors by kind, window requests only ("http_500", "timeout", ...).
	Errors map[string]int `json:"errors"`
	// Steady says whether the step measured steady state, and why not.
	Steady SteadyState `json:"steady_state"`
	// Confidence of the verdict: 95 % intervals of the judged KPIs.
	Confidence *Confidence `json:"confidence,omitempty"`
	// ConcurrencyAchieved: time-averaged requests in flight in the window.
	ConcurrencyAchieved float64 `json:"concurrency_achieved"`
	// SuccessRate: successful / (successful + errored), 0..1.
	SuccessRate float64    `json:"success_rate"`
	Latency     Latency    `json:"latency"`
	Tokens      Tokens     `json:"tokens"`
	Throughput  Throughput `json:"throughput"`
	Server      *Server    `json:"server,omitempty"`
	Fidelity    *Fidelity  `json:"fidelity,omitempty"`
	// Population: users who think, converse or share a system prompt
	// (population.go); absent for streams.
	Population *Population `json:"population,omitempty"`
	// PowerWatts: mean GPU power in the window, when measured (issue 6).
	PowerWatts *float64 `json:"power_watts,omitempty"`
	KPIs       KPIs     `json:"kpis"`
	Grades     Grades   `json:"grades"`
	// AtSLA: not broken and every KPI at least acceptable.
	AtSLA  bool `json:"at_sla"`
	Broken bool `json:"broken"`
	// Rule is the first breaking rule that tripped; Rules lists all.
	Rule  string   `json:"rule,omitempty"`
	Rules []string `json:"rules,omitempty"`
	// OpenLoop: the arrivals of a step at a rate (openloop.go); absent
	// for closed-loop steps.
	OpenLoop *OpenLoop `json:"open_loop,omitempty"`
	// Replicas behind the target's name, and which were measured
	// (cluster.go).
	Replicas *Replicas `json:"replicas,omitempty"`
	// Events: what happened to the server during the step (a restart, a
	// replica change, /metrics lost).
	Events []Event `json:"events,omitempty"`
	// Foreign: requests on the server that were not ours (nil: none seen,
	// or no /metrics to see them).
	Foreign *Foreign `json:"foreign,omitempty"`
	// Client: the sweep's own client in the window (nil: not measured).
	Client *Client `json:"client,omitempty"`
	// Disturbed says why the step is not evidence for a breaking point (a
	// server event, foreign traffic, a starved client); empty when it is.
	// A disturbed step is measured again (bounded) and both are kept.
	Disturbed []string `json:"disturbed,omitempty"`
}

// SteadyState records how a step reached steady state before and during
// its window.
type SteadyState struct {
	// Reached: the server was drained before the step (or the users ran
	// on and settled), every user had finished a request before the window
	// opened (one request lifetime at this concurrency; a certifying
	// step's users three lifetimes old), and the window held at least the
	// plan's minRequests finished requests.
	Reached bool `json:"reached"`
	// Reasons why it was not reached (empty when it was).
	Reasons []string `json:"reasons,omitempty"`
	// DrainSeconds: how long the step waited for the server's running and
	// waiting gauges to fall to 0 before it started; Drained: they did
	// (false: the bounded wait ran out, or the server has no /metrics).
	DrainSeconds float64 `json:"drain_seconds"`
	Drained      bool    `json:"drained"`
	// LifetimeSeconds: mean end-to-end time of the window's finished
	// requests, the lifetime the warmup had to cover.
	LifetimeSeconds float64 `json:"lifetime_seconds"`
	// Extended: the window was kept open past the step duration and
	// minRequests because the verdict was not yet clear.
	Extended bool `json:"extended,omitempty"`
}

// Held is how long a step held the target, from the end of the pair's
// previous step (or the step's start) to its own end: every second the
// model was loaded by the sweep, so the figures add up to the run's.
type Held struct {
	Seconds float64 `json:"seconds"`
	// The parts: waiting for the server to drain, warmup (or settling
	// after the previous step, with the time between steps), window, tail.
	DrainSeconds  float64 `json:"drain_seconds"`
	WarmupSeconds float64 `json:"warmup_seconds"`
	WindowSeconds float64 `json:"window_seconds"`
	TailSeconds   float64 `json:"tail_seconds"`
	// GPUMinutes: Seconds / 60 times the target's GPUs.
	GPUMinutes float64 `json:"gpu_minutes"`
}

// HeldOf adds up what steps held their targets: seconds and GPU-minutes
// (steps written before Held count nothing).
func HeldOf(steps []Step) (seconds, gpuMinutes float64) {
	for _, s := range steps {
		if s.Held != nil {
			seconds += s.Held.Seconds
			gpuMinutes += s.Held.GPUMinutes
		}
	}
	return seconds, gpuMinutes
}

// Settle records a step that kept the previous step's users running: the
// users added (at random phases) or retired, and how the window's start
// was judged settled.
type Settle struct {
	From    int `json:"from"`
	Added   int `json:"added"`
	Retired int `json:"retired"`
	// Seconds from the change to the window's start.
	Seconds float64 `json:"seconds"`
	// Settled: every request in flight when the window opened was sent
	// after the change (every added user had finished its first request,
	// every retired user had left); false when the warmup bound ran out.
	Settled bool `json:"settled"`
}

// Prediction is where the server's gauges say it will saturate
// (analysis.Predict), recorded beside the measured answer so that a bad
// predictor shows.
type Prediction struct {
	// BreakingPoint: the predicted lowest concurrency that breaks.
	BreakingPoint int `json:"breaking_point"`
	// Basis: kv_cache (KV cache blocks held per running request against
	// the cache) or max_num_seqs (running requests capped while requests
	// wait).
	Basis string `json:"basis"`
	// FromConcurrency: the step whose gauges gave it.
	FromConcurrency int `json:"from_concurrency"`
	// KVPerRequest: the share of the KV cache one running request held on
	// average (kv_cache basis).
	KVPerRequest float64 `json:"kv_per_request,omitempty"`
}

// Interval is a 95 % confidence interval. Unbounded marks an interval
// whose upper end the data cannot bound (too few samples for a
// distribution-free bound); High is then the largest value seen.
type Interval struct {
	Low       float64 `json:"low"`
	High      float64 `json:"high"`
	Unbounded bool    `json:"unbounded,omitempty"`
}

// Contains reports whether x lies inside the interval.
func (i Interval) Contains(x float64) bool { return x >= i.Low && (i.Unbounded || x <= i.High) }

// Confidence holds a step's intervals and whether its verdict is clear.
type Confidence struct {
	// TTFTP95: distribution-free (order statistics) interval of TTFT p95, seconds.
	TTFTP95 Interval `json:"ttft_p95_seconds"`
	// Success: Wilson score interval of the success rate, 0..1.
	Success Interval `json:"success_rate"`
	// WaitingFraction: batch-means interval of the share of samples with
	// waiting > 0 (the samples are autocorrelated, so each of ten
	// consecutive batches counts as one observation); absent without /metrics.
	WaitingFraction *Interval `json:"waiting_fraction,omitempty"`
	// Clear: every breaking rule's interval lies on one side of its
	// threshold, so more data would not change the verdict at 95 %.
	Clear bool `json:"clear"`
	// Uncertain lists the rules whose interval contains the threshold;
	// Broken those whose interval lies beyond it.
	Uncertain []string `json:"uncertain,omitempty"`
	Broken    []string `json:"broken,omitempty"`
	// Plain: an exploring step's verdict was plain (analysis.Plain) when
	// its window closed, though not clear.
	Plain bool `json:"plain,omitempty"`
	// Futile: a certifying window closed half-way through its bound
	// (maxWindow, maxRequests) because its verdict would still have been
	// unclear at the bound (analysis.Futile); the verdict stays uncertain.
	Futile bool `json:"futile,omitempty"`
}

// Unsteady reports whether the step is known not to have reached steady
// state (steps of schema 1 did not record it).
func (s *Step) Unsteady() bool { return s.SchemaVersion >= 2 && !s.Steady.Reached }

// Key identifies a step within a run.
type Key struct {
	Target, Scenario string
	Concurrency      int
}

// Key returns the step's identity.
func (s *Step) Key() Key { return Key{s.Target, s.Scenario, s.Concurrency} }

// Run is run.json: the state of a run directory.
type Run struct {
	RunID     string     `json:"run_id"`
	Status    string     `json:"status"`
	Version   string     `json:"version"`
	StartedAt time.Time  `json:"started_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	// Message says why a run failed or was interrupted.
	Message string `json:"message,omitempty"`
	// Resumes counts the --resume invocations.
	Resumes int `json:"resumes"`
	// HeldSeconds and GPUMinutes: what the finished steps held the targets.
	HeldSeconds float64 `json:"held_seconds"`
	GPUMinutes  float64 `json:"gpu_minutes"`
	// BudgetSpent: the run stopped because the plan's GPU-minute budget
	// was spent (the answers so far stand, with their confidence).
	BudgetSpent bool `json:"budget_spent,omitempty"`
}

// BreakingPoint is the lowest concurrency that broke and the rule it broke.
type BreakingPoint struct {
	Concurrency int    `json:"concurrency"`
	Rule        string `json:"rule"`
}

// Result is the answer for one target and scenario.
type Result struct {
	Target       string  `json:"target"`
	Model        string  `json:"model"`
	GPUs         int     `json:"gpus"`
	Precision    string  `json:"precision,omitempty"`
	GPUHourCost  float64 `json:"gpu_hour_cost,omitempty"`
	Scenario     string  `json:"scenario"`
	InputTokens  int     `json:"input_tokens"`
	OutputTokens int     `json:"output_tokens"`
	// Complete: the sweep of this pair finished (not interrupted).
	Complete bool `json:"complete"`
	// Exact: both answers are pinned to adjacent tested integers (bisection
	// ran to the end); otherwise they are bounds from the grid.
	Exact bool `json:"exact"`
	// BreakingPoint is null when no tested concurrency broke.
	BreakingPoint *BreakingPoint `json:"breaking_point"`
	// Confidence of the breaking point: "clear" when the step at the
	// breaking point is clearly broken and the one just below it clearly
	// not, else "uncertain"; UncertainSteps lists the concurrencies whose
	// verdict was not clear at 95 % when the re-measure budget ran out.
	Confidence     string `json:"confidence,omitempty"`
	UncertainSteps []int  `json:"uncertain_steps,omitempty"`
	// NotSteady lists the concurrencies that did not reach steady state.
	NotSteady []int `json:"not_steady,omitempty"`
	// Autoscaling: the target's InferenceService autoscales (the plan's
	// target says so): the answer is per replica while the autoscaler may
	// have moved during the run.
	Autoscaling bool `json:"autoscaling,omitempty"`
	// DisturbedSteps lists the concurrencies with a step that the cluster
	// disturbed (Step.Disturbed: set aside and measured again).
	DisturbedSteps []int `json:"disturbed_steps,omitempty"`
	// Prediction: the aim the search took (the first prediction of the
	// pair), beside the measured breaking point.
	Prediction *Prediction `json:"prediction,omitempty"`
	// HeldSeconds and GPUMinutes: what the pair's steps held the target.
	HeldSeconds float64 `json:"held_seconds"`
	GPUMinutes  float64 `json:"gpu_minutes"`
	// MaxTestedConcurrency is the highest concurrency run.
	MaxTestedConcurrency int `json:"max_tested_concurrency"`
	// MaxConcurrencyAtSLA: the highest concurrency where every acceptable
	// threshold holds (0: none did).
	MaxConcurrencyAtSLA int `json:"max_concurrency_at_sla"`
	// Figures at MaxConcurrencyAtSLA (zero when it is 0).
	UsersPerGPUAtSLA                 float64 `json:"users_per_gpu_at_sla"`
	OutputTokensPerSecondAtSLA       float64 `json:"output_tokens_per_second_at_sla"`
	OutputTokensPerSecondPerGPUAtSLA float64 `json:"output_tokens_per_second_per_gpu_at_sla"`
	TTFTP95AtSLASeconds              float64 `json:"ttft_p95_at_sla_seconds"`
	// Steps of this pair, by concurrency (by offered rate when open-loop).
	Steps []Step `json:"steps"`
	// OpenLoop: the answer in rates of an open-loop scenario (openloop.go).
	OpenLoop *OpenLoopResult `json:"open_loop,omitempty"`
}

// Comparison sets one target against the baseline (the first target) for a
// scenario: the "users per GPU" story.
type Comparison struct {
	Scenario string `json:"scenario"`
	Baseline string `json:"baseline"`
	Target   string `json:"target"`
	// Ratios target / baseline (0 when the baseline's value is 0).
	UsersPerGPURatio         float64 `json:"users_per_gpu_ratio"`
	OutputTokensPerGPURatio  float64 `json:"output_tokens_per_second_per_gpu_ratio"`
	MaxConcurrencyAtSLARatio float64 `json:"max_concurrency_at_sla_ratio"`
}

// Summary is summary.json.
type Summary struct {
	SchemaVersion int        `json:"schema_version"`
	RunID         string     `json:"run_id"`
	Status        string     `json:"status"`
	Version       string     `json:"version,omitempty"`
	StartedAt     time.Time  `json:"started_at"`
	EndedAt       *time.Time `json:"ended_at,omitempty"`
	// Results per target and scenario, in the plan's order.
	Results     []Result     `json:"results"`
	Comparisons []Comparison `json:"comparisons,omitempty"`
	// SLA is the table the steps were judged by: the plan's, with its
	// times multiplied by TimeScale when the run measured a time-scaled
	// simulator.
	SLA       v1alpha1.SLA `json:"sla"`
	TimeScale float64      `json:"time_scale,omitempty"`
	// HeldSeconds and GPUMinutes: what the whole run held its targets.
	HeldSeconds float64 `json:"held_seconds"`
	GPUMinutes  float64 `json:"gpu_minutes"`
	// BudgetGPUMinutes: the plan's budget (0: none); BudgetSpent: the run
	// stopped because it was spent, with the answers found so far.
	BudgetGPUMinutes float64 `json:"budget_gpu_minutes,omitempty"`
	BudgetSpent      bool    `json:"budget_spent,omitempty"`
	// Definitions of the metrics, in words (keys are plain words, never a
	// result field name).
	Definitions map[string]string `json:"definitions"`
}

// Definitions are the metric definitions every report states.
var Definitions = map[string]string{
	"ttft":             "time to first token: request start to the first streamed chunk carrying generated text (a role-only chat delta does not count)",
	"tpot":             "time per output token, vLLM bench serve's definition: (e2e - TTFT) / (output tokens - 1); requests with one output token count 0 (GuideLLM's TPOT includes the first token)",
	"itl":              "inter-token latency: gaps between successive content chunks",
	"e2e":              "request start to the end of the stream",
	"goodput":          "successful requests per second that met every per-request SLA threshold (TTFT and reading speed at acceptable)",
	"window":           "statistics cover requests started inside the measurement window; the warmup before it lasts until every user has finished a request after a fresh start (one request lifetime), or, when the previous step's users ran on, until the server has settled (every added user through its first request, every request in flight sent after the change); an exploring step's window closes once its verdict is plain (one that is not plain at the step duration goes on as a certifying one, but for the baseline), a certifying step's once it holds enough finished requests and a clear verdict (bounded); after it the load goes on until the window's requests finish (bounded by the request timeout); a window request cut there counts incomplete (errored when its stream had gone silent for longer than the degraded TTFT) and, without a first token, enters TTFT with the time it waited; output tok/s counts tokens received inside the window",
	"breaking_point":   "the lowest concurrency whose step breaks: TTFT p95 above the degraded threshold, waiting > 0 in at least queueFraction of the /metrics samples, or success rate below the degraded threshold; a clearly broken step vouches for every higher concurrency and a clearly unbroken one for every lower, so the answer rests on the certified steps at it and just below it",
	"max users at SLA": "the highest concurrency whose step is not broken and grades every KPI the SLA grades at least acceptable",
}
