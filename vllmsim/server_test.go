package vllmsim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// fastCfg makes a simulator quick enough for tests: ~2 ms iterations.
func fastCfg() Config {
	c := DefaultConfig()
	c.Model = "m1"
	c.IterFixed = 2 * time.Millisecond
	c.PerPrefillToken = time.Microsecond
	c.PerDecodeSeq = 50 * time.Microsecond
	return c
}

// start serves a simulator on 127.0.0.1 for the test's lifetime.
func start(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() { ts.Close(); s.Close() })
	return s, ts.URL
}

func post(t *testing.T, url string, body any) *http.Response {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func decodeJSON(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("decode %s: %v", resp.Request.URL, err)
	}
}

// chunk is what OpenAI clients read from a completion or chat stream.
type chunk struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Model   string `json:"model"`
	Choices []struct {
		Index        int     `json:"index"`
		Text         *string `json:"text"`
		FinishReason *string `json:"finish_reason"`
		Delta        *struct {
			Role    string  `json:"role"`
			Content *string `json:"content"`
		} `json:"delta"`
	} `json:"choices"`
	Usage *usage `json:"usage"`
	SimT  int64  `json:"sim_t_ns"`
}

type usage struct {
	PromptTokens      int     `json:"prompt_tokens"`
	CompletionTokens  int     `json:"completion_tokens"`
	TotalTokens       int     `json:"total_tokens"`
	ServerTTFTSeconds float64 `json:"server_ttft_seconds"`
}

// readSSE parses a whole stream; done reports the final [DONE].
func readSSE(t *testing.T, r io.Reader) (chunks []chunk, done bool, err error) {
	t.Helper()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("not an SSE data line: %q", line)
		}
		if data == "[DONE]" {
			done = true
			continue
		}
		var c chunk
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			t.Fatalf("chunk %q: %v", data, err)
		}
		chunks = append(chunks, c)
	}
	return chunks, done, sc.Err()
}

func tokenizeCount(t *testing.T, url string, body any) int {
	t.Helper()
	var tr struct {
		Count       int   `json:"count"`
		MaxModelLen int   `json:"max_model_len"`
		Tokens      []int `json:"tokens"`
	}
	decodeJSON(t, post(t, url+"/tokenize", body), &tr)
	if tr.Count != len(tr.Tokens) || tr.MaxModelLen == 0 {
		t.Fatalf("tokenize: %+v", tr)
	}
	return tr.Count
}

func TestCompletionStream(t *testing.T) {
	_, url := start(t, fastCfg())
	prompt := "Hello world, this is a test of the simulator."
	resp := post(t, url+"/v1/completions", map[string]any{"model": "m1", "prompt": prompt, "max_tokens": 20,
		"ignore_eos": true, "stream": true, "stream_options": map[string]any{"include_usage": true}})
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	chunks, done, err := readSSE(t, resp.Body)
	resp.Body.Close()
	if err != nil || !done {
		t.Fatalf("stream ended without [DONE]: %v", err)
	}
	if len(chunks) != 21 {
		t.Fatalf("%d chunks, want 20 tokens + usage", len(chunks))
	}
	var text strings.Builder
	var last int64
	for i, c := range chunks[:20] {
		if c.Object != "text_completion" || c.Model != "m1" || len(c.Choices) != 1 || c.Choices[0].Text == nil {
			t.Fatalf("chunk %d: %+v", i, c)
		}
		text.WriteString(*c.Choices[0].Text)
		if c.SimT <= last {
			t.Fatalf("chunk %d: sim_t_ns %d not after %d", i, c.SimT, last)
		}
		last = c.SimT
		fr := c.Choices[0].FinishReason
		if (i < 19) != (fr == nil) || (i == 19 && *fr != "length") {
			t.Fatalf("chunk %d finish_reason %v", i, fr)
		}
	}
	u := chunks[20]
	if len(u.Choices) != 0 || u.Usage == nil {
		t.Fatalf("usage chunk %+v", u)
	}
	want := tokenizeCount(t, url, map[string]any{"model": "m1", "prompt": prompt})
	if u.Usage.PromptTokens != want || u.Usage.CompletionTokens != 20 || u.Usage.TotalTokens != want+20 {
		t.Fatalf("usage %+v, /tokenize says %d prompt tokens", *u.Usage, want)
	}
	if CountTokens(text.String())-1 != 20 {
		t.Fatalf("generated text %q does not re-tokenize to 20 tokens", text.String())
	}
	first := float64(chunks[0].SimT) / 1e9
	if u.Usage.ServerTTFTSeconds <= 0 || u.Usage.ServerTTFTSeconds > first {
		t.Fatalf("server_ttft_seconds %v, first chunk written at %v s", u.Usage.ServerTTFTSeconds, first)
	}
}

