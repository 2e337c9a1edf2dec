package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// planRun writes a run directory by hand: "big" (4 GPUs, $2/GPU-h) meets
// the SLA up to 8 users at 400 output tok/s drawing 1000 W and breaks at 16;
// "never" (1 GPU) breaks at every concurrency.
func planRun(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	plan := `apiVersion: step07.rhoai-demo.io/v1alpha1
kind: SweepPlan
spec:
  targets:
  - {name: big, url: "http://127.0.0.1:1", gpus: 4, gpuHourCost: 2}
  - {name: never, url: "http://127.0.0.1:2", gpus: 1, gpuHourCost: 1}
  concurrency: [1, 2, 4, 8, 16]
  bisect: false
  scenarios:
  - {name: A, inputTokens: 256, outputTokens: 128}
`
	if err := os.WriteFile(filepath.Join(dir, results.PlanFile), []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	watts := 1000.0
	add := func(target string, gpus, c int, tokS float64, ok bool, p *float64) {
		s := &results.Step{SchemaVersion: 1, RunID: "r1", Target: target, Model: target, GPUs: gpus, Scenario: "A",
			Concurrency: c, Phase: results.PhaseGrid, Requests: results.Counts{Started: 10, Successful: 10}, SuccessRate: 1,
			Throughput: results.Throughput{OutputTokensPerSecond: tokS, OutputTokensPerSecondPerGPU: tokS / float64(gpus)},
			AtSLA:      ok, Broken: !ok, PowerWatts: p}
		if !ok {
			s.Rule, s.Rules = results.RuleTTFT, []string{results.RuleTTFT}
		}
		if err := results.AppendStep(filepath.Join(dir, results.StepsFile), s); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []int{1, 2, 4} {
		add("big", 4, c, 60*float64(c), true, nil)
	}
	add("big", 4, 8, 400, true, &watts)
	add("big", 4, 16, 500, false, nil)
	for _, c := range []int{1, 2, 4, 8, 16} {
		add("never", 1, c, 20, false, nil)
	}
	return dir
}

func TestPlanHandComputed(t *testing.T) {
	dir := planRun(t)
	code, out, errs := runCLI("plan", "--users", "100", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// big: ceil(100/8) = 13 replicas x 4 = 52 GPUs; 400/8 = 50 tok/s per user
	// -> 5000 tok/s; 52 x $2 = $104/h; 104 / (5000 x 3600) x 1e6 = $5.778;
	// 13 x 1000 W / 5000 tok/s = 2.6 J/token -> 2.6e6 J = 0.722 kWh per 1M.
	for _, want := range []string{
		"Capacity plan for 100 concurrent users",
		"| big | A | 4 | 8 | 13 | 52 | 5000 | 104.00 | 5.778 | 0.722 |",
		"| never | A | 1 | 0 | cannot meet the SLA | - | - | - | - | - |",
		"never, scenario A: cannot meet the SLA at any tested concurrency",
		"Assumptions: Replicas = ceil(users / max users at SLA per replica)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q:\n%s", want, out)
		}
	}
	// A price from the command line wins over the plan's: 52 x $3 = $156/h,
	// 156 / 18e6 x 1e6 = $8.667 per 1M tokens; exactly 16 users need 2 replicas.
	code, out, _ = runCLI("plan", "--users", "16", "--gpu-hour-cost", "big=3", dir)
	if code != 0 || !strings.Contains(out, "| big | A | 4 | 8 | 2 | 8 | 800 | 24.00 | 8.333 | 0.694 |") {
		// 2 x 4 x $3 = $24/h; 800 tok/s; 24 / (800 x 3600) x 1e6 = $8.333; 2000 W / 800 = 2.5 J -> 0.694 kWh
		t.Errorf("plan --users 16 --gpu-hour-cost big=3 (exit %d):\n%s", code, out)
	}
	code, out, _ = runCLI("plan", "--users", "100", "--gpu-hour-cost", "big=3", dir)
	if code != 0 || !strings.Contains(out, "| big | A | 4 | 8 | 13 | 52 | 5000 | 156.00 | 8.667 | 0.722 |") {
		t.Errorf("plan --gpu-hour-cost big=3 (exit %d):\n%s", code, out)
	}
	// Without a price the costs are unknown, not zero. One user still needs a
	// whole replica drawing the 1000 W measured at 8 users: 1000 W / 50 tok/s
	// = 20 J/token -> 20e6 J = 5.556 kWh per 1M tokens.
	code, out, _ = runCLI("plan", "--users", "1", "--gpu-hour-cost", "big=0", dir)
	if code != 0 || !strings.Contains(out, "| big | A | 4 | 8 | 1 | 4 | 50 | - | - | 5.556 |") {
		t.Errorf("plan --users 1 without a price (exit %d):\n%s", code, out)
	}
}

func TestPlanBadInput(t *testing.T) {
	dir := planRun(t)
	for _, args := range [][]string{
		{"plan", dir},                          // no --users
		{"plan", "--users", "0", dir},          // not a user count
		{"plan", "--users", "10"},              // no RUN_DIR
		{"plan", "--users", "10", t.TempDir()}, // not a run directory
		{"plan", "--users", "10", "--gpu-hour-cost", "big", dir},
		{"plan", "--users", "10", "--gpu-hour-cost", "big=-1", dir},
	} {
		if code, _, errs := runCLI(args...); code != exitUsage || !strings.Contains(errs, "sweep-runner:") {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 with a message", args, code, errs)
		}
	}
}
