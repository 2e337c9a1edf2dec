// Package client is the OpenAI-compatible streaming client of the load
// engine (completions and chat completions).
//
// One Client serves every worker; each worker owns a Stream (a reusable read
// buffer and chunk scanner), so reading a stream allocates nothing per chunk
// in steady state. Timing uses the monotonic clock, and a chunk's time is
// when it reached this host: on Linux the connections are read outside Go's
// poller, with the kernel's receive time of the data (rxconn_linux.go), so
// a busy engine does not lengthen what it measures; elsewhere it is the
// time the chunk was read.
//
//   - TTFT: request start (just before the request is sent) to the first
//     chunk carrying generated text; a role-only chat delta does not count.
//   - ITL: gaps between successive content chunks.
//   - E2E ends at [DONE]; the body's end is then read (bounded) so the
//     connection is kept for the user's next request.
//   - Token counts come from the final usage chunk (stream_options.
//     include_usage) and are checked against the number of content chunks.
//
// Failures are classified by kind (see results.Err*): an HTTP status other
// than 200 ("http_<code>"), the per-request timeout, a failed connection, a
// broken stream (ended without [DONE] or cut), a malformed chunk, an error
// object inside the stream, an answer past one of the read limits
// (oversized: a line, an event, the headers, the whole stream) or a stream
// that goes on past its max_tokens (overlong); limits.go lists the limits.
// A request cancelled by its caller (the step ended) is incomplete, not an
// error.
//
// When the server stamps its chunks (vllm-sim's sim_t_ns, the nanoseconds
// from request arrival to the chunk's write, and usage.server_ttft_seconds),
// the server-side TTFT is kept beside the client's for fidelity checks, and
// Stream.ITLSkew receives the client's gap between two content chunks minus
// the server's gap between writing them.
package client
