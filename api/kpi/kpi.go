package kpi

import "github.com/rhoai-demo/step07/api/v1alpha1"

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
	},
	{
		Name: RuleQueue, Doc: "requests waiting in at least queueFraction of the /metrics samples",
		Threshold: func(sla v1alpha1.SLA) float64 { return sla.QueueFraction },
		Above:     true, Inclusive: true,
		Far: func(q float64) (float64, float64) { return q / 2, (1 + q) / 2 },
	},
	{
		Name: RuleSuccess, Doc: "success rate below the degraded threshold",
		Threshold: func(sla v1alpha1.SLA) float64 { return sla.Success.Degraded / 100 },
		Far:       func(t float64) (float64, float64) { return t - (1 - t), (1 + t) / 2 },
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
