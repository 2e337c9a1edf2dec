package load

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/client"
)

// TestSchedulePoisson: exponential gaps of mean 1/rate (and standard
// deviation 1/rate), the same send times for the same seed, others for
// another.
func TestSchedulePoisson(t *testing.T) {
	const rate, n = 40.0, 20000
	s := newSchedule(v1alpha1.ArrivalPoisson, 0, rate, 7)
	var prev time.Duration
	gaps := make([]float64, n)
	for i := range gaps {
		at := s.next()
		gaps[i] = (at - prev).Seconds()
		if at < prev {
			t.Fatalf("arrival %d at %s before the previous one at %s", i, at, prev)
		}
		prev = at
	}
	var sum, sq float64
	for _, g := range gaps {
		sum += g
	}
	mean := sum / n
	for _, g := range gaps {
		sq += (g - mean) * (g - mean)
	}
	sd := math.Sqrt(sq / (n - 1))
	// The mean of n exponential gaps has a relative standard error of
	// 1/sqrt(n) = 0.7 %: 3 % is over four of them.
	if math.Abs(mean*rate-1) > 0.03 {
		t.Errorf("mean gap %.5f s, want 1/rate = %.5f s", mean, 1/rate)
	}
	if math.Abs(sd/mean-1) > 0.05 {
		t.Errorf("coefficient of variation %.3f, want 1 (exponential)", sd/mean)
	}
	a, b, c := newSchedule(v1alpha1.ArrivalPoisson, 0, rate, 42), newSchedule(v1alpha1.ArrivalPoisson, 0, rate, 42), newSchedule(v1alpha1.ArrivalPoisson, 0, rate, 43)
	same := true
	for i := 0; i < 100; i++ {
		x, y, z := a.next(), b.next(), c.next()
		if x != y {
			t.Fatalf("seed 42 drew %s then %s for arrival %d", x, y, i)
		}
		same = same && x == z
	}
	if same {
		t.Error("seeds 42 and 43 drew the same schedule")
	}
}

// TestScheduleConstant: exactly k/rate, from 0.
func TestScheduleConstant(t *testing.T) {
	s := newSchedule(v1alpha1.ArrivalConstant, 0, 8, 1)
	for k := 0; k < 1000; k++ {
		if got, want := s.next(), time.Duration(k)*125*time.Millisecond; got != want {
			t.Fatalf("arrival %d at %s, want %s", k, got, want)
		}
	}
}

// slowServer streams n tokens of a request, the first after first, the
// others every gap, and counts requests in flight.
type slowServer struct {
	first, gap time.Duration
	n          int
	inflight   atomic.Int64
	peak       atomic.Int64
	total      atomic.Int64
}

func (s *slowServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	n := s.inflight.Add(1)
	defer s.inflight.Add(-1)
	s.total.Add(1)
	for p := s.peak.Load(); n > p && !s.peak.CompareAndSwap(p, n); p = s.peak.Load() {
	}
	f := w.(http.Flusher)
	for i := 0; i < s.n; i++ {
		d := s.gap
		if i == 0 {
			d = s.first
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(d):
		}
		fmt.Fprint(w, "data: {\"choices\":[{\"text\":\" x\"}]}\n\n")
		f.Flush()
	}
	fmt.Fprintf(w, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":%d}}\n\ndata: [DONE]\n\n", s.n)
}

func openCfg(url string, sla v1alpha1.SLA) Config {
	return Config{
		Client: client.New(url, client.Options{MaxConns: 64}), Prompt: &client.Prompt{API: "completions", Model: "m", Words: 8, Tokens: 8},
		Warmup: 200 * time.Millisecond, SteadyWarmup: true, MaxWarmup: 5 * time.Second,
		Duration: time.Second, Grace: 5 * time.Second, RequestTimeout: 10 * time.Second,
		InputTokens: 8, OutputTokens: 4, SLA: sla,
	}
}

