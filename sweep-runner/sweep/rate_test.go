package sweep

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/analysis"
	"github.com/rhoai-demo/step07/sweep-runner/results"
	"github.com/rhoai-demo/step07/vllmsim"
)

// ratePlan is testPlan with one open-loop scenario of 64 tokens in and 32
// out (about 0.23 s a request) against a vllm-sim twice as fast as real
// time (the SLA scaled the same way: TTFT acceptable 0.4 s, degraded 1 s).
func ratePlan(t *testing.T, url string, arrival v1alpha1.Arrival) *v1alpha1.SweepPlan {
	t.Helper()
	p := &v1alpha1.SweepPlan{Spec: v1alpha1.PlanSpec{
		Targets: []v1alpha1.Target{{Name: "sim", URL: url, Model: "m1", GPUs: 1}},
		SweepSettings: v1alpha1.SweepSettings{
			Scenarios:    []v1alpha1.Scenario{{Name: "P", InputTokens: 64, OutputTokens: 32, Arrival: &arrival}},
			StepDuration: v1alpha1.DP(1500 * time.Millisecond), Warmup: v1alpha1.DP(300 * time.Millisecond),
			RequestTimeout: v1alpha1.DP(10 * time.Second),
			MinRequests:    v1alpha1.Ptr(20), MaxRequests: v1alpha1.Ptr(20),
			TimeScale: 0.5,
		},
	}}
	if err := p.Default(); err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

func scaledSim(t *testing.T, seqs int) string {
	t.Helper()
	cfg := vllmsim.DefaultConfig()
	cfg.Model, cfg.MaxNumSeqs, cfg.TimeScale = "m1", seqs, 0.5
	return simWith(t, cfg).URL
}

// TestOpenLoopPoissonSweep: a Poisson sweep against a vllm-sim of known
// capacity (max-num-seqs 4: at most 4 requests served at once, so at most
// 4 / e2e requests per second) doubles the rate until a step breaks,
// bisects to 5 %, and finds a max rate at SLA consistent with that
// capacity, every rate above it broken; each step offers and achieves its
// rate, its TTFT includes the wait to be sent, and the reports say so.
func TestOpenLoopPoissonSweep(t *testing.T) {
	const seqs = 8
	url := scaledSim(t, seqs)
	plan := ratePlan(t, url, v1alpha1.Arrival{Process: v1alpha1.ArrivalPoisson, StartRate: 5, MaxRate: 80})
	r, pw := newRunner(t, plan, t.TempDir())
	r.ScrapeInterval = 50 * time.Millisecond // 30 samples a window for the queue rule
	if err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	sum, err := r.Finish(results.StatusComplete, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range pw.lines {
		t.Log(l)
	}
	res := sum.Results[0]
	ol := res.OpenLoop
	if ol == nil || ol.BreakingRate == nil || ol.MaxRateAtSLA <= 0 || !res.Complete {
		t.Fatalf("no answer in rates: %+v complete %v", ol, res.Complete)
	}
	// Capacity: max-num-seqs over the service time, the e2e of the lowest
	// rate's requests (which barely queue).
	low := res.Steps[0]
	capacity := seqs / low.Latency.E2E.Mean
	t.Logf("capacity %d / %.3f s = %.1f requests/s; max rate at SLA %g (achieved %.1f, %.1f in flight), breaking rate %g (%s), exact %v",
		seqs, low.Latency.E2E.Mean, capacity, ol.MaxRateAtSLA, ol.AchievedRateAtSLA, ol.MeanInFlightAtSLA, ol.BreakingRate.Rate, ol.BreakingRate.Rule, res.Exact)
	// Poisson arrivals queue before the servers are all busy (M/D/4 at 80 %
	// load makes about a third of the arrivals wait), so the queue rule
	// trips below capacity: the answer lies between half of it and it
	// (+10 % for the measured service time's noise); above capacity the
	// queue grows without bound, so the breaking rate is at most 1.1x it.
	if ol.MaxRateAtSLA < 0.5*capacity || ol.MaxRateAtSLA > 1.1*capacity {
		t.Errorf("max rate at SLA %g, want within [0.5, 1.1] x capacity %.1f", ol.MaxRateAtSLA, capacity)
	}
	if ol.BreakingRate.Rate <= ol.MaxRateAtSLA || ol.BreakingRate.Rate > 1.1*capacity {
		t.Errorf("breaking rate %g, want above the max rate at SLA %g and at most 1.1 x capacity %.1f", ol.BreakingRate.Rate, ol.MaxRateAtSLA, capacity)
	}
	// Bisection to 5 %: the rate that broke is within 5 % of one that held.
	if !res.Exact || ol.Resolution != analysis.RateResolution {
		t.Errorf("bisection not pinned: max at SLA %g, breaking %g, exact %v", ol.MaxRateAtSLA, ol.BreakingRate.Rate, res.Exact)
	}
	checkAccounting(t, res.Steps)
	for _, s := range res.Steps {
		o := s.OpenLoop
		if o == nil {
			t.Fatalf("step %d has no open_loop", s.Seq)
		}
		if o.Process != v1alpha1.ArrivalPoisson || o.ClientBound != nil {
			t.Errorf("rate %g: process %q, client bound %+v", o.OfferedRate, o.Process, o.ClientBound)
		}
		if o.OfferedRate > 1.1*capacity && !s.Broken {
			t.Errorf("rate %g above capacity %.1f is not broken", o.OfferedRate, capacity)
		}
		// A Poisson window of n arrivals has a relative noise of 1/sqrt(n).
		if tol := 3 / math.Sqrt(float64(s.Requests.Started)); o.AchievedRate < o.OfferedRate*(1-tol) || o.AchievedRate > o.OfferedRate*(1+tol) {
			t.Errorf("rate %g: achieved %.2f over %d requests", o.OfferedRate, o.AchievedRate, s.Requests.Started)
		}
		if s.Server == nil || s.Server.Samples == 0 || s.Latency.TTFT.Count == 0 {
			t.Errorf("rate %g: nothing measured", o.OfferedRate)
		}
		// Little's law: mean in flight = achieved rate x mean time in flight.
		if s.Concurrency != int(s.ConcurrencyAchieved+0.5) {
			t.Errorf("rate %g: concurrency %d, mean in flight %.2f", o.OfferedRate, s.Concurrency, s.ConcurrencyAchieved)
		}
		// TTFT counts from the schedule: it includes the send delay.
		if s.Latency.TTFT.Min < o.SendDelay.Min || s.Latency.TTFT.Percentiles.P50 < o.SendDelay.Percentiles.P50 {
			t.Errorf("rate %g: TTFT min %.4f p50 %.4f below send delay min %.4f p50 %.4f", o.OfferedRate, s.Latency.TTFT.Min, s.Latency.TTFT.Percentiles.P50, o.SendDelay.Min, o.SendDelay.Percentiles.P50)
		}
	}
	md, _ := os.ReadFile(filepath.Join(r.RunDir, results.ReportMD))
	html, _ := os.ReadFile(filepath.Join(r.RunDir, "report.html"))
	csv, _ := os.ReadFile(filepath.Join(r.RunDir, results.SummaryCSV))
	for name, b := range map[string][]byte{"report.md": md, "report.html": html} {
		for _, want := range []string{"max rate at SLA", "req/s", "scheduled send time", "client bound"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("%s does not say %q", name, want)
			}
		}
	}
	if !strings.Contains(strings.SplitN(string(csv), "\n", 2)[0], "offered_rate") {
		t.Errorf("summary.csv has no offered_rate column")
	}
}

// TestOpenLoopClientBound: a maxInFlight below what the rate needs (2 in
// flight, against 8 sequences the server could run) makes requests wait to
// be sent: the step records the bound, breaks by client_bound, and the
// result and reports say so.
func TestOpenLoopClientBound(t *testing.T) {
	url := scaledSim(t, 8)
	plan := ratePlan(t, url, v1alpha1.Arrival{Process: v1alpha1.ArrivalPoisson, Rates: []float64{40}, MaxInFlight: 2})
	r, pw := newRunner(t, plan, t.TempDir())
	if err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	sum, err := r.Finish(results.StatusComplete, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range pw.lines {
		t.Log(l)
	}
	res := sum.Results[0]
	if len(res.Steps) != 1 {
		t.Fatalf("%d steps, want the explicit rate", len(res.Steps))
	}
	hi := res.Steps[0]
	b := hi.OpenLoop.ClientBound
	if b == nil || b.Requests == 0 || b.Seconds <= 0 || !hi.Broken || !contains(hi.Rules, results.RuleClientBound) {
		t.Fatalf("40 req/s with maxInFlight 2: bound %+v, broken %v by %v", b, hi.Broken, hi.Rules)
	}
	if hi.OpenLoop.PeakInFlight > 2 || hi.ConcurrencyAchieved > 2.01 {
		t.Errorf("in flight beyond the bound: peak %d, mean %.2f", hi.OpenLoop.PeakInFlight, hi.ConcurrencyAchieved)
	}
	// The waits are inside the latencies.
	if hi.Latency.TTFT.Percentiles.P50 < hi.OpenLoop.SendDelay.Percentiles.P50 || hi.OpenLoop.SendDelay.Max < b.MaxWaitSeconds*0.99 {
		t.Errorf("TTFT p50 %.3f s, send delay p50 %.3f s max %.3f s, bound max wait %.3f s", hi.Latency.TTFT.Percentiles.P50,
			hi.OpenLoop.SendDelay.Percentiles.P50, hi.OpenLoop.SendDelay.Max, b.MaxWaitSeconds)
	}
	ol := res.OpenLoop
	if len(ol.ClientBoundRates) != 1 || ol.ClientBoundRates[0] != 40 || ol.BreakingRate == nil || ol.BreakingRate.Rate != 40 {
		t.Errorf("result: client bound at %v, breaking rate %+v", ol.ClientBoundRates, ol.BreakingRate)
	}
	t.Logf("40 req/s, maxInFlight 2: %d requests waited, %.2f s at the bound, max wait %.3f s; TTFT p50 %.3f s, send delay p50 %.3f s; rules %v",
		b.Requests, b.Seconds, b.MaxWaitSeconds, hi.Latency.TTFT.Percentiles.P50, hi.OpenLoop.SendDelay.Percentiles.P50, hi.Rules)
	md, _ := os.ReadFile(filepath.Join(r.RunDir, results.ReportMD))
	if !strings.Contains(string(md), "client bound reached") || !strings.Contains(string(md), results.RuleClientBound) {
		t.Errorf("report.md does not report the client bound:\n%s", md)
	}
}
