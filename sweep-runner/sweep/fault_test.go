package sweep

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/results"
	"github.com/rhoai-demo/step07/vllmsim"
)

// fastSim is a vllm-sim with fixed 2 ms per token, so a 24-token answer
// takes ~50 ms and a 2 s step holds hundreds of requests: fault rates of a
// few percent show up in every step.
func fastSim(t *testing.T, f vllmsim.Faults) *vllmsim.Server {
	t.Helper()
	cfg := vllmsim.DefaultConfig()
	cfg.Model = "m1"
	cfg.FixedLatency = true
	cfg.IterFixed, cfg.PerPrefillToken, cfg.PerDecodeSeq = 2*time.Millisecond, time.Microsecond, 0
	cfg.Faults = f
	s, err := vllmsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func faultPlan(t *testing.T, url string, conc []int, step, timeout time.Duration) *v1alpha1.SweepPlan {
	t.Helper()
	plan := testPlan(t, []v1alpha1.Target{{Name: "sim", URL: url, Model: "m1"}}, 1, 1)
	plan.Spec.Concurrency, plan.Spec.StartConcurrency, plan.Spec.MaxConcurrency = conc, nil, nil
	no := false
	plan.Spec.Bisect = &no
	plan.Spec.StepDuration = v1alpha1.DP(step)
	plan.Spec.RequestTimeout = v1alpha1.DP(timeout)
	if err := plan.Validate(); err != nil {
		t.Fatal(err)
	}
	return plan
}

// runBounded runs the sweep and fails the test if it does not end within
// limit (a hang), returning the summary.
func runBounded(t *testing.T, r *Runner, limit time.Duration) *results.Summary {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sweep failed: %v", err)
		}
	case <-time.After(limit):
		t.Fatalf("sweep still running after %v: hung", limit)
	}
	sum, err := r.Finish(results.StatusComplete, "")
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// TestSweepUnderFaults: 5 % HTTP 500, 2 % 429, 5 % mid-stream disconnects
// and 1 % 10 s stalls. With a request timeout shorter than the stall the
// stalls are timeouts; with a longer one they are cut at the step's end and,
// silent for longer than the degraded TTFT, count as stalled errors. Either way the sweep ends, every request is accounted for,
// errors are counted by kind and the success rule breaks every step.
func TestSweepUnderFaults(t *testing.T) {
	faults := vllmsim.Faults{
		ErrorRate:      0.07,
		ErrorCodes:     []int{500, 500, 500, 500, 500, 429, 429}, // 5 % 500, 2 % 429
		DisconnectRate: 0.05,
		StallRate:      0.01, StallSeconds: 10,
	}
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		kinds   []string
	}{
		{"timeout shorter than the stall", 1500 * time.Millisecond, []string{"http_500", "http_429", results.ErrBrokenStream, results.ErrTimeout}},
		// Streams stalled past the step's end are errors of kind stalled, so the
		// success rule sees them instead of counting them incomplete.
		{"timeout longer than the stall", 30 * time.Second, []string{"http_500", "http_429", results.ErrBrokenStream, results.ErrStalled}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := fastSim(t, faults)
			srv := httptest.NewServer(s.Handler())
			t.Cleanup(srv.Close)
			plan := faultPlan(t, srv.URL, []int{4, 8}, 2*time.Second, tc.timeout)
			r, _ := newRunner(t, plan, t.TempDir())
			start := time.Now()
			sum := runBounded(t, r, 30*time.Second)
			// warmup + window + grace (at most the step) per step, plus calibration.
			if el := time.Since(start); el > 2*(300*time.Millisecond+4*time.Second)+3*time.Second {
				t.Errorf("sweep took %v: stalled requests held it beyond the grace", el)
			}
			steps := r.Steps()
			if len(steps) != 2 {
				t.Fatalf("%d steps, want 2", len(steps))
			}
			checkAccounting(t, steps)
			kinds := map[string]int{}
			incomplete := 0
			for _, st := range steps {
				for k, n := range st.Errors {
					kinds[k] += n
				}
				incomplete += st.Requests.Incomplete + st.WarmupRequests.Incomplete
				if st.Requests.Started < 50 {
					t.Errorf("c=%d: only %d requests", st.Concurrency, st.Requests.Started)
				}
				if !st.Broken || !contains(st.Rules, results.RuleSuccess) || st.Grades["success"] != results.GradeDegraded {
					t.Errorf("c=%d: success %.1f %% did not trip the success rule: rules %v", st.Concurrency, st.KPIs["success_percent"], st.Rules)
				}
				if st.SuccessRate <= 0.5 || st.SuccessRate >= 0.95 {
					t.Errorf("c=%d: success rate %.3f, want about 0.88", st.Concurrency, st.SuccessRate)
				}
			}
			for _, k := range tc.kinds {
				if kinds[k] == 0 {
					t.Errorf("no %s counted: %v", k, kinds)
				}
			}
			for k := range kinds {
				if k != "http_500" && k != "http_429" && k != results.ErrBrokenStream && k != results.ErrTimeout && k != results.ErrStalled {
					t.Errorf("unexpected error kind %s: %v", k, kinds)
				}
			}
			if tc.timeout > 10*time.Second && kinds[results.ErrTimeout] != 0 {
				t.Errorf("timeouts with a request timeout above the stall: %v", kinds)
			}
			res := sum.Results[0]
			if res.BreakingPoint == nil || res.BreakingPoint.Concurrency != 4 || res.BreakingPoint.Rule != results.RuleSuccess {
				t.Errorf("breaking point %+v, want 4 (success)", res.BreakingPoint)
			}
			if res.MaxConcurrencyAtSLA != 0 {
				t.Errorf("max at SLA %d under 12 %% failures", res.MaxConcurrencyAtSLA)
			}
			t.Logf("errors %v, incomplete %d", kinds, incomplete)
		})
	}
}

