// Package histogram is the load engine's log histogram of durations: many
// goroutines record into it without locks or allocation (atomic counters),
// and it summarises to a results.Distribution whose percentiles are within
// 0.5 % of the true values. It is signed: the inter-token latencies are
// never negative, but the skew between the client's and the server's
// clocks of the same gap can be.
//
// Buckets: a magnitude m above Base (1 µs) falls in bucket i with
// Base·Growth^(i-1) < m ≤ Base·Growth^i (Growth 1.01, up to ~2.3e4 s), one
// set of buckets per sign; magnitudes up to Base share a middle bucket.
// A bucket reads at its geometric middle (the middle bucket at 0, or at
// Base/2 when no negative value was recorded), clamped to the exact minimum
// and maximum.
package histogram
