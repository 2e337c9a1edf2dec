package scrape

import (
	"github.com/rhoai-demo/step07/sweep-runner/analysis"
	"math"
	"strings"
	"testing"
	"time"
)

const v1Text = `# HELP vllm:num_requests_waiting Waiting.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="m1"} 3
vllm:num_requests_waiting{engine="0",model_name="other"} 100
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="m1"} 6
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="m1"} 0.42
# TYPE vllm:num_preemptions_total counter
vllm:num_preemptions_total{engine="0",model_name="m1"} 7
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{engine="0",model_name="m1",le="0.1"} 10
vllm:time_to_first_token_seconds_bucket{engine="0",model_name="m1",le="1"} 18
vllm:time_to_first_token_seconds_bucket{engine="0",model_name="m1",le="+Inf"} 20
vllm:time_to_first_token_seconds_sum{engine="0",model_name="m1"} 5
vllm:time_to_first_token_seconds_count{engine="0",model_name="m1"} 20
`

const v0Text = `# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{model_name="m1"} 0
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{model_name="m1"} 2
# TYPE vllm:gpu_cache_usage_perc gauge
vllm:gpu_cache_usage_perc{model_name="m1"} 0.9
`

func TestParseGenerations(t *testing.T) {
	s, err := Parse(strings.NewReader(v1Text), "m1")
	if err != nil {
		t.Fatal(err)
	}
	if s.Waiting != 3 || s.Running != 6 || s.KV != 0.42 || s.Generation != "v1" || s.Preemptions != 7 || len(s.TTFT) != 3 || s.TTFT[2].Count != 20 {
		t.Errorf("v1: %+v", s)
	}
	s, err = Parse(strings.NewReader(v0Text), "m1")
	if err != nil || s.Generation != "v0" || s.KV != 0.9 || s.Running != 2 || s.TTFT != nil {
		t.Errorf("v0: %+v %v", s, err)
	}
	// No model_name match: every series counts.
	s, _ = Parse(strings.NewReader(v1Text), "unknown")
	if s.Waiting != 103 {
		t.Errorf("unmatched model: waiting %v", s.Waiting)
	}
	if _, err := Parse(strings.NewReader("vllm:x{ 1\n"), "m1"); err == nil {
		t.Error("garbage parsed")
	}
}

func TestStats(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }
	mk := func(sec, wait, kv, pre float64, ttft []float64) Sample {
		s := Sample{T: at(sec), OK: true, Waiting: wait, Running: 4, HasKV: true, KV: kv, Generation: "v1", Preemptions: pre}
		bounds := []float64{0.1, 1, math.Inf(1)}
		for i, c := range ttft {
			s.TTFT = append(s.TTFT, bucket(bounds[i], c))
		}
		return s
	}
	samples := []Sample{
		mk(0.5, 0, 0.1, 1, []float64{10, 10, 10}), // before the window: the baseline
		mk(1.5, 2, 0.5, 1, []float64{12, 14, 14}),
		{T: at(2), OK: false},
		mk(2.5, 0, 0.7, 3, []float64{15, 20, 20}),
		mk(3.5, 1, 0.6, 4, []float64{20, 30, 30}),
		mk(9, 9, 0.99, 9, []float64{99, 99, 99}), // after the window
	}
	st := Stats(samples, at(1), at(4))
	if st.Samples != 3 || st.ScrapeErrors != 1 || st.Waiting.Max != 2 || math.Abs(st.Waiting.Mean-1) > 1e-9 ||
		math.Abs(st.WaitingFraction-2.0/3) > 1e-9 || st.KVCacheUsage.Max != 0.7 || st.Preemptions != 3 || st.TTFTCount != 20 {
		t.Errorf("%+v", st)
	}
	// Delta buckets: 10 in <=0.1, 10 more in <=1: p95 at 0.1 + 0.9*(19-10)/10.
	if math.Abs(st.TTFTP95Seconds-(0.1+0.9*9/10)) > 1e-9 {
		t.Errorf("server TTFT p95 %v", st.TTFTP95Seconds)
	}
	if Stats([]Sample{{T: at(2)}}, at(1), at(4)) != nil {
		t.Error("no successful sample should give nil")
	}
}

func bucket(le, c float64) analysisBucket { return analysisBucket{UpperBound: le, Count: c} }

type analysisBucket = analysis.Bucket
