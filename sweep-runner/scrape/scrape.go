package scrape

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	vm "github.com/rhoai-demo/step07/api/vllmmetrics"
	"github.com/rhoai-demo/step07/sweep-runner/analysis"
	"github.com/rhoai-demo/step07/sweep-runner/client"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// Sample is one scrape.
type Sample struct {
	T                time.Time
	OK               bool
	Waiting, Running float64
	HasKV            bool
	KV               float64 // 0..1, the highest across engines
	Generation       string  // "v1" or "v0" (KV metric name)
	Preemptions      float64
	TTFT             []analysis.Bucket // cumulative, +Inf last
	// Prefix cache counters, in prompt tokens (V1's names, else the older
	// gpu_ ones; PrefixMetric names the hits counter read, "" for none).
	PrefixQueries, PrefixHits float64
	PrefixMetric              string
	// Finished: the server's finished requests of the model so far (every
	// finished_reason); StartTime: its process start time (Unix seconds,
	// 0 when not exported). A restart shows in either (cluster.go).
	Finished, StartTime float64
	// Ours and OursFinished: the load's requests in flight and finished
	// when the sample was taken (Scraper.Ours; -1: not known).
	Ours, OursFinished float64
}

// MaxMetricsBytes bounds a /metrics page (a vLLM server's is 50 to 300
// KiB): a longer one is an error, so its sample is missing (with none, the
// queue is unknown). The parser holds about fifteen times what it reads
// (measured on distinct series), so this bounds the scraper's memory too.
const MaxMetricsBytes = 4 << 20

// Parse reads one text exposition and extracts the sample for model; an
// exposition longer than MaxMetricsBytes is an error (errors.Is
// client.ErrOversized).
func Parse(r io.Reader, modelName string) (Sample, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(client.LimitReader(r, MaxMetricsBytes, "/metrics page"))
	if err != nil {
		return Sample{}, err
	}
	s := Sample{OK: true}
	s.Waiting, _ = sum(fams[vm.NumRequestsWaiting], modelName)
	s.Running, _ = sum(fams[vm.NumRequestsRunning], modelName)
	if f := fams[vm.KVCacheUsagePerc]; f != nil {
		s.KV, s.HasKV = maxOf(f, modelName)
		s.Generation = "v1"
	} else if f := fams[vm.GPUCacheUsagePerc]; f != nil {
		s.KV, s.HasKV = maxOf(f, modelName)
		s.Generation = "v0"
	}
	// The counter's family, or (an exposition without the _total suffix)
	// the same name without it.
	if f := fams[vm.NumPreemptionsTotal]; f != nil {
		s.Preemptions, _ = sum(f, modelName)
	} else {
		s.Preemptions, _ = sum(fams[strings.TrimSuffix(vm.NumPreemptionsTotal, "_total")], modelName)
	}
	s.TTFT = histogram(fams[vm.TimeToFirstTokenSeconds], modelName)
	parsePrefix(&s, fams, modelName)
	if f := fams[vm.RequestSuccessTotal]; f != nil {
		s.Finished, _ = sum(f, modelName)
	} else {
		s.Finished, _ = sum(fams[strings.TrimSuffix(vm.RequestSuccessTotal, "_total")], modelName)
	}
	if f := fams[processStartTime]; f != nil && len(f.GetMetric()) > 0 {
		if v := value(f.GetMetric()[0]); !math.IsNaN(v) {
			s.StartTime = v
		}
	}
	s.Ours, s.OursFinished = -1, -1
	return s, nil
}

// selected returns the metrics of a family for model (all when none match).
func selected(f *dto.MetricFamily, modelName string) []*dto.Metric {
	if f == nil {
		return nil
	}
	var out []*dto.Metric
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == vm.LabelModelName && l.GetValue() == modelName {
				out = append(out, m)
			}
		}
	}
	if len(out) == 0 {
		return f.GetMetric()
	}
	return out
}

// maxValue bounds a usable value: the gauges and counters read here are
// counts and fractions, and sums and means of them must stay finite (a NaN
// or Inf makes the step record unwritable as JSON).
const maxValue = 1e15

