// Command bench measures the load engine against vllm-sim and writes
// bench.json (run by `make bench`, after the Go benchmarks):
//
//   - Fidelity: at each stream count (--streams), a closed-loop step of the
//     load engine against vllm-sim in the fixed-latency profile (no
//     batching effects): client TTFT minus the TTFT the server stamped for
//     the same request (usage.server_ttft_seconds / sim_t_ns), and the
//     client's gap between successive content chunks minus the server's gap
//     between their writes (sim_t_ns), p50 / p99 / max.
//   - Cost: the engine's CPU seconds per million output tokens (getrusage
//     of this process over the window; the simulator runs as a separate
//     process, bin/vllm-sim, so it is not counted but competes for the same
//     CPUs), resident memory per 1,000 streams (RSS at the window's peak
//     minus RSS before the step), and the highest stream count sustained
//     (--sustain probes beyond the fidelity counts; see sustained()).
//   - Time to answer: a sweep with early stop and bisection against a fixed
//     1..32 doubling grid on vllm-sim with max-num-seqs 6, wall time to an
//     exact breaking point (the fixed grid only brackets it).
//   - The Go benchmarks' figures, parsed from --go-bench (the output of
//     go test -bench -benchmem).
package main
