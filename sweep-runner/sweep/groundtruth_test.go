package sweep

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/results"
	"github.com/rhoai-demo/step07/vllmsim"
)

// TestBreakingPointMatchesGroundTruth: the whole sweep, over HTTP against
// vllm-sim, finds the breaking point that the simulator's own engine gives
// in virtual time for desynchronised closed-loop users (vllmsim's
// TrueBreakingPoint), within one user.
//
// Pairs: the demo's INT4 profile with scenario B (4096/256: its KV cache
// holds two such requests, a sharp boundary) and scenario C (256/1024: the
// KV cache fills with users at random points of their life, the case that
// lock-step arrivals used to overstate). The simulator runs at a time scale
// (vllm-sim --time-scale) so that steps hold enough finished requests in
// seconds; the sweep scales its SLA the same way, which leaves the breaking
// point unchanged for these KV-bound pairs.
func TestBreakingPointMatchesGroundTruth(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the ground-truth sweep takes about a minute")
	}
	// traffic: 70 % short answers, 30 % long ones with lognormal lengths
	// (issue 26: the ground truth covers spread lengths and a mix)
	traffic := []v1alpha1.Scenario{
		{Name: "A", InputTokens: 256, OutputTokens: 128},
		{Name: "CL", InputTokens: 256, OutputTokens: 1024, OutputTokensStdev: 400, OutputTokensMax: 2048, LengthDistribution: v1alpha1.LengthLognormal},
		{Name: "AC", Mix: []v1alpha1.MixPart{{Scenario: "A", Weight: 70}, {Scenario: "CL", Weight: 30}}},
	}
	for _, tc := range []struct {
		name       string
		scenario   v1alpha1.Scenario
		scale      float64
		start, max int
		// all: the plan's scenarios when the one swept is a mix of them
		all []v1alpha1.Scenario
	}{
		{"int4 B", v1alpha1.Scenario{Name: "B", InputTokens: 4096, OutputTokens: 256}, 0.05, 2, 8, nil},
		// C at 0.1: at 0.05 an iteration lasts about 1.4 ms and the
		// client's round trip (unscaled) lets 13, and on a busy machine
		// 14, users hold where the engine's ground truth breaks at 12.
		{"int4 C", v1alpha1.Scenario{Name: "C", InputTokens: 256, OutputTokens: 1024}, 0.1, 8, 32, nil},
		{"int4 mix A + lognormal C", v1alpha1.Scenario{Name: "AC"}, 0.05, 12, 16, traffic},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := vllmsim.Profile("mistral-int4-tp1")
			if err != nil {
				t.Fatal(err)
			}
			cfg.Model, cfg.TimeScale = "m", tc.scale
			scenarios := tc.all
			if scenarios == nil {
				scenarios = []v1alpha1.Scenario{tc.scenario}
			}
			srv := simWith(t, cfg)
			plan := &v1alpha1.SweepPlan{Spec: v1alpha1.PlanSpec{
				Targets: []v1alpha1.Target{{Name: "int4", URL: srv.URL, Model: "m"}},
				SweepSettings: v1alpha1.SweepSettings{
					Scenarios: scenarios, StartConcurrency: v1alpha1.Ptr(tc.start), MaxConcurrency: v1alpha1.Ptr(tc.max),
					StepDuration: v1alpha1.DP(2 * time.Second), Warmup: v1alpha1.DP(200 * time.Millisecond),
					RequestTimeout: v1alpha1.DP(30 * time.Second), MinRequests: v1alpha1.Ptr(20), MaxRequests: v1alpha1.Ptr(100), MaxWindow: v1alpha1.DP(40 * time.Second),
					TimeScale: tc.scale,
				},
			}}
			if err := plan.Apply(v1alpha1.PlanOverrides{Scenarios: []string{tc.scenario.Name}}); err != nil {
				t.Fatal(err)
			}
			if err := plan.Default(); err != nil {
				t.Fatal(err)
			}
			if err := plan.Validate(); err != nil {
				t.Fatal(err)
			}
			// The truth draws the same lengths the sweep sends, per
			// request number (v1alpha1.Scenario.Draw).
			sc := plan.Spec.Scenarios[0]
			in, out := sc.MaxLengths()
			opts := vllmsim.TruthOptions{Turnaround: time.Millisecond}
			if sc.Varies() {
				opts.Draw, opts.Mean = sc.Draw, [2]int{sc.InputTokens, sc.OutputTokens}
			}
			truth, _, err := vllmsim.TrueBreakingPoint(cfg, in, out, 64, vllmsim.DefaultSLA(), opts)
			if err != nil {
				t.Fatal(err)
			}
			if truth.Users == 0 {
				t.Fatalf("no ground-truth breaking point up to 64 users")
			}
			r, pw := newRunner(t, plan, t.TempDir())
			start := time.Now()
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
			got := 0
			if res.BreakingPoint != nil {
				got = res.BreakingPoint.Concurrency
			}
			t.Logf("%s: sweep %d (%s) in %v; ground truth %d (%v)", tc.name, got, ruleOf(res.BreakingPoint), time.Since(start).Round(time.Second), truth.Users, truth.Rules)
			if got < truth.Users-1 || got > truth.Users+1 {
				t.Errorf("%s: the sweep found %d users, the engine's ground truth is %d (±1 allowed)", tc.name, got, truth.Users)
			}
			for _, st := range res.Steps {
				if st.Requests.Successful == 0 {
					t.Errorf("c=%d: no finished request", st.Concurrency)
				}
			}
		})
	}
}

func ruleOf(bp *results.BreakingPoint) string {
	if bp == nil {
		return "none"
	}
	return fmt.Sprint(bp.Rule)
}
