// Package results is the on-disk schema of a sweep run: the per-step record
// appended to steps.jsonl, the summary written to summary.json, and the
// helpers that append, read and repair steps.jsonl. Every later consumer (the
// reports, the capacity planner, remote write, the fidelity benchmark) reads
// these types; they never depend on how a step was measured.
//
// It also owns the run directory itself: Create makes one (unique id,
// locked, plan.yaml), OpenDir reopens one to resume it, Load reads one,
// Latest, List and RunDirs find them and Prune removes old ones; every file
// in it (run.json, steps.jsonl, the reports the report package renders,
// remote write's pending samples, a sharded coordinator's marker) is
// written through a *Dir, atomically or appended and fsynced. No other
// package reads or writes a run directory with os calls, so the layout, the
// locking and the crash safety are decided here once (layers/ checks it).
//
// Units: durations are seconds (float64), rates are per second, percentages
// are 0..100 and ratios 0..1, as each field's name says. Distributions have
// the shape of GuideLLM's distribution summaries.
package results
