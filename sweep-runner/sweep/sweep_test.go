package sweep

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/report"
	"github.com/rhoai-demo/step07/sweep-runner/results"
	"github.com/rhoai-demo/step07/vllmsim"
)

// sim starts an in-process vllm-sim of known capacity on 127.0.0.1.
func sim(t *testing.T, model string, maxNumSeqs int) *httptest.Server {
	t.Helper()
	cfg := vllmsim.DefaultConfig()
	cfg.Model = model
	cfg.MaxNumSeqs = maxNumSeqs
	return simWith(t, cfg)
}

// simWith starts an in-process vllm-sim with cfg on 127.0.0.1.
func simWith(t *testing.T, cfg vllmsim.Config) *httptest.Server {
	t.Helper()
	s, err := vllmsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Close() })
	return srv
}

// shortScenario: 64 tokens in, 24 out (~0.3 s a request), so TTFT stays far
// below 2 s and only the queue rule can break a step.
var shortScenario = v1alpha1.Scenario{Name: "S", InputTokens: 64, OutputTokens: 24}

func testPlan(t *testing.T, targets []v1alpha1.Target, start, maxC int) *v1alpha1.SweepPlan {
	t.Helper()
	p := &v1alpha1.SweepPlan{Spec: v1alpha1.PlanSpec{
		Targets: targets,
		SweepSettings: v1alpha1.SweepSettings{
			Scenarios:        []v1alpha1.Scenario{shortScenario},
			StartConcurrency: v1alpha1.Ptr(start), MaxConcurrency: v1alpha1.Ptr(maxC),
			StepDuration: v1alpha1.DP(1500 * time.Millisecond), Warmup: v1alpha1.DP(300 * time.Millisecond),
			RequestTimeout: v1alpha1.DP(20 * time.Second),
			// Few requests per window keep these tests short; the statistics
			// of a window are tested in load and analysis.
			MinRequests: v1alpha1.Ptr(10), MaxRequests: v1alpha1.Ptr(10),
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

type lineWriter struct {
	mu    sync.Mutex
	lines []string
	on    func(n int)
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	w.lines = append(w.lines, strings.Split(strings.TrimSpace(string(b)), "\n")...)
	n := len(w.lines)
	w.mu.Unlock()
	if w.on != nil {
		w.on(n)
	}
	return len(b), nil
}

func newRunner(t *testing.T, plan *v1alpha1.SweepPlan, out string) (*Runner, *lineWriter) {
	t.Helper()
	r := New(plan)
	pw := &lineWriter{}
	r.Progress = pw
	r.ScrapeInterval = 200 * time.Millisecond
	if err := r.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := r.Create(out, "test"); err != nil {
		t.Fatal(err)
	}
	return r, pw
}

func checkAccounting(t *testing.T, steps []results.Step) {
	t.Helper()
	for _, s := range steps {
		for name, c := range map[string]results.Counts{"window": s.Requests, "warmup": s.WarmupRequests} {
			if c.Successful+c.Errored+c.Incomplete != c.Started {
				t.Errorf("c=%d %s: %+v does not add up", s.Concurrency, name, c)
			}
		}
		errs := 0
		for _, n := range s.Errors {
			errs += n
		}
		if errs != s.Requests.Errored {
			t.Errorf("c=%d: errors by kind %v sum to %d, errored %d", s.Concurrency, s.Errors, errs, s.Requests.Errored)
		}
	}
}

// TestBreakingPointOfKnownCapacity: on vllm-sim with max-num-seqs N the
// queue rule trips at the first doubling step above N and bisection pins
// the breaking point at N+1, with max users at SLA N.
func TestBreakingPointOfKnownCapacity(t *testing.T) {
	for _, tc := range []struct{ seqs, start int }{{6, 1}, {12, 2}} {
		t.Run(fmt.Sprint("max-num-seqs ", tc.seqs), func(t *testing.T) {
			t.Parallel()
			srv := sim(t, "m1", tc.seqs)
			plan := testPlan(t, []v1alpha1.Target{{Name: "sim", URL: srv.URL, Model: "m1", GPUs: 2}}, tc.start, 32)
			// Every arrival waits for the iteration in progress (as in
			// vLLM), so with short requests waiting > 0 is common below
			// capacity (ground truth for 24 output tokens: 26 % of the
			// time at 8 users on 12 sequences, and CPU contention adds
			// more). 96 output tokens make that wait rare, so the queue
			// rule trips only for want of sequences.
			plan.Spec.Scenarios = []v1alpha1.Scenario{{Name: "S", InputTokens: 64, OutputTokens: 64}}
			r, _ := newRunner(t, plan, t.TempDir())
			if err := r.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			sum, err := r.Finish(results.StatusComplete, "")
			if err != nil {
				t.Fatal(err)
			}
			res := sum.Results[0]
			// The first step run above max-num-seqs (the KV cache is
			// far from full, so the prediction aims at the grid's top).
			var firstAbove *results.Step
			for i, s := range res.Steps {
				if s.Concurrency > tc.seqs && (firstAbove == nil || s.Seq < firstAbove.Seq) {
					firstAbove = &res.Steps[i]
				}
				if s.Concurrency <= tc.seqs && s.Broken {
					t.Errorf("c=%d <= max-num-seqs broke: %v", s.Concurrency, s.Rules)
				}
				if s.Server == nil || s.Server.Samples == 0 {
					t.Errorf("c=%d: no /metrics samples", s.Concurrency)
				}
			}
			if firstAbove == nil || !firstAbove.Broken || !contains(firstAbove.Rules, results.RuleQueue) {
				t.Fatalf("first step above %d did not trip the queue rule: %+v", tc.seqs, firstAbove)
			}
			if res.BreakingPoint == nil || res.BreakingPoint.Concurrency != tc.seqs+1 || res.BreakingPoint.Rule != results.RuleQueue {
				t.Fatalf("breaking point %+v, want %d (queue)", res.BreakingPoint, tc.seqs+1)
			}
			if res.MaxConcurrencyAtSLA < 1 || res.MaxConcurrencyAtSLA > tc.seqs {
				t.Errorf("max at SLA %d, want within 1..%d", res.MaxConcurrencyAtSLA, tc.seqs)
			}
			if !res.Complete || !res.Exact {
				t.Errorf("complete %v exact %v", res.Complete, res.Exact)
			}
			if want := float64(res.MaxConcurrencyAtSLA) / 2; res.UsersPerGPUAtSLA != want {
				t.Errorf("users per GPU %v, want %v", res.UsersPerGPUAtSLA, want)
			}
			checkAccounting(t, res.Steps)
			seen := map[int]bool{}
			for _, s := range res.Steps {
				// A concurrency runs twice only to certify an end of
				// the bracket an exploring step could not know it was.
				if seen[s.Concurrency] && s.Phase != results.PhaseCertify {
					t.Errorf("concurrency %d run twice (%s)", s.Concurrency, s.Phase)
				}
				seen[s.Concurrency] = true
				if s.Role == "" || s.Held == nil || s.Held.Seconds <= 0 || s.Held.GPUMinutes != s.Held.Seconds/60*2 {
					t.Errorf("c=%d: role %q, held %+v", s.Concurrency, s.Role, s.Held)
				}
				if s.Requests.Successful == 0 || s.Latency.TTFT.Count == 0 || s.Throughput.OutputTokensPerSecond <= 0 {
					t.Errorf("c=%d: nothing measured: %+v", s.Concurrency, s.Requests)
				}
				// Closed loop: about N in flight (loose: the grace drain and
				// request turnaround lower the average a little).
				if s.ConcurrencyAchieved < 0.7*float64(s.Concurrency) || s.ConcurrencyAchieved > float64(s.Concurrency)+0.01 {
					t.Errorf("c=%d: concurrency achieved %.2f", s.Concurrency, s.ConcurrencyAchieved)
				}
				if out := float64(plan.Spec.Scenarios[0].OutputTokens); s.Tokens.OutputLengthMismatches != 0 || s.Tokens.CountMismatches != 0 || s.Tokens.Output.Min != out {
					t.Errorf("c=%d: output not forced to %g tokens: %+v", s.Concurrency, out, s.Tokens)
				}
				// A step that kept the previous step's users settled
				// instead of draining the server.
				if !s.Steady.Reached || (s.Settle == nil) != s.Steady.Drained || s.Settle != nil && !s.Settle.Settled || s.Requests.Incomplete != 0 {
					t.Errorf("c=%d: steady state %+v, settle %+v, %d cut", s.Concurrency, s.Steady, s.Settle, s.Requests.Incomplete)
				}
				if s.Tokens.Prompt.Min != 64 || s.Tokens.Prompt.Max != 64 {
					t.Errorf("c=%d: prompts not exactly 64 tokens: %+v", s.Concurrency, s.Tokens.Prompt)
				}
				if s.Fidelity == nil || s.Fidelity.ServerTTFT.Count == 0 {
					t.Errorf("c=%d: no server TTFT from the sim", s.Concurrency)
				}
			}
		})
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// TestInterruptAndResume cancels the run in the middle of a step (as
// SIGTERM does), then resumes it: finished steps are kept, none repeated,
// and the resumed run reaches the same answer.
func TestInterruptAndResume(t *testing.T) {
	srv := sim(t, "m1", 4)
	plan := testPlan(t, []v1alpha1.Target{{Name: "sim", URL: srv.URL, Model: "m1"}}, 1, 8)
	plan.Spec.StepDuration = v1alpha1.DP(time.Second)
	out := t.TempDir()
	r, pw := newRunner(t, plan, out)
	ctx, cancel := context.WithCancel(context.Background())
	pw.on = func(n int) {
		if n == 2 { // two steps done: cancel in the middle of the third
			go func() { time.Sleep(500 * time.Millisecond); cancel() }()
		}
	}
	err := r.Run(ctx)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	if _, err := r.Finish(results.StatusInterrupted, "test"); err != nil {
		t.Fatal(err)
	}
	steps, _, err := results.ReadSteps(filepath.Join(r.RunDir, results.StepsFile))
	if err != nil || len(steps) != 2 {
		t.Fatalf("after interrupt: %d steps, %v", len(steps), err)
	}
	var st results.Run
	if err := results.ReadJSON(filepath.Join(r.RunDir, results.RunFile), &st); err != nil || st.Status != results.StatusInterrupted {
		t.Fatalf("run.json %+v %v", st, err)
	}
	// A kill -9 while writing leaves half a line: resume must drop it.
	f, _ := os.OpenFile(filepath.Join(r.RunDir, results.StepsFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"schema_version":1,"target":"sim","conc`)
	f.Close()

	r.Close() // the interrupted process has exited: its lock is gone
	r2, err := Open(r.RunDir, "test")
	if err != nil {
		t.Fatal(err)
	}
	pw2 := &lineWriter{}
	r2.Progress, r2.ScrapeInterval = pw2, 200*time.Millisecond
	if len(r2.Steps()) != 2 {
		t.Fatalf("resume sees %d steps", len(r2.Steps()))
	}
	if err := r2.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	sum, err := r2.Finish(results.StatusComplete, "")
	if err != nil {
		t.Fatal(err)
	}
	steps, truncated, err := results.ReadSteps(filepath.Join(r.RunDir, results.StepsFile))
	if err != nil || truncated {
		t.Fatalf("steps.jsonl invalid after resume: %v %v", err, truncated)
	}
	seen := map[results.Key]bool{}
	for _, s := range steps {
		if seen[s.Key()] && s.Phase != results.PhaseCertify {
			t.Errorf("step %+v repeated", s.Key())
		}
		seen[s.Key()] = true
	}
	for _, l := range pw2.lines {
		if strings.Contains(l, " c=1 ") || strings.Contains(l, " c=2 ") {
			t.Errorf("resume re-ran a finished step: %s", l)
		}
	}
	res := sum.Results[0]
	if res.BreakingPoint == nil || res.BreakingPoint.Concurrency != 5 || !res.Complete {
		t.Errorf("after resume: %+v", res)
	}
	checkAccounting(t, steps)
}

// TestOfflineReport rebuilds the reports from steps.jsonl alone.
func TestOfflineReport(t *testing.T) {
	t.Parallel() // reports rebuilt offline: nothing here depends on timing
	srv := sim(t, "m1", 2)
	plan := testPlan(t, []v1alpha1.Target{{Name: "sim", URL: srv.URL, Model: "m1"}}, 1, 4)
	plan.Spec.StepDuration = v1alpha1.DP(time.Second)
	r, _ := newRunner(t, plan, t.TempDir())
	if err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Finish(results.StatusComplete, ""); err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	for _, f := range []string{results.SummaryJSON, results.SummaryCSV, results.ReportMD} {
		p := filepath.Join(r.RunDir, f)
		want[f], _ = os.ReadFile(p)
		os.Remove(p)
	}
	srv.Close() // offline
	sum, err := report.Rebuild(results.At(r.RunDir))
	if err != nil {
		t.Fatal(err)
	}
	for f, w := range want {
		got, err := os.ReadFile(filepath.Join(r.RunDir, f))
		if err != nil || string(got) != string(w) {
			t.Errorf("%s differs after the offline rebuild (%v)", f, err)
		}
	}
	if sum.Results[0].BreakingPoint == nil || sum.Results[0].BreakingPoint.Concurrency != 3 {
		t.Errorf("rebuilt breaking point %+v", sum.Results[0].BreakingPoint)
	}
	md, _ := os.ReadFile(filepath.Join(r.RunDir, results.ReportMD))
	// 3 (queue), marked uncertain: ten requests a step cannot bound p95 at 95 %.
	if !strings.Contains(string(md), "| sim | 1 | S | 3 (queue) uncertain |") {
		t.Errorf("sizing table:\n%s", md)
	}
}

// TestMalformedChunks: a server that sends broken chunks costs errors, not
// a crash, and every request is accounted for.
func TestMalformedChunks(t *testing.T) {
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/models":
			fmt.Fprint(w, `{"object":"list","data":[{"id":"m1"}]}`)
		case "/tokenize":
			fmt.Fprint(w, `{"count":10}`)
		case "/metrics":
			fmt.Fprint(w, "vllm:num_requests_waiting{model_name=\"m1\"} 0\n")
		default:
			io.Copy(io.Discard, r.Body)
			mu.Lock()
			n++
			k := n
			mu.Unlock()
			bw := bufio.NewWriter(w)
			for i := 0; i < 5; i++ {
				if k%3 == 0 && i == 2 {
					bw.WriteString("data: {\"choices\":[{\"text\":\"x\"}\n\n") // cut JSON
				} else if k%3 == 1 && i == 3 {
					bw.WriteString("data: \x00\xff garbage\n\n")
				} else {
					bw.WriteString("data: {\"choices\":[{\"text\":\" t\"}]}\n\n")
				}
				bw.Flush()
				w.(http.Flusher).Flush()
				time.Sleep(5 * time.Millisecond)
			}
			bw.WriteString("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5}}\n\ndata: [DONE]\n\n")
			bw.Flush()
		}
	}))
	defer srv.Close()
	plan := testPlan(t, []v1alpha1.Target{{Name: "bad", URL: srv.URL, Model: "m1"}}, 1, 1)
	plan.Spec.Concurrency = []int{4}
	plan.Spec.Scenarios = []v1alpha1.Scenario{{Name: "S", InputTokens: 10, OutputTokens: 5}}
	plan.Spec.StepDuration = v1alpha1.DP(time.Second)
	r, _ := newRunner(t, plan, t.TempDir())
	if err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := r.Steps()[0]
	checkAccounting(t, r.Steps())
	if s.Errors[results.ErrMalformedChunk] == 0 || s.Requests.Successful == 0 {
		t.Errorf("errors %v, counts %+v", s.Errors, s.Requests)
	}
	if !s.Broken || s.Rule != results.RuleSuccess {
		t.Errorf("two thirds failing should break on success: %v %v", s.Broken, s.Rules)
	}
}
