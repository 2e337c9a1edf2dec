// Package results is the on-disk schema of a sweep run: the per-step record
// appended to steps.jsonl, the summary written to summary.json, and the
// helpers that append, read and repair steps.jsonl. Every later consumer (the
// reports, the capacity planner, remote write, the fidelity benchmark) reads
// these types; they never depend on how a step was measured.
//
// Units: durations are seconds (float64), rates are per second, percentages
// are 0..100 and ratios 0..1, as each field's name says. Distributions have
// the shape of GuideLLM's distribution summaries.
package results