// TestOpenLoopSendsOnSchedule: requests go out at their scheduled times
// whether or not earlier ones finished: at 50 requests/s of requests that
// last 0.4 s, about 20 are in flight, every request is accounted for, and
// the achieved rate is the offered one.
func TestOpenLoopSendsOnSchedule(t *testing.T) {
	ss := &slowServer{first: 100 * time.Millisecond, gap: 100 * time.Millisecond, n: 4}
	srv := httptest.NewServer(ss)
	defer srv.Close()
	var sla v1alpha1.SLA
	sla.Default()
	res, err := RunOpen(context.Background(), openCfg(srv.URL, sla), OpenLoop{Rate: 50, Process: v1alpha1.ArrivalConstant})
	if err != nil {
		t.Fatal(err)
	}
	c, w, tl := res.Requests, res.Warmup, res.Tail
	for _, x := range []struct {
		name string
		c    any
		ok   bool
	}{{"window", c, c.Successful+c.Errored+c.Incomplete == c.Started}, {"warmup", w, w.Successful+w.Errored+w.Incomplete == w.Started}, {"tail", tl, tl.Successful+tl.Errored+tl.Incomplete == tl.Started}} {
		if !x.ok {
			t.Errorf("%s: %+v does not add up", x.name, x.c)
		}
	}
	if got := int64(c.Started + w.Started + tl.Started); got < ss.total.Load() {
		t.Errorf("server saw %d requests, engine accounted %d", ss.total.Load(), got)
	}
	win := res.WindowEnd.Sub(res.WindowStart).Seconds()
	if ach := float64(res.Sent) / win; math.Abs(ach/50-1) > 0.1 {
		t.Errorf("achieved %.1f requests/s (%d in %.2f s), want 50", ach, res.Sent, win)
	}
	// Little: 50/s x 0.4 s = 20 in flight (more on a loaded machine); a
	// closed loop would hold 1.
	if mean := res.BusySeconds / win; mean < 15 || mean > 30 {
		t.Errorf("mean in flight %.1f, want about 20", mean)
	}
	if ss.peak.Load() < 15 || res.PeakInFlight < 15 {
		t.Errorf("peak in flight: server %d, client %d, want about 20", ss.peak.Load(), res.PeakInFlight)
	}
	if res.BoundRequests != 0 {
		t.Errorf("client bound reached (%d requests) with the default maxInFlight", res.BoundRequests)
	}
	// Sent on time: a few ms late at most, but for a machine short of CPU.
	d := slices.Sorted(slices.Values(res.SendDelay))
	if len(d) == 0 || d[len(d)/2] > 0.02 || d[len(d)*95/100] > 0.15 {
		t.Errorf("send delay median %v p95 %v of %d requests, want a few ms", d[len(d)/2], d[len(d)*95/100], len(d))
	}
	// TTFT is about the server's 100 ms: nothing waited.
	tt := slices.Sorted(slices.Values(res.TTFT))
	if tt[0] < 0.1 || tt[len(tt)/2] > 0.25 {
		t.Errorf("TTFT min %.3f median %.3f s, want about 0.1 s", tt[0], tt[len(tt)/2])
	}
}

