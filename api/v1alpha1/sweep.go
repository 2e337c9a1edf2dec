package v1alpha1

import (
	"time"
)

// SweepSettings are the settings of a sweep that step07.yaml (spec.sweep)
// and a SweepPlan (spec) share. Both embed this one struct inline, so each
// setting has one YAML name, one default and one validation in both places,
// and Plan() hands the whole set over unchanged.
//
// A nil pointer is unset: Default gives it its default. A value that is
// given is kept, zero included: warmup: 0s is no warmup, readyTimeout: 0s
// checks the targets once, and a zero where zero is not allowed (keepRuns: 0,
// stepDuration: 0s, minRequests: 0 ...) is reported by Validate instead of
// being replaced by the default. Read the pointers after Default, which
// sets every one of them (StartConcurrency and MaxConcurrency only when
// Concurrency is empty; not Shards, read through ShardCount).
type SweepSettings struct {
	// Concurrency is an explicit list of steps (every step runs); when empty
	// the sweep doubles from StartConcurrency up to MaxConcurrency.
	Concurrency []int `json:"concurrency,omitempty"`
	// StartConcurrency is the first step of the doubling (default 1).
	StartConcurrency *int `json:"startConcurrency,omitempty"`
	// MaxConcurrency is the last step of the doubling, always tested (default 32).
	MaxConcurrency *int `json:"maxConcurrency,omitempty"`
	// StepDuration is the measurement window of a step (default 60s).
	StepDuration *Duration `json:"stepDuration,omitempty"`
	// Warmup runs before each window, outside the statistics (default 10s;
	// 0s: none).
	Warmup *Duration `json:"warmup,omitempty"`
	// RequestTimeout bounds one request (default 120s).
	RequestTimeout *Duration `json:"requestTimeout,omitempty"`
	// ReadyTimeout is how long the pre-flight check keeps retrying a target
	// that is unreachable or answers 5xx/429 (a predictor restarting or
	// scaling from zero) before it gives up; 0s checks once. The default is
	// 0s in a SweepPlan and 10m in step07.yaml (the Job; see Default of
	// ModelPerformanceMetrics).
	ReadyTimeout *Duration `json:"readyTimeout,omitempty"`
	// API is completions or chat (default completions).
	API string `json:"api,omitempty"`
	// Bisect pins the exact breaking point after the doubling (default true).
	Bisect *bool `json:"bisect,omitempty"`
	// Scenarios are the workload shapes (default A, B and C; an empty list
	// is an error).
	Scenarios []Scenario `json:"scenarios,omitempty"`
	SLA       SLA        `json:"sla,omitzero"`
	// MinRequests: a step's window stays open (past stepDuration) until at
	// least this many of its requests have finished (default 20), so its
	// percentiles rest on data whatever the request length.
	MinRequests *int `json:"minRequests,omitempty"`
	// MaxRequests and MaxWindow bound the re-measure budget: a window whose
	// verdict is not clear at 95 % stays open until it is, until this many
	// of its requests finished (default 200, at least minRequests) or until
	// it lasted MaxWindow (default 5m, at least stepDuration; also the bound
	// on waiting for MinRequests).
	MaxRequests *int      `json:"maxRequests,omitempty"`
	MaxWindow   *Duration `json:"maxWindow,omitempty"`
	// KeepRuns is how many run directories the results directory keeps
	// (default 30): after a run completes, the oldest beyond that number
	// are removed (never the run just completed or resumed; nothing after
	// a run that failed or was interrupted).
	KeepRuns *int `json:"keepRuns,omitempty"`
	// TimeScale is for sweeping a time-scaled simulator (vllm-sim
	// --time-scale F): the SLA's time thresholds are multiplied by it and
	// its reading-speed thresholds divided by it. 0 and 1 both mean real
	// time, so a plain value is enough: unset and 0 mean the same.
	TimeScale float64 `json:"timeScale,omitempty"`
	// BudgetGPUMinutes is the most a run may hold its targets, in
	// GPU-minutes (minutes a target is held times its GPUs, added over the
	// steps; 0 or unset: no limit). When it is spent the run stops with the
	// answers found so far and their confidence, never an invented one.
	BudgetGPUMinutes float64 `json:"budgetGPUMinutes,omitempty"`
	// Shards splits the sweep's load over this many sweep-runner processes
	// (1..64; unset is 1: one process). In step07.yaml more than 1 makes the
	// CronJob's Job an Indexed Job of that many pods: index 0 coordinates
	// and writes the results, the others generate load (docs/measuring.md, "Sharded
	// sweep"). Default leaves it unset (no shards: 1 in every plan); read
	// it with ShardCount. An explicit 0 is reported by Validate.
	Shards *int `json:"shards,omitempty"`
	// AllowBusy sweeps a model that others are using. Without it a sweep
	// waits (within readyTimeout) for the model to be idle before its
	// first step and stops, exit 1, when it is not: their requests share
	// the batch and the KV cache with the sweep's, so it would measure less
	// than the server holds and slow their requests. With it, the steps
	// that shared the server are kept, marked (results: foreign).
	AllowBusy bool `json:"allowBusy,omitempty"`
}

