// Package report writes a run's reports from its summary: summary.json,
// summary.csv (one row per step) and report.md (the sizing table, the
// per-step tables with SLA grades, the metric definitions). It only renders:
// the files are written through Files (a *results.Dir, which owns the run
// directory). Rebuild reads only the run directory (plan.yaml, run.json,
// steps.jsonl), so every report can be rebuilt offline with
// `sweep-runner report RUN_DIR`.
package report
