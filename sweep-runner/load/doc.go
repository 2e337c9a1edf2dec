// Package load is the load engine: one step at one concurrency, or a
// Session of steps whose users run on from one to the next (session.go:
// users added at random phases or retired, the window opened once the
// server has settled), or one open-loop step at an offered rate
// (openloop.go).
//
// There is one measuring loop (state.measure; its phase decisions in a
// Gate, which the shard coordinator applies to its shards' merged counts
// too). How requests arrive is a strategy plugged into it (arrivals):
// closed-loop users (closedArrivals) or open-loop rates (openArrivals).
// A new arrival mode is a new strategy: what settles its warmup, what
// bounds its window, what its tail waits for.
//
// N workers (users) each run one request at a time and start the next as
// soon as the previous ends, so exactly N requests are in flight throughout
// the step. A step is: warmup, window, tail. With a Population the users are
// people instead (users.go): they think between requests (not in flight),
// start spread over one mean think time, and hold conversations whose turns
// resend the history.
//
//   - Desync: each user's first request asks for a random share of the
//     output length, so users are at random points of a request's life
//     rather than in one synchronised wave (fixed output lengths would keep
//     a wave in phase for the whole step).
//   - Warmup: at least Warmup and, with SteadyWarmup, until every user has
//     finished a request (one request lifetime at this concurrency),
//     bounded by MaxWarmup; requests started in it are counted apart.
//   - Window: requests that start in it are the step's requests. It lasts at
//     least Duration and stays open until MinRequests of them have finished
//     and Decide (the sweep's confidence check) agrees, bounded by
//     MaxWindow. Output tokens/s counts every token that arrived in it.
//   - Tail: the load goes on, so the window's last requests finish under
//     the same load, until they have all finished (bounded by Grace);
//     requests started in the tail are counted apart. A window request
//     silent for longer than StallAfter is not waited for. Then every
//     request still running is aborted (its context cancelled, so its
//     connection is closed and the server stops working on it).
//   - Censoring: a window request cut at the end counts incomplete (or
//     errored, kind "stalled", when its stream had gone silent for longer
//     than StallAfter); one without a first token enters TTFT with the time
//     it waited, a lower bound, and one with two or more tokens enters TPOT
//     with its partial TPOT.
//   - Refusals: RefuseAfter answers in a row with a 4xx other than 429 stop
//     the step with a *RefusedError carrying the server's message: bad
//     input, not load. So do RefuseAfter answers in a row that break the
//     client's side of the protocol (oversized, overlong, malformed_chunk:
//     the RefusedError's Kind): a server the sweep cannot measure.
//
// Every request started is accounted for: successful + errored + incomplete
// = started, for the warmup, the window and the tail alike. A request also
// has its own timeout (a timeout error). All times come from the monotonic
// clock. Requests are collected under one mutex (a few thousand a second at
// most); the inter-token gaps go to a lock-free log histogram
// (sweep-runner/histogram), and their skew against the server's own stamps
// (sim_t_ns) to another (signed: the skew can be negative).
//
// Making requests and adding up their results are separate: a worker
// builds a request, sends it and settles what came back (a stream cut
// while silent becomes stalled) into an outcome; a tally, pure and tested
// on synthetic outcomes, adds the outcomes up into the Result (counts,
// censoring, per-request values, goodput against the SLA).
package load