// Defaults of the sweep settings.
const (
	DefaultStartConcurrency = 1
	DefaultMaxConcurrency   = 32
	DefaultStepDuration     = 60 * time.Second
	DefaultWarmup           = 10 * time.Second
	DefaultRequestTimeout   = 120 * time.Second
	// DefaultReadyTimeout is a SweepPlan's: check the targets once.
	DefaultReadyTimeout = time.Duration(0)
	DefaultMinRequests  = 20
	// DefaultMaxRequests and DefaultMaxWindow are raised to minRequests and
	// stepDuration when those are larger.
	DefaultMaxRequests = 200
	DefaultMaxWindow   = 5 * time.Minute
	DefaultKeepRuns    = 30
	// DefaultShards is one process; MaxShards bounds spec.sweep.shards.
	DefaultShards = 1
	MaxShards     = 64
)

// Ptr returns a pointer to v (for the optional settings).
func Ptr[T any](v T) *T { return &v }

// DP returns a pointer to the Duration d (for the optional settings).
func DP(d time.Duration) *Duration { return &Duration{d} }

// setDefault points *p at v when it is unset.
func setDefault[T any](p **T, v T) {
	if *p == nil {
		*p = &v
	}
}

// val is *p, or T's zero value when p is nil.
func val[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// Default fills every unset setting with its default.
func (s *SweepSettings) Default() {
	if len(s.Concurrency) == 0 {
		setDefault(&s.StartConcurrency, DefaultStartConcurrency)
		setDefault(&s.MaxConcurrency, DefaultMaxConcurrency)
	}
	setDefault(&s.StepDuration, D(DefaultStepDuration))
	setDefault(&s.Warmup, D(DefaultWarmup))
	setDefault(&s.RequestTimeout, D(DefaultRequestTimeout))
	setDefault(&s.ReadyTimeout, D(DefaultReadyTimeout))
	if s.API == "" {
		s.API = APICompletions
	}
	setDefault(&s.Bisect, true)
	if s.Scenarios == nil {
		s.Scenarios = DefaultScenarios()
	}
	for i := range s.Scenarios {
		s.Scenarios[i].defaultWorkload()
		s.Scenarios[i].defaultLengths()
	}
	ResolveMixes(s.Scenarios)
	s.SLA.Default()
	setDefault(&s.MinRequests, DefaultMinRequests)
	setDefault(&s.MaxRequests, max(DefaultMaxRequests, *s.MinRequests))
	setDefault(&s.MaxWindow, D(max(DefaultMaxWindow, s.StepDuration.Duration)))
	setDefault(&s.KeepRuns, DefaultKeepRuns)
}

// Validate reports every problem of defaulted settings at once, each at
// path + "." + its field (path is "spec.sweep" in step07.yaml, "spec" in a
// SweepPlan).
func (s *SweepSettings) Validate(path string) error {
	var errs Errors
	s.validate(&errs, path)
	return errs.Err()
}

func (s *SweepSettings) validate(errs *Errors, f string) {
	validateConcurrency(errs, f, s.Concurrency, val(s.StartConcurrency), val(s.MaxConcurrency))
	step := val(s.StepDuration).Duration
	validateTiming(errs, f, val(s.StepDuration), val(s.Warmup), val(s.RequestTimeout))
	if val(s.ReadyTimeout).Duration > 24*time.Hour {
		errs.Add(f+".readyTimeout", "must be at most 24h")
	}
	validateAPI(errs, f+".api", s.API)
	validateScenarios(errs, f+".scenarios", s.Scenarios)
	s.SLA.validate(errs, f+".sla")
	minReq, maxReq := val(s.MinRequests), val(s.MaxRequests)
	if minReq < 1 || minReq > 100000 {
		errs.Add(f+".minRequests", "must be within 1..100000, got %d", minReq)
	}
	if maxReq < minReq || maxReq > 1000000 {
		errs.Add(f+".maxRequests", "must be within minRequests (%d)..1000000, got %d", minReq, maxReq)
	}
	if w := val(s.MaxWindow).Duration; w < step || w > 24*time.Hour {
		errs.Add(f+".maxWindow", "must be at least stepDuration (%s) and at most 24h, got %s", step, w)
	}
	if k := val(s.KeepRuns); k < 1 || k > 10000 {
		errs.Add(f+".keepRuns", "must be within 1..10000 (run directories kept in the results directory; older ones are removed after a run completes), got %d", k)
	}
	if s.TimeScale != 0 && !(s.TimeScale > 0 && s.TimeScale <= 100) {
		errs.Add(f+".timeScale", "must be within (0, 100] (1: real time; vllm-sim --time-scale F needs the same F), got %g", s.TimeScale)
	}
	if b := s.BudgetGPUMinutes; b < 0 || b > 1e7 || b != b {
		errs.Add(f+".budgetGPUMinutes", "must be within 0..10000000 GPU-minutes (0: no limit), got %g", b)
	}
	if n := s.ShardCount(); n < 1 || n > MaxShards {
		errs.Add(f+".shards", "must be within 1..%d (sweep-runner processes sharing the load; 1: one process), got %d", MaxShards, n)
	}
}

// ShardCount is the number of shards: Shards, or DefaultShards when unset.
func (s SweepSettings) ShardCount() int {
	if s.Shards == nil {
		return DefaultShards
	}
	return *s.Shards
}

// clone copies the settings deeply: nothing of the copy aliases s.
func (s SweepSettings) clone() SweepSettings {
	c := s
	c.Concurrency = cloneSlice(s.Concurrency)
	c.Scenarios = cloneSlice(s.Scenarios)
	for i := range c.Scenarios {
		c.Scenarios[i] = c.Scenarios[i].clone()
	}
	c.StartConcurrency, c.MaxConcurrency = clonePtr(s.StartConcurrency), clonePtr(s.MaxConcurrency)
	c.StepDuration, c.Warmup, c.RequestTimeout = clonePtr(s.StepDuration), clonePtr(s.Warmup), clonePtr(s.RequestTimeout)
	c.ReadyTimeout, c.MaxWindow = clonePtr(s.ReadyTimeout), clonePtr(s.MaxWindow)
	c.Bisect = clonePtr(s.Bisect)
	c.MinRequests, c.MaxRequests, c.KeepRuns = clonePtr(s.MinRequests), clonePtr(s.MaxRequests), clonePtr(s.KeepRuns)
	c.Shards = clonePtr(s.Shards)
	return c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func cloneSlice[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

// EffectiveSLA is the SLA the steps are judged by: the settings', with its
// times scaled by TimeScale (a simulator running F times real time makes
// every latency F times as long and every rate 1/F times as high).
func (s SweepSettings) EffectiveSLA() SLA {
	sla := s.SLA
	f := s.TimeScale
	if f <= 0 || f == 1 {
		return sla
	}
	scale := func(d Duration) Duration { return D(time.Duration(float64(d.Duration) * f)) }
	for _, x := range sla.slaTimes() {
		*x.t = DurationThresholds{Excellent: scale(x.t.Excellent), Acceptable: scale(x.t.Acceptable), Degraded: scale(x.t.Degraded)}
	}
	sla.ReadingSpeed = FloatThresholds{Excellent: sla.ReadingSpeed.Excellent / f, Acceptable: sla.ReadingSpeed.Acceptable / f, Degraded: sla.ReadingSpeed.Degraded / f}
	return sla
}

// BisectEnabled reports whether bisection runs (default true).
func (s SweepSettings) BisectEnabled() bool { return s.Bisect == nil || *s.Bisect }

// Steps returns the doubling (or explicit) concurrency grid of the sweep.
func (s SweepSettings) Steps() []int {
	if len(s.Concurrency) > 0 {
		return append([]int(nil), s.Concurrency...)
	}
	return Doubling(val(s.StartConcurrency), val(s.MaxConcurrency))
}

// Doubling returns start, 2*start, ... up to and including max (max itself is
// appended when the doubling skips it, so the ceiling is always tested).
func Doubling(start, max int) []int {
	if start < 1 || max < start {
		return nil
	}
	var out []int
	for c := start; c <= max; c *= 2 {
		out = append(out, c)
	}
	if out[len(out)-1] != max {
		out = append(out, max)
	}
	return out
}
