package analysis

import "github.com/rhoai-demo/step07/sweep-runner/results"

// MaxRemeasures bounds how often a level is measured again because a step
// there was disturbed (results.Step.Disturbed: a server restart, foreign
// traffic, a starved client): a disturbed step is set aside while fewer
// than MaxRemeasures disturbed steps came before it at its level, so the
// search measures the level again; the next one is taken as it is (a
// cluster that disturbs every step would otherwise hold the model for
// ever), and the answer resting on it says so (DisturbedAt).
const MaxRemeasures = 2

// Evidence returns the steps (in the order they ran) that the search and
// the verdict rest on: every step but the disturbed ones set aside.
func Evidence(steps []results.Step) []results.Step {
	n := map[float64]int{}
	out := make([]results.Step, 0, len(steps))
	for _, s := range steps {
		if len(s.Disturbed) > 0 {
			k := levelKey(s)
			n[k]++
			if n[k] <= MaxRemeasures {
				continue
			}
		}
		out = append(out, s)
	}
	return out
}

// levelKey is a step's level: its offered rate when open-loop, else its
// users.
func levelKey(s results.Step) float64 {
	if s.OpenLoop != nil {
		return -s.OpenLoop.OfferedRate
	}
	return float64(s.Concurrency)
}
