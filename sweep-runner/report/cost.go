package report

import (
	"fmt"

	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// What the answer cost and how the search got there: every report shows
// the GPU-minutes each pair and the run held their targets, the
// prediction the search aimed with beside the measured answer, and each
// step's role (exploring steps only place the bracket; certified ones
// carry the answer).

// StepRole is a step's phase and role in words: "aim, explore (plain)",
// "bisect, certify"; steps written before roles show their phase alone.
func StepRole(s results.Step) string {
	switch s.Role {
	case "":
		return s.Phase
	case results.RoleExplore:
		if c := s.Confidence; c != nil && (c.Clear || c.Plain) {
			return s.Phase + ", explore (plain)"
		}
		return s.Phase + ", explore"
	}
	return s.Phase + ", " + s.Role
}

// HeldCell is how long a step held its target, and its GPU-minutes.
func HeldCell(s results.Step) string {
	if s.Held == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f s (%.2f GPU-min)", s.Held.Seconds, s.Held.GPUMinutes)
}

// PredictionCell is the breaking point the search aimed at, and its basis.
func PredictionCell(r results.Result) string {
	p := r.Prediction
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%d (%s, from c=%d)", p.BreakingPoint, p.Basis, p.FromConcurrency)
}

// CostCell is what a pair's steps held, in GPU-minutes.
func CostCell(r results.Result) string {
	if r.HeldSeconds == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", r.GPUMinutes)
}

// CostNote says what the whole run held, and what became of its budget.
func CostNote(sum *results.Summary) string {
	if sum.HeldSeconds == 0 {
		return ""
	}
	note := fmt.Sprintf("The sweep held its targets %.1f minutes: %.1f GPU-minutes (minutes held times each target's GPUs).", sum.HeldSeconds/60, sum.GPUMinutes)
	if sum.TimeScale != 0 {
		note += fmt.Sprintf(" At time scale %g the same sweep would hold real GPUs %.0f GPU-minutes.", sum.TimeScale, sum.GPUMinutes/sum.TimeScale)
	}
	if b := sum.BudgetGPUMinutes; b > 0 {
		if sum.BudgetSpent {
			note += fmt.Sprintf(" The budget of %g GPU-minutes was spent: the answers marked incomplete are what the steps measured so far, with their confidence.", b)
		} else {
			note += fmt.Sprintf(" Budget: %g GPU-minutes.", b)
		}
	}
	return note
}
