package sweepmetrics

// Labels every step series carries.
const (
	LabelModel       = "model"
	LabelScenario    = "scenario"
	LabelConcurrency = "concurrency"
	LabelRunID       = "run_id"
	LabelQuantile    = "quantile"
	LabelPrecision   = "precision"
)

// Per-step series (labels model, scenario, concurrency, run_id).
const (
	// TTFT quantiles of the step in seconds (label quantile 0.5, 0.95, 0.99).
	TTFTSeconds = "llm_sweep_ttft_seconds"
	// TPOT quantiles in seconds (label quantile).
	TPOTSeconds = "llm_sweep_tpot_seconds"
	// ITL quantiles in seconds (label quantile).
	ITLSeconds = "llm_sweep_itl_seconds"
	// OutputTokensPerSecond is the step's output token throughput.
	OutputTokensPerSecond = "llm_sweep_output_tokens_per_second"
	// OutputTokensPerSecondPerGPU divides it by the target's GPUs.
	OutputTokensPerSecondPerGPU = "llm_sweep_output_tokens_per_second_per_gpu"
	// RequestsPerSecond is completed requests per second.
	RequestsPerSecond = "llm_sweep_requests_per_second"
	// SuccessRatio is successful / started requests (0..1).
	SuccessRatio = "llm_sweep_success_ratio"
	// QueueWaitingMean is the mean of vllm:num_requests_waiting during the window.
	QueueWaitingMean = "llm_sweep_queue_waiting_mean"
	// KVCacheUsageMax is the highest KV cache usage during the window (0..1).
	KVCacheUsageMax = "llm_sweep_kv_cache_usage_max_ratio"
	// PowerWatts is the mean power of the target's GPUs during the window.
	PowerWatts = "llm_sweep_power_watts"
	// StepBroken is 1 when the step tripped a breaking-point rule.
	StepBroken = "llm_sweep_step_broken"
	// KPIValue is each graded KPI's value (label kpi: its key in the KPI
	// table, api/kpi; in the KPI's unit), and KPIGrade its grade as a rank
	// (GradeRanks; absent when unknown): written for every KPI of the
	// table, so a KPI added there reaches Prometheus with no edit here.
	KPIValue = "llm_sweep_kpi_value"
	KPIGrade = "llm_sweep_kpi_grade"
	// LabelKPI names the KPI of KPIValue and KPIGrade.
	LabelKPI = "kpi"
)

// GradeRanks are the grades as KPIGrade writes them: 0 excellent to 3
// degraded.
var GradeRanks = map[string]float64{"excellent": 0, "acceptable": 1, "warning": 2, "degraded": 3}

// Per-run series (labels model, scenario, run_id).
const (
	// BreakingPointConcurrency is the lowest concurrency that broke (absent if none).
	BreakingPointConcurrency = "llm_sweep_breaking_point_concurrency"
	// MaxConcurrencyAtSLA is the highest concurrency meeting every acceptable threshold.
	MaxConcurrencyAtSLA = "llm_sweep_max_concurrency_at_sla"
	// UsersPerGPUAtSLA is MaxConcurrencyAtSLA divided by the target's GPUs.
	UsersPerGPUAtSLA = "llm_sweep_users_per_gpu_at_sla"
	// OutputTokensPerSecondPerGPUAtSLA is the per-GPU throughput at that concurrency.
	OutputTokensPerSecondPerGPUAtSLA = "llm_sweep_output_tokens_per_second_per_gpu_at_sla"
	// RunTimestamp is the run's end time in Unix seconds, to pick the latest run.
	RunTimestamp = "llm_sweep_run_timestamp_seconds"
)

// Quantiles the step series carry.
var Quantiles = []string{"0.5", "0.95", "0.99"}
