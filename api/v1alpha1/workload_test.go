package v1alpha1

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// A population's defaults, and every mistake reported at its path.
func TestWorkloadConfig(t *testing.T) {
	c := mustLoad(t, "spec:\n  sweep:\n    scenarios:\n    - {name: chat, inputTokens: 256, outputTokens: 128, sharedPrefixTokens: 64, thinkTime: {mean: 5s}, turns: {min: 4}}\n    - {name: rate, inputTokens: 256, outputTokens: 128, arrival: {maxRate: 32}}\n")
	sc := c.Spec.Sweep.Scenarios
	if sc[0].ThinkTime.Distribution != DistExponential || sc[0].MeanThink() != 5*time.Second || !sc[0].ClosedLoop() {
		t.Errorf("think time: %+v", sc[0].ThinkTime)
	}
	if lo, hi := sc[0].TurnsOrOne(); lo != 4 || hi != 4 {
		t.Errorf("turns %d..%d, want 4..4", lo, hi)
	}
	if a := sc[1].Arrival; sc[1].ClosedLoop() || a.Process != ArrivalPoisson || a.StartRate != 1 || a.MaxRate != 32 || a.MaxInFlight != DefaultMaxInFlight {
		t.Errorf("arrival: %+v", a)
	}
	// The plan carries the population unchanged, and does not alias it.
	p := c.Plan()
	if p.Spec.Scenarios[0].Turns == sc[0].Turns || p.Spec.Scenarios[0].Turns.Min != 4 || p.Spec.Scenarios[1].Arrival.MaxRate != 32 {
		t.Errorf("plan scenarios: %+v", p.Spec.Scenarios)
	}

	cases := map[string]string{
		"{name: a, inputTokens: 9, outputTokens: 9, thinkTime: {distribution: gamma, mean: 1s}}":   "scenarios[0].thinkTime.distribution: must be",
		"{name: a, inputTokens: 9, outputTokens: 9, thinkTime: {mean: 0s}}":                        "scenarios[0].thinkTime.mean: must be between 1ms and 1h",
		"{name: a, inputTokens: 9, outputTokens: 9, thinkTime: {mean: 1s, spread: 2}}":             "scenarios[0].thinkTime.spread: applies to the lognormal distribution only",
		"{name: a, inputTokens: 9, outputTokens: 9, turns: {min: 3, max: 2}}":                      "scenarios[0].turns.max: must be between turns.min (3)",
		"{name: a, inputTokens: 9, outputTokens: 9, sharedPrefixTokens: 9}":                        "scenarios[0].sharedPrefixTokens: must be less than inputTokens (9)",
		"{name: a, inputTokens: 9, outputTokens: 9, arrival: {maxRate: 8}, thinkTime: {mean: 1s}}": "scenarios[0].thinkTime: applies to closed-loop users",
		"{name: a, inputTokens: 9, outputTokens: 9, arrival: {maxRate: 8}, turns: {min: 2}}":       "scenarios[0].turns: needs closed-loop users",
		"{name: a, inputTokens: 9, outputTokens: 9, arrival: {process: burst, maxRate: 8}}":        "scenarios[0].arrival.process: must be",
		"{name: a, inputTokens: 9, outputTokens: 9, arrival: {}}":                                  "scenarios[0].arrival.maxRate: is required",
		"{name: a, inputTokens: 9, outputTokens: 9, arrival: {rates: [4, 2]}}":                     "scenarios[0].arrival.rates[1]: must be greater than the rate before it (4)",
	}
	for sc, want := range cases {
		_, err := LoadConfig([]byte(header + "spec:\n  sweep:\n    scenarios:\n    - " + sc + "\n"))
		var errs Errors
		if !errors.As(err, &errs) || !strings.Contains(err.Error(), "spec.sweep."+want) {
			t.Errorf("%s: want %q, got %v", sc, want, err)
		}
	}
}
