// Package sweep orchestrates a run: it checks every target, then for each
// target and scenario in turn (never two at once) calibrates the prompts,
// runs steps as analysis.Next decides (doubling until the first broken step,
// then bisection for the breaking point and the SLA boundary), appends each
// finished step to steps.jsonl (fsynced) and rewrites the reports.
//
// A cancelled context (SIGTERM from the Job's deadline) ends the current
// step at once; that step is discarded, finished steps are kept, the run is
// marked interrupted and Run returns ErrInterrupted. Resume continues from
// the run directory's plan and steps without repeating a finished step.
//
// Results retention: before the run directory is made and before each
// step, a results filesystem with less than MinFreeBytes free stops the run
// (DiskFullError); after a complete run, PruneRuns removes the oldest run
// directories beyond the plan's keepRuns, never the run itself, one another
// sweep-runner holds, or anything that is not a run directory.
package sweep
