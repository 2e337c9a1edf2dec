// Package vllmsim is a simulated vLLM server for users, tests and demos
// without GPUs. It serves the OpenAI API as vLLM does, behaves like vLLM
// under load (a continuous-batching scheduler with a waiting queue, a
// bounded batch, a paged KV cache and preemption), exports vLLM's
// Prometheus metrics and DCGM-exporter-like GPU metrics, and injects faults.
//
// # In-process API
//
//	cfg, _ := vllmsim.Profile("mistral-int4-tp1") // or vllmsim.DefaultConfig()
//	cfg.MaxNumSeqs = 4
//	srv, err := vllmsim.New(cfg)
//	defer srv.Close()
//	api := httptest.NewServer(srv.Handler())      // OpenAI API, /metrics, ...
//	gpu := httptest.NewServer(srv.DCGMHandler())  // DCGM_FI_* series
//
// Run(ctx, cfg, log) listens on cfg.Listen and cfg.DCGMListen instead.
// LoadProfileFile reads a profile from YAML or JSON: Config's JSON keys,
// durations as strings ("12ms"), and "profile" naming the preset to start from.
//
// # Endpoints (Handler)
//
//   - POST /v1/completions, POST /v1/chat/completions: streaming (SSE
//     "data: {json}" chunks, then "data: [DONE]") and not; max_tokens
//     (completions default 16, chat default max_model_len - prompt),
//     max_completion_tokens, min_tokens, ignore_eos,
//     stream_options.include_usage (a last chunk with "choices": [] and
//     usage). Chat streams start with a role-only delta. Without ignore_eos
//     a request may stop early ("stop") after a seeded geometric length
//     with mean Config.MeanOutputTokens; otherwise it ends with "length".
//     An unknown model is a 404, a malformed body a 400, both with
//     vLLM's {"error": {"message", "type", "param", "code"}} body.
//   - GET /v1/models, GET /version, GET /health (503 during the startup delay).
//   - POST /tokenize: {"prompt": ...} or {"messages": [...]} →
//     {"count", "max_model_len", "tokens", "token_strs"}; count equals the
//     usage.prompt_tokens of the same prompt.
//   - GET /metrics: vLLM V1 series (MetricNamesV1) with labels model_name
//     and engine="0" and V1 buckets; Config.MetricsCompat "v0" serves
//     MetricNamesV0 instead (gpu_cache_usage_perc,
//     time_per_output_token_seconds, gpu_prefix_cache_*; no engine label).
//     The length histograms request_prompt_tokens and
//     request_generation_tokens (vLLM's 1-2-5 buckets up to max-model-len)
//     get one observation per request the engine finished; a request whose
//     client went away counts as an abort and is not observed, as in vLLM.
//   - GET /admin/faults, POST /admin/faults: read or change Faults at
//     runtime; fields absent from the POSTed JSON keep their value.
//
// # Token rule
//
// Tokenize(text) is the documented deterministic rule used everywhere:
// BOS (id 1), then one token per started 4 letters/digits of each word
// (with the space before the word attached to its first token), and one
// token per other character. Chat requests are rendered by RenderChat
// ("<|role|>\ncontent\n" per message, then "<|assistant|>\n") before
// tokenizing. Generated text consists of one-token words (" the", " data",
// ...), so it re-tokenizes to completion_tokens.
//
// # Server-side timing extension
//
// Every streamed chunk that carries a token also carries "sim_t_ns": the
// nanoseconds from the request's arrival at the server to the moment the
// chunk was written (server monotonic clock). The usage object (last
// stream chunk with include_usage, and every non-streaming response)
// carries "server_ttft_seconds": arrival to the first token written (for
// non-streaming responses, to the first token produced). Clients can check
// their own TTFT and inter-token measurements against these.
//
// # Engine
//
// One engine goroutine runs iterations back to back while there is work.
// Each iteration decodes one token for every running sequence that has
// finished prefill, advances prefills within the per-iteration budget
// (MaxBatchedTokens, chunked), and admits waiting requests in FIFO order
// while the batch has fewer than MaxNumSeqs sequences and the KV cache
// (KVCacheTokens in BlockSize blocks) has room for the whole prompt. A
// decode that needs a new block when none is free preempts the newest
// running sequence, which returns to the front of the queue and is
// recomputed later. An iteration lasts (IterFixed + PerPrefillToken ×
// prefill tokens + PerDecodeSeq × decoding sequences) × TimeScale. TTFT,
// queue time and e2e latency count from arrival, as vLLM does.
// FixedLatency replaces batching by one clock per sequence (see Config).
// The scheduler core never reads the clock, so its tests run in virtual time.
//
// TimeScale (default 1) multiplies every modelled duration: 0.1 is the same
// model ten times faster (every latency 0.1×, every rate 10×, the same
// saturating concurrency), for demos that must reach a steady state within
// minutes. A load generator must scale its SLA time thresholds by the same
// factor. Client round trips and timer slack do not scale.
//
// # Ground truth in virtual time
//
// SimulateClosedLoop drives the same engine with closed-loop users
// (ClosedLoop: users, prompt and exact output length, warmup, window,
// turnaround, phases) in virtual time, with the server loop's event order,
// and reports TTFT, TPOT and the waiting/running/KV gauges as a scraper
// would sample them. TrueBreakingPoint scans users 1, 2, ... with several
// phase draws pooled per count and applies the product's breaking rules
// (kpi.Rules against the SLA, its times scaled by TimeScale: TTFT p95
// above the degraded threshold, or waiting > 0 in at least queueFraction of
// the samples; see Broken): the answer a load generator's sweep should find.
//
// # DCGM metrics (DCGMHandler)
//
// Per simulated GPU (Config.GPUs): DCGM_FI_DEV_POWER_USAGE (idle to max
// watts with utilisation), DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION (mJ, the
// integral of power), DCGM_FI_DEV_FB_USED/FB_FREE (MiB; vLLM reserves
// GPUMemoryUtilization of memory at start, so they are constant),
// DCGM_FI_PROF_GR_ENGINE_ACTIVE (0..1, busy time × batch fill),
// DCGM_FI_DEV_GPU_UTIL (% busy time), DCGM_FI_DEV_GPU_TEMP and
// DCGM_FI_DEV_SM_CLOCK, labelled gpu, UUID, device, modelName, Hostname,
// container, namespace and pod.
//
// # Faults
//
// Faults (flags at start, /admin/faults at runtime, all drawn from the
// seeded RNG): an error rate answering with chosen status codes (429, 500,
// 503), a mid-stream disconnect rate, stalls of StallSeconds inside a
// stream, a startup delay during which /health and the API answer 503, and
// a maximum waiting-queue length beyond which requests get 429.
//
// # Profiles
//
// Profile(name) returns illustrative presets, not measurements:
// "mistral-bf16-tp4" (4 GPUs, 262144 KV tokens, 6 ms + 10 µs/prefill token
// + 0.7 ms/decoding sequence), "mistral-int4-tp1" (1 GPU, 10240 KV tokens,
// 10 ms + 60 µs/prefill token + 1.4 ms/decoding sequence) and
// "fixed-latency" (no batching effects). In workload A (256 in / 128 out)
// INT4 falls below 20 tokens/s per user near 26 concurrent users, BF16 near
// 60: INT4 saturates at a lower total concurrency but serves more users
// per GPU.
package vllmsim
