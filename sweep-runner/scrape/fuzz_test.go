package scrape

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"
)

// FuzzParse: any /metrics answer is parsed or refused without panic, and
// what Stats makes of two scrapes of it is a valid step record (finite
// numbers only: a NaN or Inf would make the step unwritable as JSON).
// Seeds stay small (the fuzzer minimises new inputs byte by byte); more are
// committed under testdata/fuzz.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		v0Text,
		"# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{model_name=\"m1\"} 3\nvllm:num_requests_waiting{model_name=\"x\"} 1\n",
		"vllm:kv_cache_usage_perc{engine=\"0\",model_name=\"m1\"} NaN\nvllm:num_requests_running +Inf\n",
		"# TYPE vllm:num_preemptions_total counter\nvllm:num_preemptions_total{model_name=\"m1\"} 7\n",
		"# TYPE vllm:time_to_first_token_seconds histogram\nvllm:time_to_first_token_seconds_bucket{le=\"0.1\"} 1\nvllm:time_to_first_token_seconds_bucket{le=\"+Inf\"} 2\nvllm:time_to_first_token_seconds_count 2\nvllm:time_to_first_token_seconds_sum 1\n",
		"# TYPE vllm:time_to_first_token_seconds histogram\nvllm:time_to_first_token_seconds_bucket{le=\"NaN\"} 1e300\nvllm:time_to_first_token_seconds_count -1\n",
		"vllm:num_requests_waiting -1e308\n",
		"vllm:num_requests_waiting{model_name=\"m1\"} 1 1700000000000\n",
		"vllm:x{ 1\n",
		"\xff\x00",
	} {
		f.Add([]byte(s))
	}
	t0 := time.Unix(1000, 0)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(bytes.NewReader(data), "m1")
		if err != nil {
			return
		}
		for i := 1; i < len(s.TTFT); i++ {
			if !(s.TTFT[i-1].UpperBound < s.TTFT[i].UpperBound) {
				t.Fatalf("buckets out of order: %+v", s.TTFT)
			}
		}
		if n := len(s.TTFT); n > 0 && !math.IsInf(s.TTFT[n-1].UpperBound, 1) {
			t.Fatalf("last bucket is not +Inf: %+v", s.TTFT)
		}
		a, b := s, s
		a.T, b.T = t0.Add(time.Second), t0.Add(2*time.Second)
		// The second scrape doubles the counters, so the delta is the input.
		b.Preemptions *= 2
		b.TTFT = nil
		for _, bk := range s.TTFT {
			bk.Count *= 2
			b.TTFT = append(b.TTFT, bk)
		}
		srv := Stats([]Sample{{T: t0, OK: true}, a, b}, t0.Add(500*time.Millisecond), t0.Add(3*time.Second))
		if srv == nil {
			t.Fatal("no stats from successful samples")
		}
		if _, err := json.Marshal(srv); err != nil {
			t.Fatalf("stats of %q cannot be written: %v (%+v)", data, err, srv)
		}
		if srv.WaitingFraction < 0 || srv.WaitingFraction > 1 {
			t.Fatalf("waiting fraction %v", srv.WaitingFraction)
		}
	})
}
