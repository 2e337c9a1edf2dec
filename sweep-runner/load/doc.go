// Package load is the closed-loop load engine: one step at one concurrency.
//
// N workers each run one request at a time and start the next as soon as the
// previous ends, so exactly N requests are in flight throughout the step.
// A step is: warmup, then the measurement window, then a grace period.
//
//   - Requests started during the warmup are counted apart (WarmupRequests)
//     and excluded from every statistic except output tokens/s, which counts
//     every token that arrived inside the window.
//   - Requests started inside the window are the step's requests: latency
//     distributions, success rate, goodput and requests/s come from them.
//   - The rule for requests in flight when the window ends: no new request
//     starts; those in flight get the grace period to finish (their results
//     count normally); whatever still runs at the end of the grace is
//     cancelled and counted incomplete. The step deadline is therefore
//     warmup + duration + grace.
//   - Except a stuck stream: a request cut at the end that had streamed
//     tokens and then sent nothing for longer than StallAfter (the plan's
//     degraded TTFT, 2 s by default) counts as errored, kind "stalled", so
//     the success rule sees it. A request still waiting for its first token
//     stays incomplete: queueing is what the TTFT and queue rules judge.
//
// Every request started is accounted for: successful + errored + incomplete
// = started, for the window and the warmup alike. A request also has its own
// timeout (a timeout error). All times come from the monotonic clock.
// Per-request values are kept in per-worker slices (no shared lock); the
// inter-token gaps go to a lock-free log histogram, and their skew against
// the server's own stamps (sim_t_ns) to a signed one (SkewHistogram).
package load