// TestOpenLoopLatencyFromSchedule: with maxInFlight 1, requests of 0.1 s
// offered every 50 ms wait to be sent, longer and longer; their TTFT counts
// from the scheduled send time, so it holds the wait (TTFT >= send delay +
// the server's time to first token, request by request), and the step
// records the client bound. Window requests still waiting to be sent when
// the tail ends are cut, censored with their wait.
func TestOpenLoopLatencyFromSchedule(t *testing.T) {
	const first = 40 * time.Millisecond
	ss := &slowServer{first: first, gap: 20 * time.Millisecond, n: 4} // 0.1 s a request
	srv := httptest.NewServer(ss)
	defer srv.Close()
	var sla v1alpha1.SLA
	sla.Default()
	cfg := openCfg(srv.URL, sla)
	cfg.MinRequests = 5
	ol := OpenLoop{Rate: 20, Process: v1alpha1.ArrivalConstant, MaxInFlight: 1}
	res, err := RunOpen(context.Background(), cfg, ol)
	if err != nil {
		t.Fatal(err)
	}
	if ss.peak.Load() != 1 || res.PeakInFlight != 1 {
		t.Errorf("peak in flight: server %d, client %d, want 1", ss.peak.Load(), res.PeakInFlight)
	}
	if res.BoundRequests == 0 || res.BoundTime <= 0 || res.BoundMaxWait <= 0 {
		t.Fatalf("client bound not recorded: %d requests, %s, max wait %s", res.BoundRequests, res.BoundTime, res.BoundMaxWait)
	}
	if res.Censored != 0 || len(res.TTFT) != res.Requests.Started || len(res.SendDelay) != res.Requests.Started {
		t.Fatalf("every window request should have been sent and finished: %+v, %d censored, %d TTFT, %d send delays", res.Requests, res.Censored, len(res.TTFT), len(res.SendDelay))
	}
	// Request by request TTFT = send delay + the server's TTFT (>= first),
	// so the sorted TTFTs dominate the sorted send delays + first.
	tt := slices.Sorted(slices.Values(res.TTFT))
	sd := slices.Sorted(slices.Values(res.SendDelay))
	for i := range sd {
		if tt[i] < sd[i]+first.Seconds()*0.9 {
			t.Fatalf("TTFT #%d %.3f s < send delay %.3f s + %s: latency does not count from the schedule", i, tt[i], sd[i], first)
		}
	}
	med := sd[len(sd)/2]
	t.Logf("window: %d requests, send delay median %.3f s max %.3f s, TTFT median %.3f s max %.3f s (server TTFT %s); bound: %d requests, %s at the bound, max wait %s",
		len(tt), med, sd[len(sd)-1], tt[len(tt)/2], tt[len(tt)-1], first, res.BoundRequests, res.BoundTime.Round(time.Millisecond), res.BoundMaxWait.Round(time.Millisecond))
	// The queue grows 50 ms a request: the window's requests wait 0.4 s
	// and more, and their TTFT shows it.
	if med < 0.2 || tt[len(tt)/2] < med+first.Seconds()*0.9 {
		t.Errorf("send delay median %.3f s, TTFT median %.3f s: want the queue in both", med, tt[len(tt)/2])
	}

	// Twice the rate: at the window's end some 35 window requests wait,
	// 3.5 s of work; the tail gives up on them after Grace (those still
	// waiting are cut) and never waits for one silent since its schedule
	// for longer than StallAfter.
	cfg.StallAfter, cfg.Grace, ol.Rate = 300*time.Millisecond, time.Second, 40
	res, err = RunOpen(context.Background(), cfg, ol)
	if err != nil {
		t.Fatal(err)
	}
	c := res.Requests
	if res.Censored == 0 || c.Incomplete == 0 || c.Successful+c.Errored+c.Incomplete != c.Started {
		t.Fatalf("with StallAfter the waiting window requests should be cut and censored: %+v, %d censored", c, res.Censored)
	}
	if len(res.TTFT) != c.Started || slices.Max(res.TTFT) < 0.3 {
		t.Errorf("%d TTFT values for %d window requests (max %.3f s): the censored waits must enter TTFT", len(res.TTFT), c.Started, slices.Max(res.TTFT))
	}
	if end := res.WindowEnd.Sub(res.Start); end > 3*time.Second {
		t.Errorf("window closed %s after the start", end)
	}
}

// TestScheduleGamma: gamma gaps keep the mean 1/rate whatever the
// burstiness, with a coefficient of variation 1/sqrt(burstiness): 2 at
// 0.25 (bursts), 1 at 1 (Poisson), 0.5 at 4 (steadier); arrivalCV reads
// the same from the send times.
func TestScheduleGamma(t *testing.T) {
	const rate, n = 20.0, 40000
	for _, k := range []float64{0.25, 1, 4} {
		s := newSchedule(v1alpha1.ArrivalGamma, k, rate, 11)
		base := time.Unix(0, 0)
		sends := make([][2]time.Time, n)
		for i := range sends {
			at := base.Add(s.next())
			sends[i] = [2]time.Time{at, at}
		}
		end := sends[n-1][0].Add(time.Nanosecond)
		mean := end.Sub(base).Seconds() / n
		cv := arrivalCV(sends, base, end)
		// relative standard errors: mean CV/sqrt(n) (1 % at CV 2); the
		// sample CV converges slower for heavy gaps: 10 % is wide
		if math.Abs(mean*rate-1) > 0.05 {
			t.Errorf("burstiness %g: mean gap %.4f s, want %.4f", k, mean, 1/rate)
		}
		if want := 1 / math.Sqrt(k); math.Abs(cv/want-1) > 0.1 {
			t.Errorf("burstiness %g: CV %.3f, want %.3f", k, cv, want)
		}
	}
}
