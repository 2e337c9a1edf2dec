package scrape

import (
	"math"
	"strings"

	dto "github.com/prometheus/client_model/go"

	vm "github.com/rhoai-demo/step07/api/vllmmetrics"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// parsePrefix reads the prefix cache counters: vLLM V1's
// prefix_cache_{queries,hits}_total, else the older
// gpu_prefix_cache_{queries,hits}_total (the exposition may drop _total).
func parsePrefix(s *Sample, fams map[string]*dto.MetricFamily, modelName string) {
	for _, names := range [][2]string{
		{vm.PrefixCacheQueriesTotal, vm.PrefixCacheHitsTotal},
		{vm.GPUPrefixCacheQueriesTotal, vm.GPUPrefixCacheHitsTotal},
	} {
		q, qok := counter(fams, names[0], modelName)
		h, hok := counter(fams, names[1], modelName)
		if qok && hok {
			s.PrefixQueries, s.PrefixHits, s.PrefixMetric = q, h, names[1]
			return
		}
	}
}

func counter(fams map[string]*dto.MetricFamily, name, modelName string) (float64, bool) {
	f := fams[name]
	if f == nil {
		f = fams[strings.TrimSuffix(name, "_total")]
	}
	if f == nil {
		return 0, false
	}
	return sum(f, modelName)
}

// prefixDelta is the prefix cache counters' increase from base to last;
// nil when either sample lacks them or they name different generations.
func prefixDelta(base, last *Sample) *results.PrefixCache {
	if base.PrefixMetric == "" || base.PrefixMetric != last.PrefixMetric {
		return nil
	}
	p := &results.PrefixCache{
		QueriedTokens: math.Max(0, last.PrefixQueries-base.PrefixQueries),
		HitTokens:     math.Max(0, last.PrefixHits-base.PrefixHits),
		Metric:        last.PrefixMetric,
	}
	p.HitTokens = math.Min(p.HitTokens, p.QueriedTokens)
	if p.QueriedTokens > 0 {
		p.HitRate = p.HitTokens / p.QueriedTokens
	}
	return p
}
