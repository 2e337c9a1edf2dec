// Package analysis is pure: step measurements in, summaries and verdicts out.
// No clock, no I/O. It computes distributions (GuideLLM's shape), grades each
// KPI against the plan's SLA table, applies the breaking-point rules, judges
// a step's confidence (clear at 95 %) or plainness (an exploring step's),
// predicts where a server saturates from its gauges, decides the next step
// of a sweep and its role (plan.go: aimed, doubled or bisected; exploring or
// certifying, clear verdicts vouching for the concurrencies beyond them)
// and derives the
// per-target answers (breaking point, max users at SLA, users and tok/s per
// GPU) from the finished steps.
package analysis
