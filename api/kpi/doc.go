// Package kpi is the one definition of what a sweep step is judged by:
//   - Rules, its breaking rules (names, thresholds read from the SLA,
//     direction, where a point estimate is far from them, in words);
//   - KPIs, its graded KPIs (keys, title, unit, direction, where the value
//     comes from, thresholds read from the SLA, report format).
//
// sweep-runner's grading and at-SLA verdict (analysis.Evaluate), its
// confidence intervals and plain verdicts (analysis.judge), the SLA aim,
// the reports' grade columns and SLA sentence, and the simulator's ground
// truth (vllmsim.TrueBreakingPoint) iterate over them, so a rule or a KPI
// is changed, or added, here once (with its SLA field in api/v1alpha1).
// The production dashboard's SLA row (Panel), the alerts and their
// recording rules (Alert) and the remote-write series iterate KPIs too;
// docs/architecture.md, "Adding a KPI", lists the four files a new one is.
package kpi
