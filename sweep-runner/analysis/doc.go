// Package analysis is pure: step measurements in, summaries and verdicts out.
// No clock, no I/O. It computes distributions (GuideLLM's shape), grades each
// KPI against the plan's SLA table, applies the breaking-point rules, decides
// the next concurrency of a sweep (doubling, then bisection) and derives the
// per-target answers (breaking point, max users at SLA, users and tok/s per
// GPU) from the finished steps.
package analysis
