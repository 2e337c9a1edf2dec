// Package kpi is the one definition of what a sweep step is judged by: its
// breaking rules (names, thresholds read from the SLA, direction, where a
// point estimate is far from them). sweep-runner's grading (analysis.
// Evaluate), its confidence intervals and plain verdicts (analysis.judge)
// and the simulator's ground truth (vllmsim.TrueBreakingPoint) iterate
// over Rules, so a rule is changed, or added, here once.
package kpi
