// Package planner turns sweep results into a capacity plan: for a number of
// concurrent users, how many replicas and GPUs each model variant needs to
// stay within the SLA, what that costs per hour and per million output
// tokens, and the energy per million tokens where power was measured.
//
// PlanPeak sizes for a peak instead (PeakUsers, or the mean times a
// factor), with spare replicas on top (N+K) and the mean beside it, and
// sizes open-loop answers in requests per second (peak.go).
//
// It is pure arithmetic on figures measured at each variant's "max users at
// SLA" step; the assumptions are stated on Plan so reports can print them.
package planner