// value of a gauge, counter or untyped metric; NaN (ignored by the callers)
// when it is of another type or not a number in 0..maxValue.
func value(m *dto.Metric) float64 {
	v := math.NaN()
	switch {
	case m.Gauge != nil:
		v = m.Gauge.GetValue()
	case m.Counter != nil:
		v = m.Counter.GetValue()
	case m.Untyped != nil:
		v = m.Untyped.GetValue()
	}
	if !(v >= 0 && v <= maxValue) {
		return math.NaN()
	}
	return v
}

func sum(f *dto.MetricFamily, modelName string) (float64, bool) {
	var t float64
	ms := selected(f, modelName)
	for _, m := range ms {
		if v := value(m); !math.IsNaN(v) {
			t += v
		}
	}
	return t, len(ms) > 0
}

func maxOf(f *dto.MetricFamily, modelName string) (float64, bool) {
	best, ok := 0.0, false
	for _, m := range selected(f, modelName) {
		if v := value(m); !math.IsNaN(v) && (!ok || v > best) {
			best, ok = v, true
		}
	}
	return best, ok
}

func histogram(f *dto.MetricFamily, modelName string) []analysis.Bucket {
	byLe := map[float64]float64{}
	total := 0.0
	found := false
	for _, m := range selected(f, modelName) {
		h := m.GetHistogram()
		if h == nil {
			continue
		}
		found = true
		for _, b := range h.GetBucket() {
			if le := b.GetUpperBound(); !math.IsNaN(le) {
				byLe[le] += float64(b.GetCumulativeCount())
			}
		}
		total += float64(h.GetSampleCount())
	}
	if !found {
		return nil
	}
	byLe[math.Inf(1)] = total
	out := make([]analysis.Bucket, 0, len(byLe))
	for le, c := range byLe {
		out = append(out, analysis.Bucket{UpperBound: le, Count: c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UpperBound < out[j].UpperBound })
	return out
}

// Scraper polls one /metrics URL.
type Scraper struct {
	URL      string
	Model    string
	Interval time.Duration
	HTTP     *http.Client
	// APIKey, when set, is sent as a bearer token (vLLM protects /metrics
	// with the same key when --api-key is set behind some proxies).
	APIKey string
	// Ours, when set, gives the load's requests in flight and finished
	// (client.Client.Load), recorded with each sample.
	Ours func() (inFlight, finished int64)
}

// New returns a scraper polling every second.
func New(url, modelName, apiKey string) *Scraper { return NewPinned(url, modelName, apiKey, "") }

// NewPinned is New reading the server at IP address addr ("": the URL
// host's): the same replica the load goes to (client.Pin).
func NewPinned(url, modelName, apiKey, addr string) *Scraper {
	d := &net.Dialer{Timeout: 3 * time.Second}
	return &Scraper{URL: url, Model: modelName, Interval: time.Second, APIKey: apiKey,
		HTTP: &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 2, DisableCompression: false,
			MaxResponseHeaderBytes: client.MaxHeaderBytes, DialContext: client.Pin(addr, d.DialContext)}}}
}

// Once scrapes one sample.
func (s *Scraper) Once(ctx context.Context) (Sample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
	if err != nil {
		return Sample{}, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	if s.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+s.APIKey)
	}
	t := time.Now()
	resp, err := s.HTTP.Do(req)
	if err != nil {
		return Sample{T: t}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return Sample{T: t}, fmt.Errorf("GET %s: HTTP %d", s.URL, resp.StatusCode)
	}
	smp, err := Parse(resp.Body, s.Model)
	// The sample stands for the moment the server answered: half way.
	smp.T = t.Add(time.Since(t) / 2)
	return smp, err
}

// Recorder holds the samples of a running scraper; Samples may be read
// while it runs (a window whose end depends on them).
type Recorder struct {
	mu      sync.Mutex
	samples []Sample
}

func (r *Recorder) add(s Sample) {
	r.mu.Lock()
	r.samples = append(r.samples, s)
	r.mu.Unlock()
}

// Samples returns a copy of the samples so far.
func (r *Recorder) Samples() []Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Sample(nil), r.samples...)
}

