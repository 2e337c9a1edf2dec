package v1alpha1

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// PlanOverrides are settings laid over a SweepPlan: what sweep-runner run
// takes on its command line (--warmup is Warmup, --no-bisect a false
// Bisect ...). A nil field is not given and leaves the plan as it is; a
// given one replaces the plan's value, zero included (Warmup 0: no warmup,
// ReadyTimeout 0: check once).
//
// Apply them before Default, so that a setting whose default follows
// another one (maxRequests from minRequests, maxWindow from stepDuration)
// follows the value given.
type PlanOverrides struct {
	// Targets, when not empty, replace the plan's targets.
	Targets []Target
	// Scenarios, when not empty, keeps those of the plan's scenarios (the
	// default ones when the plan has none) with these names, compared
	// without case, in this order.
	Scenarios []string
	// Concurrency replaces the grid with this list. StartConcurrency and
	// MaxConcurrency switch to the doubling; the one not given keeps the
	// plan's value or its default. Concurrency excludes the other two.
	Concurrency      []int
	StartConcurrency *int
	MaxConcurrency   *int
	StepDuration     *time.Duration
	Warmup           *time.Duration
	RequestTimeout   *time.Duration
	ReadyTimeout     *time.Duration
	API              *string
	// MinRequests also raises the plan's maxRequests to it, unless
	// MaxRequests is given.
	MinRequests *int
	MaxRequests *int
	// MaxWindow; without it, a plan's maxWindow shorter than a given
	// StepDuration is raised to it.
	MaxWindow *time.Duration
	TimeScale *float64
	// BudgetGPUMinutes replaces the plan's budget (0: no limit).
	BudgetGPUMinutes *float64
	Bisect           *bool
	AllowBusy        *bool
	APIKeyFile       *string
	CAFile           *string
}

// OutputOverrides are the settings that may change also when a run is
// resumed: how many run directories are kept, and where the results and
// the power readings go.
type OutputOverrides struct {
	KeepRuns            *int
	RemoteWriteURL      *string
	PrometheusURL       *string
	PrometheusTokenFile *string
	PrometheusCAFile    *string
}

// UnknownScenarioError is a scenario override naming no scenario of the plan.
type UnknownScenarioError struct {
	Name string
	// Have are the names of the plan's scenarios.
	Have []string
}

func (e *UnknownScenarioError) Error() string {
	return fmt.Sprintf("unknown scenario %q (the plan has %s)", e.Name, strings.Join(e.Have, ", "))
}

// ErrConcurrencyOverrides: an explicit grid and a doubling were both given.
var ErrConcurrencyOverrides = errors.New("concurrency excludes startConcurrency and maxConcurrency")

// Apply lays the overrides over the plan. It fails, leaving the plan as it
// was, on an unknown scenario (an *UnknownScenarioError) or on Concurrency
// given together with StartConcurrency or MaxConcurrency; everything else
// is for Validate to judge.
func (p *SweepPlan) Apply(o PlanOverrides) error {
	s := &p.Spec
	var scenarios []Scenario
	if len(o.Scenarios) > 0 {
		have := cloneSlice(s.Scenarios)
		if have == nil {
			have = DefaultScenarios()
		}
		// A mix keeps the shapes it names even when they are not run.
		for i := range have {
			have[i] = have[i].clone()
			have[i].defaultLengths()
		}
		ResolveMixes(have)
		for _, name := range o.Scenarios {
			name = strings.TrimSpace(name)
			found := false
			for _, sc := range have {
				if strings.EqualFold(sc.Name, name) {
					scenarios, found = append(scenarios, sc), true
				}
			}
			if !found {
				e := &UnknownScenarioError{Name: name}
				for _, sc := range have {
					e.Have = append(e.Have, sc.Name)
				}
				return e
			}
		}
	}
	if o.Concurrency != nil && (o.StartConcurrency != nil || o.MaxConcurrency != nil) {
		return ErrConcurrencyOverrides
	}
	if scenarios != nil {
		s.Scenarios = scenarios
	}
	if len(o.Targets) > 0 {
		s.Targets = cloneSlice(o.Targets)
	}
	if o.Concurrency != nil {
		s.Concurrency, s.StartConcurrency, s.MaxConcurrency = cloneSlice(o.Concurrency), nil, nil
	}
	if o.StartConcurrency != nil || o.MaxConcurrency != nil {
		s.Concurrency = nil
		override(&s.StartConcurrency, o.StartConcurrency)
		override(&s.MaxConcurrency, o.MaxConcurrency)
	}
	overrideDuration(&s.StepDuration, o.StepDuration)
	overrideDuration(&s.Warmup, o.Warmup)
	overrideDuration(&s.RequestTimeout, o.RequestTimeout)
	overrideDuration(&s.ReadyTimeout, o.ReadyTimeout)
	if o.API != nil {
		s.API = *o.API
	}
	override(&s.MinRequests, o.MinRequests)
	if o.MinRequests != nil && o.MaxRequests == nil && s.MaxRequests != nil && *s.MaxRequests < *o.MinRequests {
		s.MaxRequests = Ptr(*o.MinRequests)
	}
	override(&s.MaxRequests, o.MaxRequests)
	overrideDuration(&s.MaxWindow, o.MaxWindow)
	if o.MaxWindow == nil && o.StepDuration != nil && s.MaxWindow != nil && s.MaxWindow.Duration < *o.StepDuration {
		s.MaxWindow = DP(*o.StepDuration)
	}
	if o.BudgetGPUMinutes != nil {
		s.BudgetGPUMinutes = *o.BudgetGPUMinutes
	}
	if o.TimeScale != nil {
		s.TimeScale = *o.TimeScale
	}
	override(&s.Bisect, o.Bisect)
	if o.AllowBusy != nil {
		s.AllowBusy = *o.AllowBusy
	}
	if o.APIKeyFile != nil {
		s.APIKeyFile = *o.APIKeyFile
	}
	if o.CAFile != nil {
		s.CAFile = *o.CAFile
	}
	return nil
}

// ApplyOutputs lays the output overrides over the plan (also over the plan
// of a run being resumed).
func (p *SweepPlan) ApplyOutputs(o OutputOverrides) {
	s := &p.Spec
	override(&s.KeepRuns, o.KeepRuns)
	for _, f := range []struct{ dst, src *string }{
		{&s.RemoteWriteURL, o.RemoteWriteURL},
		{&s.PrometheusURL, o.PrometheusURL},
		{&s.PrometheusTokenFile, o.PrometheusTokenFile},
		{&s.PrometheusCAFile, o.PrometheusCAFile},
	} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
}

// override points *dst at a copy of *src when src is given.
func override[T any](dst **T, src *T) {
	if src != nil {
		*dst = clonePtr(src)
	}
}

func overrideDuration(dst **Duration, src *time.Duration) {
	if src != nil {
		*dst = DP(*src)
	}
}
