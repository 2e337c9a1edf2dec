package vllmsim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	vm "github.com/rhoai-demo/step07/api/vllmmetrics"
)

// vLLM's own example of build_1_2_5_buckets, and the simulator's default
// max-model-len.
func TestLengthBuckets(t *testing.T) {
	if got, want := lengthBuckets(100), []float64{1, 2, 5, 10, 20, 50, 100}; !slices.Equal(got, want) {
		t.Errorf("lengthBuckets(100) = %v, want %v", got, want)
	}
	want := []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000}
	if got := lengthBuckets(32768); !slices.Equal(got, want) {
		t.Errorf("lengthBuckets(32768) = %v, want %v", got, want)
	}
}

// TestRequestLengthHistograms sends three requests of known lengths over
// HTTP (prompt tokens as /tokenize counts them, output forced by
// min_tokens and ignore_eos) and reads vllm:request_prompt_tokens and
// vllm:request_generation_tokens at /metrics: one observation per finished
// request, the sums, and each in its bucket. A request whose client goes
// away is counted as an abort but not observed, as in vLLM.
func TestRequestLengthHistograms(t *testing.T) {
	_, url := start(t, fastCfg())
	reqs := []struct {
		prompt       string
		promptTokens int // as designed; /tokenize must agree
		output       int
	}{
		{"hello", 3, 300},                              // BOS + "hell" + "o"
		{strings.Repeat(" abcd", 149), 150, 10},        // BOS + one token per word
		{"q:" + strings.Repeat(" abcd", 697), 700, 20}, // BOS + "q" + ":" + 697 words
	}
	var prompts, outputs []float64
	for _, r := range reqs {
		var tok struct{ Count int }
		decodeJSON(t, post(t, url+"/tokenize", map[string]any{"model": "m1", "prompt": r.prompt}), &tok)
		if tok.Count != r.promptTokens {
			t.Fatalf("/tokenize counts %d tokens in a prompt made to have %d", tok.Count, r.promptTokens)
		}
		var out struct {
			Usage struct {
				PromptTokens     int `json:"prompt_tokens"`
				CompletionTokens int `json:"completion_tokens"`
			} `json:"usage"`
		}
		decodeJSON(t, post(t, url+"/v1/completions", map[string]any{"model": "m1", "prompt": r.prompt,
			"max_tokens": r.output, "min_tokens": r.output, "ignore_eos": true}), &out)
		u := out.Usage
		if u.PromptTokens != tok.Count || u.CompletionTokens != r.output {
			t.Fatalf("usage %+v, want %d prompt and %d completion tokens", u, tok.Count, r.output)
		}
		prompts = append(prompts, float64(tok.Count))
		outputs = append(outputs, float64(r.output))
	}

	// a streamed request whose client leaves after the first chunk
	ctx, cancel := context.WithCancel(context.Background())
	b, _ := json.Marshal(map[string]any{"model": "m1", "prompt": "gone", "max_tokens": 5000, "ignore_eos": true, "stream": true})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/completions", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	cancel()
	resp.Body.Close()
	waitFor(t, "the abort", func() bool {
		for _, m := range scrape(t, url+"/metrics")[vm.RequestSuccessTotal].GetMetric() {
			if labelsOf(m)[vm.LabelFinishedReason] == ReasonAbort {
				return m.GetCounter().GetValue() == 1
			}
		}
		return false
	})

	fams := scrape(t, url+"/metrics")
	for _, c := range []struct {
		name   string
		values []float64
	}{{vm.RequestPromptTokens, prompts}, {vm.RequestGenerationTokens, outputs}} {
		f, ok := fams[c.name]
		if !ok || f.GetType() != dto.MetricType_HISTOGRAM || len(f.GetMetric()) != 1 {
			t.Errorf("%s: not one histogram: %v", c.name, f)
			continue
		}
		m := f.GetMetric()[0]
		if l := labelsOf(m); l[vm.LabelModelName] != "m1" || l[vm.LabelEngine] != "0" {
			t.Errorf("%s: labels %v", c.name, l)
		}
		h := m.GetHistogram()
		var sum float64
		for _, v := range c.values {
			sum += v
		}
		if h.GetSampleCount() != uint64(len(c.values)) || h.GetSampleSum() != sum {
			t.Errorf("%s: count %d sum %g, want %d and %g (the aborted request is not observed)", c.name, h.GetSampleCount(), h.GetSampleSum(), len(c.values), sum)
		}
		var bounds []float64
		for _, bk := range h.GetBucket() {
			bounds = append(bounds, bk.GetUpperBound())
			var want uint64
			for _, v := range c.values {
				if v <= bk.GetUpperBound() {
					want++
				}
			}
			if bk.GetCumulativeCount() != want {
				t.Errorf("%s: le=%g holds %d, want %d of %v", c.name, bk.GetUpperBound(), bk.GetCumulativeCount(), want, c.values)
			}
		}
		if !slices.Equal(bounds, append(lengthBuckets(32768), math.Inf(1))) {
			t.Errorf("%s: buckets %v, want vLLM's 1-2-5 buckets up to max-model-len", c.name, bounds)
		}
	}
	// the buckets a reader of the shares <= 200 and > 1000 tokens uses
	le := func(name string, bound float64) uint64 {
		for _, bk := range fams[name].GetMetric()[0].GetHistogram().GetBucket() {
			if bk.GetUpperBound() == bound {
				return bk.GetCumulativeCount()
			}
		}
		t.Fatalf("%s: no bucket le=%g", name, bound)
		return 0
	}
	if got := []uint64{le(vm.RequestPromptTokens, 200), le(vm.RequestPromptTokens, 1000), le(vm.RequestGenerationTokens, 200), le(vm.RequestGenerationTokens, 1000)}; !slices.Equal(got, []uint64{2, 3, 2, 3}) {
		t.Errorf("prompt le=200, le=1000, output le=200, le=1000: %v, want [2 3 2 3]", got)
	}
}
