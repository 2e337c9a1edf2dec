package results

import (
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
)

// SchemaVersion of Step and Summary; bumped on incompatible changes.
const SchemaVersion = 1

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

// Breaking-point rules, in the order they are checked.
const (
	RuleTTFT       = "ttft_p95"    // TTFT p95 above the degraded threshold
	RuleQueue      = "queue"       // waiting > 0 in at least QueueFraction of the samples
	RuleSuccess    = "success"     // success rate below the degraded threshold
	RuleNoResponse = "no_response" // requests started but none produced a token
)

// Grades of a KPI against the SLA table.
const (
	GradeExcellent  = "excellent"
	GradeAcceptable = "acceptable"
	GradeWarning    = "warning"
	GradeDegraded   = "degraded"
	GradeUnknown    = "unknown" // not measured (e.g. no /metrics)
)

// Error kinds counted in Step.Errors. HTTP status errors are "http_<code>".
const (
	ErrTimeout        = "timeout"         // the per-request timeout expired
	ErrConnect        = "connect"         // could not connect or send the request
	ErrBrokenStream   = "broken_stream"   // the stream ended without [DONE] or the connection broke
	ErrMalformedChunk = "malformed_chunk" // a chunk that is not valid JSON of the expected shape
	ErrStreamError    = "stream_error"    // the server sent an error object inside the stream
	ErrStalled        = "stalled"         // cut at the step's end after sending nothing for longer than the degraded TTFT
)

// Phases of a step.
const (
	PhaseGrid   = "grid"   // the doubling or explicit grid
	PhaseBisect = "bisect" // bisection between the last good and first broken step
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

// KPIs are the values graded against the SLA table.
type KPIs struct {
	TTFTP95Seconds float64 `json:"ttft_p95_seconds"`
	// ReadingSpeed: 1 / TPOT p95, the output tokens per second that 95 % of
	// users read at or above; 1 / ITL p95 when no request finished within
	// the step (0 when unknown).
	ReadingSpeedTokensPerSecond float64 `json:"reading_speed_tokens_per_second"`
	// KVCacheMaxPercent: the highest KV cache usage in the window (-1: unknown).
	KVCacheMaxPercent float64 `json:"kv_cache_max_percent"`
	// SuccessPercent: successful / (successful + errored) x 100.
	SuccessPercent float64 `json:"success_percent"`
}

// Grades of the KPIs.
type Grades struct {
	TTFT         string `json:"ttft"`
	ReadingSpeed string `json:"reading_speed"`
	KVCache      string `json:"kv_cache"`
	Success      string `json:"success"`
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
	// Seq orders steps within the run (1, 2, ...).
	Seq       int       `json:"seq"`
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at"`
	Window    Window    `json:"window"`
	// Requests started inside the window; WarmupRequests those started
	// before it (excluded from every statistic except output tok/s).
	Requests       Counts `json:"requests"`
	WarmupRequests Counts `json:"warmup_requests"`
	// Errors by kind, window requests only ("http_500", "timeout", ...).
	Errors map[string]int `json:"errors"`
	// ConcurrencyAchieved: time-averaged requests in flight in the window.
	ConcurrencyAchieved float64 `json:"concurrency_achieved"`
	// SuccessRate: successful / (successful + errored), 0..1.
	SuccessRate float64    `json:"success_rate"`
	Latency     Latency    `json:"latency"`
	Tokens      Tokens     `json:"tokens"`
	Throughput  Throughput `json:"throughput"`
	Server      *Server    `json:"server,omitempty"`
	Fidelity    *Fidelity  `json:"fidelity,omitempty"`
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
}

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
	// Steps of this pair, by concurrency.
	Steps []Step `json:"steps"`
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
	SLA         v1alpha1.SLA `json:"sla"`
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
	"window":           "statistics cover requests started inside the measurement window (after warmup); requests in flight at its end get a grace period, then are cancelled and counted incomplete, except streams silent for longer than the degraded TTFT, which count as errors (stalled); output tok/s counts tokens received inside the window",
	"breaking_point":   "the lowest concurrency whose step breaks: TTFT p95 above the degraded threshold, waiting > 0 in at least queueFraction of the /metrics samples, or success rate below the degraded threshold",
	"max users at SLA": "the highest concurrency whose step is not broken and grades every KPI (TTFT p95, reading speed = 1/TPOT p95, KV cache max, success rate) at least acceptable",
}