// TestServerRestartMidStep stops the server (listener and connections) in
// the middle of a step and starts a new one on the same port: requests in
// flight break, new ones are refused until it is back, then succeed again.
// The step ends on time, every request is accounted for, and the refused
// connections do not turn into a busy loop.
func TestServerRestartMidStep(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	var gen atomic.Int32           // which server generation answers
	var posts, posts2 atomic.Int64 // generate requests of the first and second server
	first := fastSim(t, vllmsim.Faults{})
	hs1 := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/completions") {
			posts.Add(1)
		}
		first.Handler().ServeHTTP(w, r)
	})}
	go hs1.Serve(l)
	t.Cleanup(func() { hs1.Close() })

	plan := faultPlan(t, "http://"+addr, []int{4}, 3*time.Second, 20*time.Second)
	plan.Spec.Scenarios[0].OutputTokens = 200 // ~0.4 s a request: some in flight at the restart
	r, _ := newRunner(t, plan, t.TempDir())

	back := make(chan time.Duration, 1)
	go func() {
		// Restart once the window is well under way: the warmup holds
		// certifyLifetimes requests per user (12 posts).
		for posts.Load() < 24 {
			time.Sleep(10 * time.Millisecond)
		}
		hs1.Close() // closes the listener and every connection
		first.Close()
		down := time.Now()
		time.Sleep(400 * time.Millisecond)
		var l2 net.Listener
		var err error
		for i := 0; i < 50; i++ {
			if l2, err = net.Listen("tcp", addr); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			t.Errorf("cannot listen on %s again: %v", addr, err)
			back <- 0
			return
		}
		second := fastSim(t, vllmsim.Faults{})
		hs2 := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/v1/completions") {
				posts2.Add(1)
			}
			second.Handler().ServeHTTP(w, r)
		})}
		go hs2.Serve(l2)
		t.Cleanup(func() { hs2.Close() })
		gen.Store(2)
		back <- time.Since(down)
	}()
	runBounded(t, r, 30*time.Second)
	var downFor time.Duration
	select {
	case downFor = <-back:
	case <-time.After(5 * time.Second):
		t.Fatal("the server was never restarted")
	}
	if gen.Load() != 2 {
		t.Fatal("restart did not happen during the sweep")
	}
	// The step the restart hit is kept, with the event, and set aside;
	// its level is measured again on the restarted server.
	steps := r.Steps()
	if len(steps) != 2 {
		t.Fatalf("%d steps, want the disturbed one and its re-measure", len(steps))
	}
	checkAccounting(t, steps)
	if !restarted(&steps[0]) || len(steps[0].Disturbed) == 0 || len(steps[1].Disturbed) > 0 {
		t.Errorf("events %+v, disturbed %q then %q: want the first step disturbed by the restart, the second clean", steps[0].Events, steps[0].Disturbed, steps[1].Disturbed)
	}
	st := steps[0]
	t.Logf("down %v; requests %+v warmup %+v errors %v", downFor, st.Requests, st.WarmupRequests, st.Errors)
	if st.Errors[results.ErrBrokenStream] == 0 {
		t.Errorf("requests in flight at the restart did not count as broken streams: %v", st.Errors)
	}
	if st.Errors[results.ErrConnect] == 0 {
		t.Errorf("no refused connection counted while the server was down: %v", st.Errors)
	}
	if posts2.Load() == 0 || st.Requests.Successful == 0 {
		t.Errorf("no request reached the restarted server (%d) or none succeeded (%+v)", posts2.Load(), st.Requests)
	}
	// 4 workers refused for ~0.4 s: a busy loop would start thousands.
	if n := st.Errors[results.ErrConnect]; n > 200 {
		t.Errorf("%d refused connections in %v: workers spin instead of backing off", n, downFor)
	}
	if !st.Broken || !contains(st.Rules, results.RuleSuccess) {
		t.Logf("rules %v (success %.1f %%)", st.Rules, st.KPIs["success_percent"])
	}
	if _, err := r.Finish(results.StatusComplete, ""); err != nil {
		t.Fatal(err)
	}
}
