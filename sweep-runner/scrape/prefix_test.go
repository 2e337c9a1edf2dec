package scrape

import (
	"strings"
	"testing"
	"time"
)

// The prefix cache counters under both names (V1, and the older gpu_ ones),
// with or without the _total suffix, and their delta over a window.
func TestPrefixCounters(t *testing.T) {
	for _, tc := range []struct{ name, text, metric string }{
		{"v1", "# TYPE vllm:prefix_cache_queries_total counter\nvllm:prefix_cache_queries_total{engine=\"0\",model_name=\"m1\"} %q\n" +
			"# TYPE vllm:prefix_cache_hits_total counter\nvllm:prefix_cache_hits_total{engine=\"0\",model_name=\"m1\"} %h\n", "vllm:prefix_cache_hits_total"},
		{"older", "# TYPE vllm:gpu_prefix_cache_queries counter\nvllm:gpu_prefix_cache_queries_total{model_name=\"m1\"} %q\n" +
			"# TYPE vllm:gpu_prefix_cache_hits counter\nvllm:gpu_prefix_cache_hits_total{model_name=\"m1\"} %h\n", "vllm:gpu_prefix_cache_hits_total"},
	} {
		sample := func(sec float64, q, h string) Sample {
			s, err := Parse(strings.NewReader(strings.NewReplacer("%q", q, "%h", h).Replace(v0Text+tc.text)), "m1")
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			s.T = time.Unix(1000, 0).Add(time.Duration(sec * 1e9))
			return s
		}
		samples := []Sample{sample(0.5, "1000", "100"), sample(1.5, "3000", "1100"), sample(2.5, "5000", "2600")}
		st := Stats(samples, time.Unix(1001, 0), time.Unix(1003, 0))
		pc := st.PrefixCache
		if pc == nil || pc.QueriedTokens != 4000 || pc.HitTokens != 2500 || pc.HitRate != 0.625 || pc.Metric != tc.metric || pc.PrefillTokens() != 1500 {
			t.Errorf("%s: prefix cache %+v, want 2500 of 4000 tokens hit (%s)", tc.name, pc, tc.metric)
		}
	}
	// A server without the counters: unknown, not zero.
	s, _ := Parse(strings.NewReader(v1Text), "m1")
	if s.PrefixMetric != "" {
		t.Errorf("no counters read as %q", s.PrefixMetric)
	}
	if st := Stats([]Sample{{T: time.Unix(1000, 0), OK: true}, {T: time.Unix(1002, 0), OK: true}}, time.Unix(1001, 0), time.Unix(1003, 0)); st.PrefixCache != nil {
		t.Errorf("prefix cache %+v without counters", st.PrefixCache)
	}
}
