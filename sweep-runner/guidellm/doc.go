// Package guidellm reads and writes GuideLLM's saved reports
// (benchmarks.json, or the same tree as YAML), so that a GuideLLM run and a
// sweep-runner run can be judged by the same analysis, and so that a
// sweep-runner run can be handed to tools that read GuideLLM's format.
//
// Why a package of its own: GuideLLM is the reference load tool many
// users already have results from. Importing its report turns each of its
// benchmarks into one of our steps (results.Step), and from there the
// existing code paths grade the KPIs against the SLA table, apply the
// breaking-point rules and write summary.json and the reports, exactly as
// for a run of our own (sweep-runner report rebuilds an imported run
// directory). Exporting writes our steps in GuideLLM's version-2 layout.
// Keeping the format knowledge here leaves the rest of the sweep-runner
// unaware of where a step came from.
//
// # Reading
//
// Parse accepts report version 2 (GuideLLM 0.7 and later: metadata.version
// 2 and a top-level config), version 1 (0.5 and 0.6: metadata.version 1 and
// the flat CLI args under args) and 0.4's layout (args, no metadata). The
// 0.3 layout (args, run_stats and request_totals on each benchmark) is
// refused. Every problem of a report is an *Error listing the JSON path of
// each field that is missing or of the wrong type, for example
//
//	benchmarks[2].metrics.time_to_first_token_ms.successful.percentiles.p95: missing
//
// How each GuideLLM field maps to a Step field, and what has no
// counterpart, is written next to the code that maps it (see stepOf) and in
// docs/guidellm.md ("Importing GuideLLM results"). In short: GuideLLM measures
// no server gauges, so the queue rule and the KV cache KPI of an imported
// step are unknown unless Prometheus is asked for them over the
// benchmark's window (Prometheus); GuideLLM does not judge steady state, so
// every imported step says "imported: not judged".
//
// # Writing
//
// Export writes a run directory's steps as a version-2 report: one
// generative_benchmark per step, with a concurrent strategy whose streams
// are the step's concurrency, the window's times and every distribution we
// measured. What GuideLLM's schema has a slot for but we did not measure is
// written as null (or, where the schema needs a number, as a documented 0);
// what we measured but GuideLLM has no slot for (the /metrics gauges the
// queue rule reads, steady state, censored requests, the per-chunk ITL ...)
// travels in an extension object "sweep_runner" on each benchmark, which
// GuideLLM's loader keeps as an extra field and ignores. Importing our own
// export therefore gives back the same steps and the same breaking point.
package guidellm
