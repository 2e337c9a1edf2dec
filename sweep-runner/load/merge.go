package load

import (
	"github.com/rhoai-demo/step07/sweep-runner/histogram"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// Merge adds o, the result of another share of the same step (a sharded
// sweep's shard), into r: counts, errors, time in requests, tokens and
// goodput add up, the per-request values and the population's are
// appended and the ITL histograms merged, so that percentiles of the
// merged result are those of one result holding every request. The
// window's edges, warmup and window notes are not merged: the coordinator
// that opened and closed the shards' common window sets them. Interrupted
// is true when either was.
func (r *Result) Merge(o *Result) {
	r.Requests = addCounts(r.Requests, o.Requests)
	r.Warmup = addCounts(r.Warmup, o.Warmup)
	r.Tail = addCounts(r.Tail, o.Tail)
	r.Censored += o.Censored
	if r.Errors == nil {
		r.Errors = map[string]int{}
	}
	for k, n := range o.Errors {
		r.Errors[k] += n
	}
	r.BusySeconds += o.BusySeconds
	r.TTFT = append(r.TTFT, o.TTFT...)
	r.TPOT = append(r.TPOT, o.TPOT...)
	r.E2E = append(r.E2E, o.E2E...)
	r.PromptTokens = append(r.PromptTokens, o.PromptTokens...)
	r.OutputTokens = append(r.OutputTokens, o.OutputTokens...)
	r.ServerTTFT = append(r.ServerTTFT, o.ServerTTFT...)
	r.TTFTSkew = append(r.TTFTSkew, o.TTFTSkew...)
	r.ITL = mergeHist(r.ITL, o.ITL)
	r.ITLSkew = mergeHist(r.ITLSkew, o.ITLSkew)
	r.WindowOutputTokens += o.WindowOutputTokens
	r.WindowPromptTokens += o.WindowPromptTokens
	r.Good += o.Good
	r.TokenCountMismatches += o.TokenCountMismatches
	r.OutputLengthMismatches += o.OutputLengthMismatches
	r.UsageMissing += o.UsageMissing
	r.Interrupted = r.Interrupted || o.Interrupted
	p, q := &r.Pop, &o.Pop
	p.ThinkSum += q.ThinkSum
	p.ThinkCount += q.ThinkCount
	p.Capped += q.Capped
	p.TTFTByTurn = appendByTurn(p.TTFTByTurn, q.TTFTByTurn)
	p.PromptByTurn = appendByTurn(p.PromptByTurn, q.PromptByTurn)
}

func addCounts(a, b results.Counts) results.Counts {
	return results.Counts{Started: a.Started + b.Started, Successful: a.Successful + b.Successful, Errored: a.Errored + b.Errored, Incomplete: a.Incomplete + b.Incomplete}
}

// mergeHist merges b into a (a new histogram when a is nil).
func mergeHist(a, b *histogram.Histogram) *histogram.Histogram {
	if b == nil {
		return a
	}
	if a == nil {
		a = new(histogram.Histogram)
	}
	a.Merge(b)
	return a
}

// appendByTurn appends b's values of each turn to a's.
func appendByTurn(a, b [][]float64) [][]float64 {
	for k, v := range b {
		if k == len(a) {
			a = append(a, nil)
		}
		a[k] = append(a[k], v...)
	}
	return a
}
