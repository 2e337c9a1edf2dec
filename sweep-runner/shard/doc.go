// Package shard spreads a sweep's load over several sweep-runner
// processes: shard 0, the coordinator, runs the sweep (doubling, bisection,
// steady-state rules, scraping, results, remote write) and the others are
// workers that only generate load.
//
// For each closed-loop step the coordinator splits the users (its own share
// first, then shard 1, 2, ...: as even as they go), picks a common start
// time and sends every worker, over HTTP, POST /step: the step's load
// settings, its share, the start time, the target and calibrated prompt,
// and a request-number offset (shard i numbers its requests from
// base + i<<40, so prompts stay unique). Each shard runs the same load
// engine (load.Run) on its share, steered (load.Config.Steer): the
// response is a stream of JSON lines, the shard's progress on every tick
// (users done with their first request, finished window requests, their
// TTFTs) and then its mergeable result (load.Result: counts, errors, the
// per-request values, histograms, token totals). The coordinator alone
// decides the phases on the shards' summed progress, with the rules a
// single process applies (warmup until every user of every shard finished
// a request; window until the step duration, minRequests over all shards
// and the provisional verdict on all their TTFTs hold) and tells the
// workers with POST /phase. The merged result (load.Result.Merge) is the
// one result a single process would have had with all the users, so the
// step record and its schema are the same.
//
// Faults: a worker that cannot be reached, answers an error or whose
// stream breaks (killed) fails the step with the shard named; the
// coordinator stops the other shards' load, makes sure the workers are
// back (Pool.Ready: the local pool restarts a dead process, a Job's pool
// waits for the restarted pod) and runs the step again once, from scratch;
// a second failure fails the run, which --resume continues. Nothing of a
// failed attempt is recorded, so no step is counted twice.
package shard
