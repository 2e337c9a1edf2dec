package sweep

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/analysis"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// TestStepsStartOnADrainedServer: against a server that keeps working on
// requests whose client went away (a proxy in front of vllm-sim that
// finishes every request it forwarded), the requests aborted at a step's
// end would still occupy the batch when the next step starts; the step
// waits until the server's running and waiting gauges are back to 0, so a
// step at max-num-seqs does not see the previous step's leftovers queue.
func TestStepsStartOnADrainedServer(t *testing.T) {
	simSrv := sim(t, "m1", 6)
	sticky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			forward(w, r, simSrv.URL, r.Context())
			return
		}
		// Detached from the client: the upstream request runs to its end.
		forward(w, r, simSrv.URL, context.WithoutCancel(r.Context()))
	}))
	t.Cleanup(sticky.Close)
	plan := testPlan(t, []v1alpha1.Target{{Name: "sim", URL: sticky.URL, Model: "m1"}}, 1, 1)
	plan.Spec.Concurrency, plan.Spec.StartConcurrency, plan.Spec.MaxConcurrency = []int{6}, nil, nil
	plan.Spec.Scenarios = []v1alpha1.Scenario{{Name: "S", InputTokens: 64, OutputTokens: 96}}
	r, _ := newRunner(t, plan, t.TempDir())
	if err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A second step at the same concurrency right after the first.
	st, err := r.runStep(context.Background(), plan.Spec.Targets[0], plan.Spec.Scenarios[0], r.prompts[[2]string{"sim", "S"}], analysis.Decision{Concurrency: 6, Phase: results.PhaseGrid, Role: results.RoleCertify}, nil)
	if err != nil || st == nil {
		t.Fatalf("second step: %v", err)
	}
	for _, s := range append(r.Steps(), *st) {
		t.Logf("c=%d: drained %v after %.2f s, waiting in %.0f %% of samples, tail %+v", s.Concurrency, s.Steady.Drained, s.Steady.DrainSeconds, 100*s.Server.WaitingFraction, s.TailRequests)
		if !s.Steady.Drained || s.Broken {
			t.Errorf("c=%d: drained %v, broken %v %v", s.Concurrency, s.Steady.Drained, s.Broken, s.Rules)
		}
	}
	if st.Steady.DrainSeconds < 0.05 {
		t.Errorf("the second step did not wait for the leftovers of the first (%.3f s)", st.Steady.DrainSeconds)
	}
}

// forward proxies r to base with ctx, streaming the answer while the
// client is there and reading the rest when it is gone.
func forward(w http.ResponseWriter, r *http.Request, base string, ctx context.Context) {
	req, err := http.NewRequestWithContext(ctx, r.Method, base+r.URL.RequestURI(), r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	f, _ := w.(http.Flusher)
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 && r.Context().Err() == nil {
			w.Write(buf[:n])
			if f != nil {
				f.Flush()
			}
		}
		if err != nil {
			io.Copy(io.Discard, resp.Body)
			return
		}
	}
}

// TestFlushAfter: only a broken step whose server did not hold steady, or
// whose requests failed, forces a clean boundary before fewer users.
func TestFlushAfter(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    results.Step
		want bool
	}{
		{"not broken", results.Step{Steady: results.SteadyState{Reached: true}}, false},
		{"not broken, unsteady", results.Step{}, false},
		{"broken, steady queue", results.Step{Broken: true, Steady: results.SteadyState{Reached: true}}, false},
		{"broken, unsteady", results.Step{Broken: true}, true},
		{"broken, errors", results.Step{Broken: true, Steady: results.SteadyState{Reached: true}, Requests: results.Counts{Errored: 1}}, true},
		{"preempted, not broken", results.Step{Steady: results.SteadyState{Reached: true}, Server: &results.Server{Preemptions: 3}}, true},
		{"broken, steady, no preemption", results.Step{Broken: true, Steady: results.SteadyState{Reached: true}, Server: &results.Server{}}, false},
	} {
		if got := flushAfter(&tc.s); got != tc.want {
			t.Errorf("%s: flushAfter %v, want %v", tc.name, got, tc.want)
		}
	}
}
