package report

import "github.com/rhoai-demo/step07/sweep-runner/results"

// UnknownQueue is what the reports print in a step's waiting column when no
// server gauges were measured for it (a target without /metrics, or a step
// imported from GuideLLM without --prometheus-url): the queue rule was not
// applied and the KV cache KPI is graded unknown.
const UnknownQueue = "unknown"

// unknownServerNote is a sentence for the reports when some step has no
// server gauges ("" when every step has them).
func unknownServerNote(sum *results.Summary) string {
	for _, r := range sum.Results {
		for _, s := range r.Steps {
			if s.Server == nil || s.Server.Samples == 0 {
				return "Steps whose waiting column reads " + UnknownQueue + " had no server metrics (no /metrics, or imported without Prometheus): the queue rule was not applied to them and their KV cache is graded " + results.GradeUnknown + "."
			}
		}
	}
	return ""
}
