package sweep

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// TestBudgetAndCost: every step records how long it held its target, the
// parts add up, the result and the run carry the totals in GPU-minutes; a
// running step shows a progress line (a log's: plain lines at LiveEvery);
// and a budget stops the run with the answers so far, never an invented
// one.
func TestBudgetAndCost(t *testing.T) {
	srv := sim(t, "m1", 4)
	plan := testPlan(t, []v1alpha1.Target{{Name: "sim", URL: srv.URL, Model: "m1", GPUs: 2}}, 1, 16)
	plan.Spec.Scenarios = []v1alpha1.Scenario{{Name: "S", InputTokens: 64, OutputTokens: 64}}
	// Enough for a few steps (each holds the 2 GPUs a few seconds), not
	// for the whole sweep.
	plan.Spec.BudgetGPUMinutes = 0.25
	r, _ := newRunner(t, plan, t.TempDir())
	live := &lineWriter{}
	r.Live, r.LiveEvery = live, 200*time.Millisecond
	err := r.Run(context.Background())
	if !errors.Is(err, ErrBudgetSpent) {
		t.Fatalf("run: %v, want ErrBudgetSpent", err)
	}
	r.State.BudgetSpent = true
	sum, err := r.Finish(results.StatusComplete, "budget spent")
	if err != nil {
		t.Fatal(err)
	}
	res := sum.Results[0]
	if res.Complete || len(res.Steps) == 0 {
		t.Fatalf("after the budget: complete %v with %d steps, want an incomplete answer", res.Complete, len(res.Steps))
	}
	var held, gpuMin float64
	for _, s := range res.Steps {
		h := s.Held
		if h == nil || h.Seconds <= 0 {
			t.Fatalf("c=%d: held %+v", s.Concurrency, h)
		}
		if parts := h.DrainSeconds + h.WarmupSeconds + h.WindowSeconds + h.TailSeconds; math.Abs(parts-h.Seconds) > 0.01 {
			t.Errorf("c=%d: parts %.3f s, held %.3f s", s.Concurrency, parts, h.Seconds)
		}
		if math.Abs(h.GPUMinutes-h.Seconds/60*2) > 1e-9 {
			t.Errorf("c=%d: %.4f GPU-min for %.2f s on 2 GPUs", s.Concurrency, h.GPUMinutes, h.Seconds)
		}
		held += h.Seconds
		gpuMin += h.GPUMinutes
	}
	if math.Abs(res.HeldSeconds-held) > 1e-6 || math.Abs(sum.GPUMinutes-gpuMin) > 1e-6 || math.Abs(r.State.GPUMinutes-gpuMin) > 1e-6 {
		t.Errorf("totals: result %.2f s, summary %.4f GPU-min, run.json %.4f; steps %.2f s, %.4f", res.HeldSeconds, sum.GPUMinutes, r.State.GPUMinutes, held, gpuMin)
	}
	// The budget is overrun by no more than the last step's drain and tail
	// (the budget cuts warmups and windows; a tail lets the window's
	// requests finish) and a second of bookkeeping.
	last := res.Steps[0]
	for _, s := range res.Steps {
		if s.Seq > last.Seq {
			last = s
		}
	}
	if over := (last.Held.DrainSeconds + last.Held.TailSeconds + 1) / 60 * 2; gpuMin < plan.Spec.BudgetGPUMinutes || gpuMin > plan.Spec.BudgetGPUMinutes+over {
		t.Errorf("spent %.3f GPU-min of a %.2f budget (the last drain and tail allow %.3f more)", gpuMin, plan.Spec.BudgetGPUMinutes, over)
	}
	// The prediction the search aimed with stands beside the answer: the
	// first step's KV cache gauge, and every later step carries it.
	if p := res.Prediction; p == nil || p.Basis != "kv_cache" || p.FromConcurrency != 1 || p.BreakingPoint < 1 {
		t.Errorf("prediction %+v, want one from the KV cache at 1 user", res.Prediction)
	}
	for _, s := range res.Steps {
		if (s.Aim == nil) != (s.Seq == 1) {
			t.Errorf("c=%d (step %d): aim %+v", s.Concurrency, s.Seq, s.Aim)
		}
	}
	if !sum.BudgetSpent || sum.BudgetGPUMinutes != plan.Spec.BudgetGPUMinutes {
		t.Errorf("summary budget %+v %v", sum.BudgetGPUMinutes, sum.BudgetSpent)
	}
	// Live lines: the step, how long it held, the window's finished
	// requests and the rules' intervals.
	live.mu.Lock()
	defer live.mu.Unlock()
	var windowLines int
	for _, l := range live.lines {
		if strings.Contains(l, "held") && strings.Contains(l, "finished") && strings.Contains(l, "TTFT p95 [") {
			windowLines++
		}
	}
	if windowLines == 0 {
		t.Errorf("no live window line among %d: %q", len(live.lines), live.lines)
	}
}
