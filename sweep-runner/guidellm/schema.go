package guidellm

import (
	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// ReportVersion is the GuideLLM report schema version Export writes
// (metadata.version; GuideLLM 0.7 and later).
const ReportVersion = 2

// BenchmarkType is GuideLLM's type_ of a text-generation benchmark.
const BenchmarkType = "generative_benchmark"

// ExtensionKey names the object, on the report and on each benchmark, that
// carries what sweep-runner measured and GuideLLM's schema has no slot for.
// GuideLLM's benchmark and config models accept extra fields (pydantic
// extra="allow"), its report model ignores them: a GuideLLM reader keeps or
// drops it, never fails on it.
const ExtensionKey = "sweep_runner"

// GuideLLM's scheduling strategies (config.strategy.type_).
const (
	StrategySynchronous = "synchronous"
	StrategyConcurrent  = "concurrent"
	StrategyThroughput  = "throughput"
	StrategyConstant    = "constant"
	StrategyPoisson     = "poisson"
	// StrategyTrace replays a trace's timestamps; read like a rate strategy
	// without a rate.
	StrategyTrace = "trace"
)

// NotJudged is the steady-state reason of every step imported from a
// GuideLLM benchmark: GuideLLM records no drain, no per-user warmup and no
// minimum of finished requests, so steady state was not judged.
const NotJudged = "imported from GuideLLM: steady state not judged"

// RunExtension is the report-level "sweep_runner" object of an export: the
// SLA table the steps were judged by, so that an import grades them alike.
type RunExtension struct {
	// Producer is "sweep-runner <version>".
	Producer string `json:"producer"`
	RunID    string `json:"run_id"`
	Status   string `json:"status,omitempty"`
	// SLA is the plan's table before TimeScale (summary.json holds it after).
	SLA       v1alpha1.SLA `json:"sla"`
	TimeScale float64      `json:"time_scale,omitempty"`
	API       string       `json:"api,omitempty"`
	// Notes say, in words, how our fields sit in GuideLLM's.
	Notes map[string]string `json:"notes,omitempty"`
}

// TargetInfo is the target a step measured.
type TargetInfo struct {
	Name        string  `json:"name"`
	URL         string  `json:"url,omitempty"`
	Model       string  `json:"model,omitempty"`
	GPUs        int     `json:"gpus,omitempty"`
	Precision   string  `json:"precision,omitempty"`
	GPUHourCost float64 `json:"gpu_hour_cost,omitempty"`
}

// ScenarioInfo is the workload shape of a step.
type ScenarioInfo struct {
	Name         string `json:"name"`
	InputTokens  int    `json:"input_tokens"`
	OutputTokens int    `json:"output_tokens"`
	// The length distributions (v1alpha1.Scenario's fields of the same
	// names), so that an export imports with its spreads.
	InputTokensStdev   int    `json:"input_tokens_stdev,omitempty"`
	InputTokensMin     int    `json:"input_tokens_min,omitempty"`
	InputTokensMax     int    `json:"input_tokens_max,omitempty"`
	OutputTokensStdev  int    `json:"output_tokens_stdev,omitempty"`
	OutputTokensMin    int    `json:"output_tokens_min,omitempty"`
	OutputTokensMax    int    `json:"output_tokens_max,omitempty"`
	LengthDistribution string `json:"length_distribution,omitempty"`
}

// scenarioInfo is a scenario's shape as the extension carries it.
func scenarioInfo(sc v1alpha1.Scenario) ScenarioInfo {
	return ScenarioInfo{Name: sc.Name, InputTokens: sc.InputTokens, OutputTokens: sc.OutputTokens,
		InputTokensStdev: sc.InputTokensStdev, InputTokensMin: sc.InputTokensMin, InputTokensMax: sc.InputTokensMax,
		OutputTokensStdev: sc.OutputTokensStdev, OutputTokensMin: sc.OutputTokensMin, OutputTokensMax: sc.OutputTokensMax,
		LengthDistribution: sc.LengthDistribution}
}

// scenario is the scenario a shape stands for.
func (i ScenarioInfo) scenario() v1alpha1.Scenario {
	return v1alpha1.Scenario{Name: i.Name, InputTokens: i.InputTokens, OutputTokens: i.OutputTokens,
		InputTokensStdev: i.InputTokensStdev, InputTokensMin: i.InputTokensMin, InputTokensMax: i.InputTokensMax,
		OutputTokensStdev: i.OutputTokensStdev, OutputTokensMin: i.OutputTokensMin, OutputTokensMax: i.OutputTokensMax,
		LengthDistribution: i.LengthDistribution}
}

// StepExtension is a benchmark's "sweep_runner" object: the Step fields
// GuideLLM's schema has no slot for. Everything GuideLLM does have a slot
// for is read from GuideLLM's own fields, never from here.
type StepExtension struct {
	Target      TargetInfo   `json:"target"`
	Scenario    ScenarioInfo `json:"scenario"`
	API         string       `json:"api,omitempty"`
	Concurrency int          `json:"concurrency"`
	Phase       string       `json:"phase,omitempty"`
	Seq         int          `json:"seq,omitempty"`
	// Server: the target's /metrics gauges in the window (queue rule, KV
	// cache KPI); absent when the run had no /metrics.
	Server *results.Server     `json:"server,omitempty"`
	Steady results.SteadyState `json:"steady_state"`
	// Confidence of the step's verdict (95 % intervals).
	Confidence     *results.Confidence `json:"confidence,omitempty"`
	Censored       int                 `json:"censored"`
	WarmupRequests results.Counts      `json:"warmup_requests"`
	TailRequests   results.Counts      `json:"tail_requests"`
	Errors         map[string]int      `json:"errors,omitempty"`
	GraceSeconds   float64             `json:"grace_seconds,omitempty"`
	// ConcurrencyAchieved: time-averaged requests in flight (also written
	// as request_concurrency.total.mean).
	ConcurrencyAchieved float64 `json:"concurrency_achieved"`
	// ITLSeconds: gaps between successive content chunks. GuideLLM's
	// inter_token_latency_ms is a per-request mean gap (our TPOT's
	// definition), so our per-chunk ITL has no slot there.
	ITLSeconds results.Distribution `json:"itl_seconds"`
	// GoodputRequestsPerSecond: requests per second meeting every
	// per-request SLA threshold; GuideLLM 0.7 has no goodput figure.
	GoodputRequestsPerSecond float64 `json:"goodput_requests_per_second"`
	// Token accounting checks of the step.
	CountMismatches        int               `json:"count_mismatches,omitempty"`
	OutputLengthMismatches int               `json:"output_length_mismatches,omitempty"`
	UsageMissing           int               `json:"usage_missing,omitempty"`
	Fidelity               *results.Fidelity `json:"fidelity,omitempty"`
	PowerWatts             *float64          `json:"power_watts,omitempty"`
}

// The wire types below are what Export writes: the subset of GuideLLM's
// version-2 report that sweep-runner has values for, with GuideLLM's field
// names. Pointers are written as null when we did not measure the value.

type wireReport struct {
	Metadata   wireMetadata    `json:"metadata"`
	Config     map[string]any  `json:"config"`
	Benchmarks []wireBenchmark `json:"benchmarks"`
	Extension  *RunExtension   `json:"sweep_runner,omitempty"`
}

type wireMetadata struct {
	Version         int    `json:"version"`
	GuideLLMVersion string `json:"guidellm_version"`
	PythonVersion   string `json:"python_version"`
	Platform        string `json:"platform"`
}

type wireBenchmark struct {
	Type             string               `json:"type_"`
	Config           wireBenchmarkConfig  `json:"config"`
	SchedulerMetrics wireSchedulerMetrics `json:"scheduler_metrics"`
	Metrics          wireMetrics          `json:"metrics"`
	StartTime        float64              `json:"start_time"`
	EndTime          float64              `json:"end_time"`
	Duration         float64              `json:"duration"`
	WarmupDuration   float64              `json:"warmup_duration"`
	CooldownDuration float64              `json:"cooldown_duration"`
	Extension        *StepExtension       `json:"sweep_runner,omitempty"`
}

type wireBenchmarkConfig struct {
	ID          string         `json:"id_"`
	RunID       string         `json:"run_id"`
	RunIndex    int            `json:"run_index"`
	Strategy    wireStrategy   `json:"strategy"`
	Constraints map[string]any `json:"constraints"`
	Profile     map[string]any `json:"profile"`
	Requests    map[string]any `json:"requests"`
	Backend     map[string]any `json:"backend"`
	Environment map[string]any `json:"environment"`
}

type wireStrategy struct {
	Type    string `json:"type_"`
	Streams int    `json:"streams"`
}

// wireSchedulerMetrics holds the four times of a benchmark GuideLLM's
// start_time, end_time, warmup_duration and cooldown_duration derive from;
// GuideLLM's counters of scheduler internals (queue times, requests made
// per status before and after the window) have no counterpart and are not
// written.
type wireSchedulerMetrics struct {
	RequestStartTime float64 `json:"request_start_time"`
	MeasureStartTime float64 `json:"measure_start_time"`
	MeasureEndTime   float64 `json:"measure_end_time"`
	RequestEndTime   float64 `json:"request_end_time"`
}

type wireTotals struct {
	Successful int `json:"successful"`
	Errored    int `json:"errored"`
	Incomplete int `json:"incomplete"`
	Total      int `json:"total"`
}

// wireStatusDist is GuideLLM's StatusDistributionSummary; a nil member is
// written as null: not measured (GuideLLM's default for each member).
type wireStatusDist struct {
	Successful *wireDist `json:"successful"`
	Errored    *wireDist `json:"errored"`
	Incomplete *wireDist `json:"incomplete"`
	Total      *wireDist `json:"total"`
}

type wireDist struct {
	Mean     float64 `json:"mean"`
	Median   float64 `json:"median"`
	Mode     float64 `json:"mode"`
	Variance float64 `json:"variance"`
	StdDev   float64 `json:"std_dev"`
	Min      float64 `json:"min"`
	Max      float64 `json:"max"`
	Count    int     `json:"count"`
	TotalSum float64 `json:"total_sum"`
	// Percentiles has GuideLLM's names (p001 ... p999).
	Percentiles results.Percentiles `json:"percentiles"`
}

type wireMetrics struct {
	RequestTotals         wireTotals     `json:"request_totals"`
	RequestsPerSecond     wireStatusDist `json:"requests_per_second"`
	RequestConcurrency    wireStatusDist `json:"request_concurrency"`
	RequestLatency        wireStatusDist `json:"request_latency"`
	PromptTokenCount      wireStatusDist `json:"prompt_token_count"`
	OutputTokenCount      wireStatusDist `json:"output_token_count"`
	TimeToFirstTokenMs    wireStatusDist `json:"time_to_first_token_ms"`
	TimePerOutputTokenMs  wireStatusDist `json:"time_per_output_token_ms"`
	InterTokenLatencyMs   wireStatusDist `json:"inter_token_latency_ms"`
	OutputTokensPerSecond wireStatusDist `json:"output_tokens_per_second"`
	TokensPerSecond       wireStatusDist `json:"tokens_per_second"`
}
