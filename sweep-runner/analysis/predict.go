package analysis

import (
	"math"

	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// KVFill is the share of the KV cache at which Predict expects a server to
// break: users at random points of their requests' lives hold the mean KV
// demand only on average, and the cache runs out (preemptions, then a
// queue) before the mean fills it. With 0.9 the one-user step predicted,
// on mistral-int4-tp1 over eight time-to-answer runs, A 27 to 30, B 2 or 3
// and C 12 or 13, against vllm-sim's ground truth of 31, 3 and 12.
const KVFill = 0.9

// Predict aims the search: from the /metrics gauges of the steps run so
// far (in the order they ran) it predicts the concurrency at which the
// server saturates, instead of doubling blindly. Two bases:
//
//   - kv_cache: the KV cache share one running request holds on average
//     (KV usage mean / running mean) of the highest unbroken step that has
//     both gauges; the server breaks where that many requests fill KVFill
//     of the cache.
//   - max_num_seqs: a step whose running requests stayed capped below its
//     users while requests waited and the KV cache was not full shows the
//     server's max-num-seqs; the next user past it waits.
//
// The lower prediction wins; nil when no step tells (no /metrics, or a
// server whose KV cache is too large for its gauge to move). Predict is a
// guess that places steps: the answer always rests on measured steps.
func Predict(steps []results.Step) *results.Prediction {
	var best *results.Prediction
	consider := func(p *results.Prediction) {
		if p.BreakingPoint >= 1 && (best == nil || p.BreakingPoint < best.BreakingPoint) {
			best = p
		}
	}
	var kvStep *results.Step
	for i := range steps {
		s := &steps[i]
		srv := s.Server
		if s.OpenLoop != nil || srv == nil || srv.Samples == 0 {
			continue
		}
		if !s.Broken && srv.Generation != "" && srv.KVCacheUsage.Mean > 0 && srv.Running.Mean >= 0.5 &&
			(kvStep == nil || s.Concurrency >= kvStep.Concurrency) {
			kvStep = s
		}
		if srv.WaitingFraction >= 0.5 && srv.Running.Max >= 1 && srv.Running.Max < float64(s.Concurrency) &&
			(srv.Generation == "" || srv.KVCacheUsage.Max < KVFill) {
			consider(&results.Prediction{BreakingPoint: int(srv.Running.Max) + 1, Basis: "max_num_seqs", FromConcurrency: s.Concurrency})
		}
	}
	if kvStep != nil {
		per := kvStep.Server.KVCacheUsage.Mean / kvStep.Server.Running.Mean
		// Beyond 10,000 users the gauge says nothing useful.
		if n := math.Ceil(KVFill/per - 1e-9); n <= 10000 {
			consider(&results.Prediction{BreakingPoint: max(1, int(n)), Basis: "kv_cache", FromConcurrency: kvStep.Concurrency, KVPerRequest: per})
		}
	}
	return best
}
