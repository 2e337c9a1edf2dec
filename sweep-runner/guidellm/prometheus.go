package guidellm

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	vm "github.com/rhoai-demo/step07/api/vllmmetrics"
	"github.com/rhoai-demo/step07/sweep-runner/client"
	"github.com/rhoai-demo/step07/sweep-runner/results"
	"github.com/rhoai-demo/step07/sweep-runner/scrape"
)

// Prometheus fills an imported step's server gauges (results.Server) from
// range queries over the benchmark's window, since GuideLLM measures none:
// vLLM's waiting and running requests and its KV cache usage
// (vllm:kv_cache_usage_perc, or vllm:gpu_cache_usage_perc of older vLLM),
// selected by model_name. The points become samples for scrape.Stats, the
// same summary a run's own /metrics scrapes get, so the queue rule and the
// KV cache KPI are judged alike.
//
// Differences from a run's own scrapes: Prometheus scrapes every 15-30 s,
// not every second, and a range query repeats the last scraped value at
// each step of the query, so the share of samples with waiting > 0 is the
// share of the window's time the scraped value was > 0; the server-side
// TTFT histogram is not queried (ttft_p95_seconds stays 0).
type Prometheus struct {
	// URL is the API's base URL (http://prometheus:9090, or Thanos Querier).
	URL string
	// TokenFile holds a bearer token (read at every query); CAFile PEM
	// certificates trusted for an https URL besides the system roots.
	TokenFile, CAFile string
	// Timeout of one query (default 30 s).
	Timeout time.Duration

	hc *http.Client
}

// Connect checks the URL and builds the HTTP client (reading CAFile).
func (p *Prometheus) Connect() error {
	u, err := url.Parse(p.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("prometheus URL %q: want an http(s) base URL such as http://prometheus:9090", p.URL)
	}
	pool, err := client.CertPool(p.CAFile)
	if err != nil {
		return fmt.Errorf("prometheus CA: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxResponseHeaderBytes = client.MaxHeaderBytes
	if pool != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	to := p.Timeout
	if to <= 0 {
		to = 30 * time.Second
	}
	p.hc = &http.Client{Transport: tr, Timeout: to}
	return nil
}

// selector is metric{model_name="model"}, each scraped copy of a pod's
// series counted once.
func selector(metric, model string) string {
	return vm.DedupScrapes(metric + "{" + vm.LabelModelName + "=" + strconv.Quote(model) + "}")
}

// Queries are the PromQL expressions asked for model, by role.
func Queries(model string) map[string]string {
	return map[string]string{
		"waiting":     "sum(" + selector(vm.NumRequestsWaiting, model) + ")",
		"running":     "sum(" + selector(vm.NumRequestsRunning, model) + ")",
		"kv_v1":       "max(" + selector(vm.KVCacheUsagePerc, model) + ")",
		"kv_v0":       "max(" + selector(vm.GPUCacheUsagePerc, model) + ")",
		"preemptions": "sum(" + selector(vm.NumPreemptionsTotal, model) + ")",
	}
}

// Step is the resolution of the range queries for a window of length d:
// about a hundred points, between 100 ms and 15 s apart.
func Step(d time.Duration) time.Duration {
	return min(15*time.Second, max(100*time.Millisecond, (d/100).Round(time.Millisecond)))
}

// Server returns the server gauges of model between start and end; nil
// (and no error) when Prometheus has no waiting-requests series for it.
func (p *Prometheus) Server(ctx context.Context, model string, start, end time.Time) (*results.Server, error) {
	if !end.After(start) {
		return nil, nil
	}
	if p.hc == nil {
		if err := p.Connect(); err != nil {
			return nil, err
		}
	}
	step := Step(end.Sub(start))
	from := start.Add(-step) // one point at or before the window: scrape.Stats' base
	q := Queries(model)
	waiting, err := p.rangeQuery(ctx, q["waiting"], from, end, step)
	if err != nil {
		return nil, err
	}
	if len(waiting) == 0 {
		return nil, nil
	}
	running, err := p.rangeQuery(ctx, q["running"], from, end, step)
	if err != nil {
		return nil, err
	}
	gen := "v1"
	kv, err := p.rangeQuery(ctx, q["kv_v1"], from, end, step)
	if err != nil {
		return nil, err
	}
	if len(kv) == 0 {
		gen = "v0"
		if kv, err = p.rangeQuery(ctx, q["kv_v0"], from, end, step); err != nil {
			return nil, err
		}
	}
	pre, err := p.rangeQuery(ctx, q["preemptions"], from, end, step)
	if err != nil {
		return nil, err
	}
	samples := make([]scrape.Sample, 0, len(waiting))
	for _, t := range sortedTimes(waiting) {
		s := scrape.Sample{T: time.UnixMilli(t).UTC(), OK: true, Waiting: waiting[t], Running: running[t], Preemptions: pre[t]}
		if v, ok := kv[t]; ok {
			s.HasKV, s.KV, s.Generation = true, v, gen
		}
		samples = append(samples, s)
	}
	return scrape.Stats(samples, start, end), nil
}

func sortedTimes(m map[int64]float64) []int64 {
	out := make([]int64, 0, len(m))
	for t := range m {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

type rangeResponse struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		} `json:"result"`
	} `json:"data"`
}

// maxRangeBytes bounds a range query's answer (a series at Prometheus's
// most points, 11,000, is about 400 KiB); a longer one is an error.
const maxRangeBytes = 16 << 20

// rangeQuery runs /api/v1/query_range; the values by timestamp (ms) of the
// single series the aggregating query returns (empty without data).
func (p *Prometheus) rangeQuery(ctx context.Context, query string, start, end time.Time, step time.Duration) (map[int64]float64, error) {
	v := url.Values{}
	v.Set("query", query)
	v.Set("start", fmtSec(start))
	v.Set("end", fmtSec(end))
	v.Set("step", strconv.FormatFloat(step.Seconds(), 'f', -1, 64))
	u := strings.TrimRight(p.URL, "/") + "/api/v1/query_range"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(v.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if p.TokenFile != "" {
		tok, err := os.ReadFile(p.TokenFile)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the path may be a pasted token: keep it out of logs
			}
			return nil, fmt.Errorf("prometheus token file: %v", err)
		}
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("prometheus query: %w", err)
	}
	defer resp.Body.Close()
	body, err := client.ReadLimited(resp.Body, maxRangeBytes, "range query answer")
	if err != nil {
		return nil, fmt.Errorf("prometheus query: %w", err)
	}
	var r rangeResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("prometheus query: HTTP %d, not a Prometheus API answer: %.200s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("prometheus query %s: HTTP %d: %s %s", query, resp.StatusCode, r.ErrorType, r.Error)
	}
	out := map[int64]float64{}
	if len(r.Data.Result) == 0 {
		return out, nil
	}
	for _, pt := range r.Data.Result[0].Values {
		ts, ok1 := pt[0].(float64)
		vs, ok2 := pt[1].(string)
		if !ok1 || !ok2 {
			continue
		}
		f, err := strconv.ParseFloat(vs, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		out[int64(ts*1000+0.5)] = f
	}
	return out, nil
}

func fmtSec(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}