func TestChatStream(t *testing.T) {
	_, url := start(t, fastCfg())
	msgs := []map[string]any{{"role": "system", "content": "Be brief."},
		{"role": "user", "content": []map[string]any{{"type": "text", "text": "What is vLLM?"}}}}
	resp := post(t, url+"/v1/chat/completions", map[string]any{"model": "m1", "messages": msgs, "max_tokens": 5,
		"ignore_eos": true, "stream": true, "stream_options": map[string]any{"include_usage": true}})
	chunks, done, err := readSSE(t, resp.Body)
	resp.Body.Close()
	if err != nil || !done || len(chunks) != 7 {
		t.Fatalf("%d chunks, done %v, err %v; want role + 5 tokens + usage", len(chunks), done, err)
	}
	role := chunks[0].Choices[0].Delta
	if chunks[0].Object != "chat.completion.chunk" || role == nil || role.Role != "assistant" || chunks[0].SimT != 0 {
		t.Fatalf("first chunk is not a role-only delta: %+v", chunks[0])
	}
	for _, c := range chunks[1:6] {
		if d := c.Choices[0].Delta; d == nil || d.Content == nil || *d.Content == "" || c.SimT <= 0 {
			t.Fatalf("content chunk %+v", c)
		}
	}
	want := tokenizeCount(t, url, map[string]any{"model": "m1", "messages": msgs})
	if u := chunks[6].Usage; u == nil || u.PromptTokens != want || u.CompletionTokens != 5 {
		t.Fatalf("usage %+v, /tokenize says %d", chunks[6].Usage, want)
	}
}

