// Package scrape reads a vLLM server's /metrics during a step (once a
// second) and summarises the window: requests waiting and running, KV cache
// usage, preemptions, and the server-side TTFT p95 from the delta of the TTFT
// histogram. Both generations of vLLM metric names are understood
// (vllm:kv_cache_usage_perc, V1; vllm:gpu_cache_usage_perc, v0). Series are
// those whose model_name label is the target's served model; when no series
// carries it, all series are summed.
package scrape