// WaitIdle scrapes every `every` until the server reports no running and no
// waiting request, for at most limit. It returns how long it waited and
// whether the server was idle; a server whose /metrics cannot be read is
// not idle (the caller reports it).
func (s *Scraper) WaitIdle(ctx context.Context, limit, every time.Duration) (time.Duration, bool) {
	start := time.Now()
	for {
		smp, err := s.Once(ctx)
		if err == nil && smp.OK && smp.Running == 0 && smp.Waiting == 0 {
			return time.Since(start), true
		}
		if time.Since(start)+every > limit || ctx.Err() != nil {
			return time.Since(start), false
		}
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return time.Since(start), false
		case <-t.C:
		}
	}
}

// WaitingSeries returns, in time order, 1 for each successful sample in
// [ws, we] that saw waiting > 0 and 0 for the others: the series the queue
// rule's confidence interval is computed from.
func WaitingSeries(samples []Sample, ws, we time.Time) []float64 {
	out := []float64{}
	for _, s := range samples {
		if !s.OK || s.T.Before(ws) || s.T.After(we) {
			continue
		}
		v := 0.0
		if s.Waiting > 0 {
			v = 1
		}
		out = append(out, v)
	}
	return out
}

// RunInto scrapes every Interval into rec until ctx ends.
func (s *Scraper) RunInto(ctx context.Context, rec *Recorder) {
	tick := time.NewTicker(s.Interval)
	defer tick.Stop()
	for {
		smp, err := s.Once(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			smp.OK = false
		}
		if s.Ours != nil {
			a, b := s.Ours()
			smp.Ours, smp.OursFinished = float64(a), float64(b)
		}
		rec.add(smp)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Stats summarises the samples of the window [ws, we]. Gauges use the
// samples inside it; preemptions and the TTFT histogram use the difference
// between the last sample at or before ws (else the first inside) and the
// last inside. It returns nil when no sample succeeded at all.
func Stats(samples []Sample, ws, we time.Time) *results.Server {
	var srv results.Server
	var base, last *Sample
	anyOK := false
	var nWait int
	for i := range samples {
		s := &samples[i]
		in := !s.T.Before(ws) && !s.T.After(we)
		if !s.OK {
			if in {
				srv.ScrapeErrors++
			}
			continue
		}
		anyOK = true
		if !s.T.After(ws) {
			base = s
			continue
		}
		if !in {
			continue
		}
		if base == nil {
			base = s
		}
		last = s
		srv.Samples++
		srv.Waiting.Mean += s.Waiting
		srv.Running.Mean += s.Running
		srv.Waiting.Max = math.Max(srv.Waiting.Max, s.Waiting)
		srv.Running.Max = math.Max(srv.Running.Max, s.Running)
		if s.Waiting > 0 {
			nWait++
		}
		if s.HasKV {
			srv.Generation = s.Generation
			srv.KVCacheUsage.Mean += s.KV
			srv.KVCacheUsage.Max = math.Max(srv.KVCacheUsage.Max, s.KV)
		}
	}
	if !anyOK {
		return nil
	}
	if srv.Samples > 0 {
		n := float64(srv.Samples)
		srv.Waiting.Mean /= n
		srv.Running.Mean /= n
		srv.KVCacheUsage.Mean /= n
		srv.WaitingFraction = float64(nWait) / n
	}
	if base != nil && last != nil && base != last {
		srv.Preemptions = math.Max(0, last.Preemptions-base.Preemptions)
		srv.PrefixCache = prefixDelta(base, last)
		if d := delta(base.TTFT, last.TTFT); d != nil {
			srv.TTFTCount = d[len(d)-1].Count
			srv.TTFTP95Seconds = analysis.HistogramQuantile(0.95, d)
		}
	}
	return &srv
}

func delta(a, b []analysis.Bucket) []analysis.Bucket {
	if len(b) == 0 || len(a) != len(b) {
		return nil
	}
	out := make([]analysis.Bucket, len(b))
	for i := range b {
		if a[i].UpperBound != b[i].UpperBound {
			return nil
		}
		out[i] = analysis.Bucket{UpperBound: b[i].UpperBound, Count: math.Max(0, b[i].Count-a[i].Count)}
	}
	return out
}