func TestNonStreaming(t *testing.T) {
	_, url := start(t, fastCfg())
	var cr struct {
		Object  string `json:"object"`
		Choices []struct {
			Text         string `json:"text"`
			FinishReason string `json:"finish_reason"`
			Message      struct {
				Role    string `json:"role"`
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
		Usage usage `json:"usage"`
	}
	decodeJSON(t, post(t, url+"/v1/completions", map[string]any{"model": "m1", "prompt": "abc def", "max_tokens": 7, "ignore_eos": true}), &cr)
	if cr.Object != "text_completion" || len(cr.Choices) != 1 || cr.Choices[0].FinishReason != "length" ||
		CountTokens(cr.Choices[0].Text)-1 != 7 || cr.Usage.CompletionTokens != 7 || cr.Usage.ServerTTFTSeconds <= 0 {
		t.Fatalf("completion %+v", cr)
	}
	if want := tokenizeCount(t, url, map[string]any{"prompt": "abc def"}); cr.Usage.PromptTokens != want {
		t.Fatalf("prompt_tokens %d, /tokenize %d", cr.Usage.PromptTokens, want)
	}
	cr.Choices = nil
	decodeJSON(t, post(t, url+"/v1/chat/completions", map[string]any{"model": "m1", "max_tokens": 3, "ignore_eos": true,
		"messages": []map[string]any{{"role": "user", "content": "hi"}}}), &cr)
	if cr.Object != "chat.completion" || cr.Choices[0].Message.Role != "assistant" || CountTokens(cr.Choices[0].Message.Content)-1 != 3 {
		t.Fatalf("chat completion %+v", cr)
	}
}

// Without ignore_eos requests may stop early, never before min_tokens,
// and the same seed gives the same lengths.
func TestEarlyStopIsSeeded(t *testing.T) {
	lengths := func() []int {
		cfg := fastCfg()
		cfg.MeanOutputTokens = 8
		_, url := start(t, cfg)
		var out []int
		stops := 0
		for i := 0; i < 12; i++ {
			var cr struct {
				Choices []struct {
					FinishReason string `json:"finish_reason"`
				} `json:"choices"`
				Usage usage `json:"usage"`
			}
			decodeJSON(t, post(t, url+"/v1/completions", map[string]any{"prompt": "x", "max_tokens": 64, "min_tokens": 2}), &cr)
			n := cr.Usage.CompletionTokens
			if n < 2 || n > 64 || (cr.Choices[0].FinishReason == "stop") != (n < 64) {
				t.Fatalf("%d tokens with finish_reason %q", n, cr.Choices[0].FinishReason)
			}
			if n < 64 {
				stops++
			}
			out = append(out, n)
		}
		if stops == 0 {
			t.Fatal("no request stopped early with a mean length of 8")
		}
		return out
	}
	a, b := lengths(), lengths()
	if !equalInts(a, b) {
		t.Fatalf("same seed, different lengths: %v vs %v", a, b)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestErrorsAreOpenAIStyle(t *testing.T) {
	_, url := start(t, fastCfg())
	cases := []struct {
		name, path, body string
		code             int
		typ              string
	}{
		{"unknown model", "/v1/completions", `{"model":"nope","prompt":"x"}`, 404, "NotFoundError"},
		{"unknown model chat", "/v1/chat/completions", `{"model":"nope","messages":[{"role":"user","content":"x"}]}`, 404, "NotFoundError"},
		{"malformed", "/v1/completions", `{"model":`, 400, "BadRequestError"},
		{"wrong type", "/v1/completions", `{"prompt":"x","max_tokens":"ten"}`, 400, "BadRequestError"},
		{"no prompt", "/v1/completions", `{"model":"m1"}`, 400, "BadRequestError"},
		{"no messages", "/v1/chat/completions", `{"model":"m1","messages":[]}`, 400, "BadRequestError"},
		{"too long", "/v1/completions", `{"prompt":"x","max_tokens":999999}`, 400, "BadRequestError"},
		{"zero tokens", "/v1/completions", `{"prompt":"x","max_tokens":0}`, 400, "BadRequestError"},
		{"min over max", "/v1/completions", `{"prompt":"x","max_tokens":2,"min_tokens":3}`, 400, "BadRequestError"},
		{"tokenize malformed", "/tokenize", `[`, 400, "BadRequestError"},
		{"tokenize unknown model", "/tokenize", `{"model":"nope","prompt":"x"}`, 404, "NotFoundError"},
	}
	for _, c := range cases {
		resp, err := http.Post(url+c.path, "application/json", strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			Error struct {
				Message string `json:"message"`
				Type    string `json:"type"`
				Code    int    `json:"code"`
			} `json:"error"`
		}
		decodeJSON(t, resp, &e)
		if resp.StatusCode != c.code || e.Error.Code != c.code || e.Error.Type != c.typ || e.Error.Message == "" {
			t.Errorf("%s: status %d, error %+v; want %d %s", c.name, resp.StatusCode, e.Error, c.code, c.typ)
		}
	}
	resp, err := http.Get(url + "/v1/completions")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /v1/completions: %d", resp.StatusCode)
	}
}

func TestModelsHealthVersion(t *testing.T) {
	_, url := start(t, fastCfg())
	var ml struct {
		Object string `json:"object"`
		Data   []struct {
			ID          string `json:"id"`
			Object      string `json:"object"`
			MaxModelLen int    `json:"max_model_len"`
		} `json:"data"`
	}
	resp, err := http.Get(url + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	decodeJSON(t, resp, &ml)
	if ml.Object != "list" || len(ml.Data) != 1 || ml.Data[0].ID != "m1" || ml.Data[0].MaxModelLen != 32768 {
		t.Fatalf("models %+v", ml)
	}
	for _, p := range []string{"/health", "/version"} {
		resp, err := http.Get(url + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", p, resp.StatusCode)
		}
	}
}

func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("%s does not parse: %v", url, err)
	}
	return fams
}

func labelsOf(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

func TestMetricsV1AndV0(t *testing.T) {
	for _, compat := range []string{"v1", "v0"} {
		cfg := fastCfg()
		cfg.MetricsCompat = compat
		_, url := start(t, cfg)
		resp := post(t, url+"/v1/completions", map[string]any{"prompt": "x", "max_tokens": 3, "ignore_eos": true})
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fams := scrape(t, url+"/metrics")
		want, other := MetricNamesV1, MetricNamesV0
		if compat == "v0" {
			want, other = other, want
		}
		for _, n := range want {
			f, ok := fams[n]
			if !ok {
				t.Errorf("%s: metric %s missing", compat, n)
				continue
			}
			l := labelsOf(f.GetMetric()[0])
			if l["model_name"] != "m1" || (compat == "v1") != (l["engine"] == "0") {
				t.Errorf("%s: %s labels %v", compat, n, l)
			}
		}
		for _, n := range other {
			if _, ok := fams[n]; ok && !contains(want, n) {
				t.Errorf("%s: serves %s of the other generation", compat, n)
			}
		}
		h := fams["vllm:time_to_first_token_seconds"].GetMetric()[0].GetHistogram()
		if h.GetSampleCount() != 1 || len(h.GetBucket()) < len(ttftBuckets) {
			t.Errorf("%s: TTFT histogram %v", compat, h)
		} else {
			for i, b := range ttftBuckets {
				if h.GetBucket()[i].GetUpperBound() != b {
					t.Errorf("%s: TTFT bucket %d is %v, want %v", compat, i, h.GetBucket()[i].GetUpperBound(), b)
				}
			}
		}
		if got := fams["vllm:generation_tokens_total"].GetMetric()[0].GetCounter().GetValue(); got != 3 {
			t.Errorf("%s: generation tokens %v, want 3", compat, got)
		}
		reasons := map[string]float64{}
		for _, m := range fams["vllm:request_success_total"].GetMetric() {
			reasons[labelsOf(m)["finished_reason"]] = m.GetCounter().GetValue()
		}
		if len(reasons) != 4 || reasons["length"] != 1 {
			t.Errorf("%s: request_success_total %v", compat, reasons)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func gauge(t *testing.T, url, name string) float64 {
	t.Helper()
	f, ok := scrape(t, url+"/metrics")[name]
	if !ok {
		t.Fatalf("%s missing", name)
	}
	return f.GetMetric()[0].GetGauge().GetValue()
}

// waitFor polls cond every 20 ms for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// streamAsync starts a streaming request whose body is read to the end in
// the background; cancel aborts it.
func streamAsync(ctx context.Context, url string, body map[string]any, wg *sync.WaitGroup) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/completions", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	wg.Add(1)
	go func() {
		defer wg.Done()
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
}

func TestQueueVisibleInMetrics(t *testing.T) {
	cfg := fastCfg()
	cfg.MaxNumSeqs = 4
	s, url := start(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := 0; i < 12; i++ {
		streamAsync(ctx, url, map[string]any{"prompt": "hello", "max_tokens": 5000, "ignore_eos": true, "stream": true}, &wg)
	}
	waitFor(t, "12 requests queued", func() bool { return s.waiting()+s.running() == 12 })
	if w, r := gauge(t, url, "vllm:num_requests_waiting"), gauge(t, url, "vllm:num_requests_running"); w != 8 || r != 4 {
		t.Fatalf("/metrics: waiting %v running %v, want 8 and 4", w, r)
	}
	cancel() // client disconnects abort the requests
	wg.Wait()
	waitFor(t, "aborted requests to leave", func() bool { return s.waiting() == 0 && s.running() == 0 && s.kvUsage() == 0 })
	var aborted float64
	for _, m := range scrape(t, url+"/metrics")["vllm:request_success_total"].GetMetric() {
		if labelsOf(m)["finished_reason"] == "abort" {
			aborted = m.GetCounter().GetValue()
		}
	}
	if aborted != 12 {
		t.Fatalf("aborted %v, want 12", aborted)
	}
}

func TestDCGM(t *testing.T) {
	cfg := fastCfg()
	cfg.GPUs = 4
	s, url := start(t, cfg)
	dcgm := httptest.NewServer(s.DCGMHandler())
	defer dcgm.Close()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		streamAsync(context.Background(), url, map[string]any{"prompt": "hello", "max_tokens": 150, "ignore_eos": true, "stream": true}, &wg)
	}
	var fams map[string]*dto.MetricFamily
	waitFor(t, "energy and activity", func() bool {
		fams = scrape(t, dcgm.URL)
		e := fams["DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"].GetMetric()
		a := fams["DCGM_FI_PROF_GR_ENGINE_ACTIVE"].GetMetric()
		return len(e) > 0 && e[0].GetCounter().GetValue() > 0 && len(a) > 0 && a[0].GetGauge().GetValue() > 0
	})
	wg.Wait()
	for _, d := range dcgmHelp {
		f, ok := fams[d.name]
		if !ok || len(f.GetMetric()) != 4 {
			t.Fatalf("%s: want 4 GPUs, got %v", d.name, f)
		}
		gpus := map[string]bool{}
		for _, m := range f.GetMetric() {
			gpus[labelsOf(m)["gpu"]] = true
		}
		if !gpus["0"] || !gpus["3"] || len(gpus) != 4 {
			t.Fatalf("%s: gpu labels %v", d.name, gpus)
		}
		l := labelsOf(f.GetMetric()[0])
		if !strings.HasPrefix(l["UUID"], "GPU-") || l["modelName"] == "" || l["Hostname"] == "" ||
			l["pod"] != "m1-predictor-0" || l["namespace"] != "private-ai" || l["container"] != "kserve-container" {
			t.Fatalf("%s labels %v", d.name, l)
		}
	}
	p := fams["DCGM_FI_DEV_POWER_USAGE"].GetMetric()[0].GetGauge().GetValue()
	if p <= cfg.GPUIdleWatts || p > cfg.GPUMaxWatts*1.05 {
		t.Fatalf("power %v W under load, want above idle %v", p, cfg.GPUIdleWatts)
	}
	used := fams["DCGM_FI_DEV_FB_USED"].GetMetric()[0].GetGauge().GetValue()
	free := fams["DCGM_FI_DEV_FB_FREE"].GetMetric()[0].GetGauge().GetValue()
	if used+free != float64(cfg.GPUMemoryMiB) || used <= free {
		t.Fatalf("fb used %v free %v", used, free)
	}
}

func TestProfilesAndFiles(t *testing.T) {
	for _, n := range ProfileNames() {
		c, err := Profile(n)
		if err != nil || c.Validate() != nil {
			t.Fatalf("profile %s: %v %v", n, err, c.Validate())
		}
	}
	if _, err := Profile("nope"); err == nil {
		t.Fatal("unknown profile accepted")
	}
	dir := t.TempDir()
	yml := filepath.Join(dir, "p.yaml")
	os.WriteFile(yml, []byte("profile: mistral-int4-tp1\nmodel: custom\nmaxNumSeqs: 7\niterFixed: 3ms\nfaults:\n  error_rate: 0.5\n"), 0o600)
	c, err := LoadProfileFile(yml)
	if err != nil {
		t.Fatal(err)
	}
	if c.Model != "custom" || c.MaxNumSeqs != 7 || c.IterFixed != 3*time.Millisecond || c.GPUs != 1 || c.KVCacheTokens != 10240 || c.Faults.ErrorRate != 0.5 {
		t.Fatalf("loaded %+v", c)
	}
	js := filepath.Join(dir, "p.json")
	os.WriteFile(js, []byte(`{"model":"j","perDecodeSeq":"1ms"}`), 0o600)
	if c, err := LoadProfileFile(js); err != nil || c.Model != "j" || c.PerDecodeSeq != time.Millisecond {
		t.Fatalf("json profile %+v %v", c, err)
	}
	os.WriteFile(yml, []byte("profile: mistral-bf16-tp4\ntimeScale: 0.1\n"), 0o600)
	if c, err := LoadProfileFile(yml); err != nil || c.TimeScale != 0.1 || c.IterFixed != 6*time.Millisecond {
		t.Fatalf("timeScale profile %+v %v: want the scale set and the configured costs unchanged", c, err)
	}
	for _, bad := range []string{"unknownKey: 1\n", "iterFixed: soon\n", "maxNumSeqs: 0\n", "metricsCompat: v2\n", "timeScale: 0\n", "timeScale: -1\n"} {
		os.WriteFile(yml, []byte(bad), 0o600)
		if _, err := LoadProfileFile(yml); err == nil {
			t.Errorf("profile %q accepted", bad)
		}
	}
}

// The default server with max-num-seqs 6 answers workload A quickly at 6
// streams: nobody waits once all are admitted.
func TestDefaultsServeSixStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time run of ~2 s")
	}
	cfg := DefaultConfig()
	cfg.Model = "m1"
	cfg.MaxNumSeqs = 6
	s, url := start(t, cfg)
	prompt := strings.Repeat(" word", 255)
	var wg sync.WaitGroup
	ttfts := make(chan float64, 6)
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := post(t, url+"/v1/completions", map[string]any{"prompt": prompt, "max_tokens": 128, "ignore_eos": true,
				"stream": true, "stream_options": map[string]any{"include_usage": true}})
			chunks, done, _ := readSSE(t, resp.Body)
			resp.Body.Close()
			if done && len(chunks) == 129 && chunks[128].Usage.PromptTokens == 256 {
				ttfts <- chunks[128].Usage.ServerTTFTSeconds
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	if w := s.waiting(); w != 0 {
		t.Errorf("%v requests waiting at 6 streams with max-num-seqs 6", w)
	}
	wg.Wait()
	close(ttfts)
	n := 0
	for v := range ttfts {
		n++
		if v > 1 {
			t.Errorf("server TTFT %.3f s at 6 streams", v)
		}
	}
	if n != 6 {
		t.Fatalf("%d of 6 streams completed with 256 prompt tokens", n)
	}
}
