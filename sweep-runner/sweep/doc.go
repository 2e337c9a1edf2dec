// Package sweep orchestrates a run: it checks every target, then for each
// target and scenario in turn (never two at once) calibrates the prompts,
// runs steps as analysis.Next decides (the baseline, steps aimed where the
// server's gauges predict it saturates, doubling and bisection; exploring
// steps that stop once their verdict is plain, certified ones at the two
// ends the answer rests on), appends each finished step to steps.jsonl
// (fsynced) and rewrites the reports.
//
// A pair's users run on from one step to the next (a load.Session) except
// at a clean boundary (the pair's first step, fewer users after a broken
// step, a sharded step), where the server is drained first. Each step
// records how long it held its target (Held); the plan's GPU-minute budget
// stops the run with the answers so far (ErrBudgetSpent). A running step
// shows its progress on Live (live.go).
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
