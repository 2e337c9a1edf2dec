package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
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

// openLoopRun adds to planRun's run an open-loop scenario P (Poisson
// arrivals) where "big" holds the SLA up to 10 requests/s (sending 10/s,
// 1280 output tok/s: 128 tokens a request) and breaks at 20; "never"
// breaks at every rate.
func openLoopRun(t *testing.T) string {
	t.Helper()
	dir := planRun(t)
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
  - {name: P, inputTokens: 256, outputTokens: 128, arrival: {process: poisson, rates: [5, 10, 20]}}
`
	if err := os.WriteFile(filepath.Join(dir, results.PlanFile), []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	add := func(target string, gpus int, rate, tokS float64, ok bool) {
		s := &results.Step{SchemaVersion: 1, RunID: "r1", Target: target, Model: target, GPUs: gpus, Scenario: "P",
			Concurrency: int(rate), ConcurrencyAchieved: rate, Phase: results.PhaseGrid, Requests: results.Counts{Started: 10, Successful: 10}, SuccessRate: 1,
			Throughput: results.Throughput{OutputTokensPerSecond: tokS, OutputTokensPerSecondPerGPU: tokS / float64(gpus)},
			AtSLA:      ok, Broken: !ok, OpenLoop: &results.OpenLoop{Process: "poisson", OfferedRate: rate, AchievedRate: rate, MaxInFlight: 256}}
		if !ok {
			s.Rule, s.Rules = results.RuleTTFT, []string{results.RuleTTFT}
		}
		if err := results.AppendStep(filepath.Join(dir, results.StepsFile), s); err != nil {
			t.Fatal(err)
		}
	}
	add("big", 4, 5, 640, true)
	add("big", 4, 10, 1280, true)
	add("big", 4, 20, 1500, false)
	for _, r := range []float64{5, 10, 20} {
		add("never", 1, r, 100, false)
	}
	return dir
}

// planOut is `plan --output json` as a script reads it.
type planOut struct {
	RunID string `json:"run_id"`
	Plans []struct {
		Target, Scenario, Unit string
		Feasible               bool
		Replicas               *int
		GPUs                   *int
		CostPerHour            *float64 `json:"cost_per_hour"`
		CostPerMillion         *float64 `json:"cost_per_million_output_tokens"`
		Peak                   *float64
		Served                 *float64 `json:"served_output_tokens_per_second"`
		ReplicasForPeak        *int     `json:"replicas_for_peak"`
		SpareReplicas          int      `json:"spare_replicas"`
		Headroom               *float64
		HeadroomShare          *float64 `json:"headroom_share"`
		Mean                   *struct {
			Load           float64
			Replicas, GPUs int
			CostPerHour    *float64 `json:"cost_per_hour"`
			CostPerMillion *float64 `json:"cost_per_million_output_tokens"`
		}
		Note string
	}
	Demand struct {
		Users         int
		PeakUsers     int     `json:"peak_users"`
		PeakRPS       float64 `json:"peak_rps"`
		PeakFactor    float64 `json:"peak_factor"`
		SpareReplicas int     `json:"spare_replicas"`
	}
}

func planJSONOf(t *testing.T, args ...string) (planOut, string) {
	t.Helper()
	code, out, errs := runCLI(append([]string{"plan", "--output", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("plan %q: exit %d: %s", args, code, errs)
	}
	var p planOut
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("plan %q printed no JSON: %v\n%s", args, err, out)
	}
	return p, out
}

// TestPlanPeakJSON is the acceptance check: the first result's "replicas"
// at a peak of 250 users with one spare is ceil(250 / 8) + 1 = 33.
func TestPlanPeakJSON(t *testing.T) {
	dir := planRun(t)
	code, out, errs := runCLI("plan", "--peak-users", "250", "--spare-replicas", "1", "--output", "json", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// A script that takes the first "replicas" it finds reads the same.
	if m := regexp.MustCompile(`"replicas":\s*(\d+)`).FindStringSubmatch(out); m == nil || m[1] != "33" {
		t.Errorf("first \"replicas\" = %v, want 33:\n%s", m, out)
	}
	p, _ := planJSONOf(t, "--peak-users", "250", "--spare-replicas", "1", dir)
	if p.RunID == "" || len(p.Plans) != 2 || p.Demand.PeakUsers != 250 || p.Demand.SpareReplicas != 1 || p.Demand.Users != 0 {
		t.Fatalf("plan = %+v", p)
	}
	// 33 replicas x 4 GPUs = 132 GPUs x $2 = $264/h; 250 users x 50 tok/s
	// = 12500 tok/s; 264 / (12500 x 3600) x 1e6 = $5.867 per 1M tokens;
	// 33 x 8 = 264 users at SLA: 14 beyond the peak, 5.6 % of it.
	b := p.Plans[0]
	if b.Target != "big" || b.Scenario != "A" || b.Unit != "users" || !b.Feasible || *b.Replicas != 33 || *b.ReplicasForPeak != 32 || b.SpareReplicas != 1 ||
		*b.GPUs != 132 || !near(*b.CostPerHour, 264) || !near(*b.CostPerMillion, 264/(12500*3600.0)*1e6) || !near(*b.Served, 12500) ||
		!near(*b.Peak, 250) || !near(*b.Headroom, 14) || !near(*b.HeadroomShare, 14/250.0) || b.Mean != nil {
		t.Errorf("big = %+v", b)
	}
	if n := p.Plans[1]; n.Target != "never" || n.Feasible || n.Replicas != nil || n.GPUs != nil || n.CostPerHour != nil || !strings.Contains(n.Note, "cannot meet the SLA") {
		t.Errorf("never = %+v", n)
	}
	// --users alone prints the same shape: the load is flat (peak = mean),
	// no spare; an unknown price is null, not 0.
	p, out = planJSONOf(t, "--users", "16", "--gpu-hour-cost", "big=0", dir)
	b = p.Plans[0]
	if *b.Replicas != 2 || *b.GPUs != 8 || b.CostPerHour != nil || b.Mean == nil || b.Mean.Replicas != 2 || b.Mean.CostPerHour != nil || !near(*b.Headroom, 0) {
		t.Errorf("--users 16: big = %+v", b)
	}
	if !strings.Contains(out, `"cost_per_hour": null`) {
		t.Errorf("an unknown price is not null:\n%s", out)
	}
}

// TestPlanPeakFactorAndSpare: the peak from a factor (rounded up), the
// spares on top of the peak and of the mean, the text table.
func TestPlanPeakFactorAndSpare(t *testing.T) {
	dir := planRun(t)
	code, out, errs := runCLI("plan", "--users", "100", "--peak-factor", "2.5", "--spare-replicas", "2", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// Peak ceil(100 x 2.5) = 250: ceil(250/8) + 2 = 34 replicas, 136 GPUs,
	// $272/h, 272 / (12500 x 3600) x 1e6 = $6.044; 34 x 8 - 250 = 22 users
	// (9 %). Mean 100: ceil(100/8) + 2 = 15 replicas, 60 GPUs, $120/h,
	// 120 / (5000 x 3600) x 1e6 = $6.667.
	for _, want := range []string{
		"Capacity plan for a peak of 250 concurrent users (mean 100 x peak factor 2.5), with 2 spare replicas (N+2), from sweep ",
		"| model | scenario | GPUs/replica | max at SLA/replica | peak | replicas at peak (N+2) | GPUs |",
		"| big | A | 4 | 8 users | 250 users | 34 | 136 | 272.00 | 6.044 | +22 users (9 %) | 100 users | 15 | 60 | 120.00 | 6.667 |",
		"| never | A | 1 | 0 users | cannot meet the SLA | - |",
		"- never, scenario A: cannot meet the SLA at any tested concurrency",
		"Assumptions: At a load (the peak or the mean): replicas = ceil(load / max at SLA per replica) + the spare replicas",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q:\n%s", want, out)
		}
	}
	// 100 x 1.1 is 110 users, not 111: ceil(110/8) = 14 replicas.
	p, _ := planJSONOf(t, "--users", "100", "--peak-factor", "1.1", dir)
	if b := p.Plans[0]; p.Demand.PeakUsers != 110 || p.Demand.PeakFactor != 1.1 || *b.Replicas != 14 || b.Mean == nil || b.Mean.Replicas != 13 || !near(*b.Headroom, 2) {
		t.Errorf("--peak-factor 1.1: demand %+v, big %+v", p.Demand, b)
	}
	// Spares alone: a flat load of 16 users needs 2 replicas, planned 3;
	// the text says so.
	p, _ = planJSONOf(t, "--users", "16", "--spare-replicas", "1", dir)
	if b := p.Plans[0]; *b.Replicas != 3 || *b.ReplicasForPeak != 2 || b.Mean.Replicas != 3 || !near(*b.Headroom, 8) {
		t.Errorf("--users 16 --spare-replicas 1: big %+v", b)
	}
	code, out, _ = runCLI("plan", "--users", "16", "--spare-replicas", "1", dir)
	if code != 0 || !strings.Contains(out, "a peak of 16 concurrent users (mean 16), with 1 spare replica (N+1)") ||
		!strings.Contains(out, "| big | A | 4 | 8 users | 16 users | 3 | 12 | 24.00 | 8.333 | +8 users (50 %) | 16 users | 3 | 12 | 24.00 | 8.333 |") {
		t.Errorf("plan --users 16 --spare-replicas 1 (exit %d):\n%s", code, out)
	}
}

// TestPlanPeakOpenLoop: an open-loop answer is sized in requests/s
// (--peak-rps, --rps with --peak-factor), a closed-loop one in users; a
// plan given only one of them says how to size the other.
func TestPlanPeakOpenLoop(t *testing.T) {
	dir := openLoopRun(t)
	p, _ := planJSONOf(t, "--rps", "12", "--peak-factor", "3", "--spare-replicas", "1", dir)
	var open, closed int = -1, -1
	for i, l := range p.Plans {
		switch {
		case l.Target == "big" && l.Scenario == "P":
			open = i
		case l.Target == "big" && l.Scenario == "A":
			closed = i
		}
	}
	if open < 0 || closed < 0 {
		t.Fatalf("plans = %+v", p.Plans)
	}
	// Peak 12 x 3 = 36 req/s: ceil(36/10) + 1 = 5 replicas, 20 GPUs, $40/h;
	// 36 x 128 = 4608 tok/s, 40 / (4608 x 3600) x 1e6 = $2.411; 50 - 36 = 14
	// req/s of headroom. Mean 12: ceil(1.2) + 1 = 3 replicas.
	o := p.Plans[open]
	if o.Unit != "requests_per_second" || *o.Replicas != 5 || *o.GPUs != 20 || !near(*o.CostPerHour, 40) || !near(*o.Served, 4608) ||
		!near(*o.CostPerMillion, 40/(4608*3600.0)*1e6) || !near(*o.Headroom, 14) || o.Mean == nil || o.Mean.Replicas != 3 || !near(o.Mean.Load, 12) {
		t.Errorf("open-loop line = %+v", o)
	}
	if c := p.Plans[closed]; c.Replicas != nil || !strings.Contains(c.Note, "--peak-users") {
		t.Errorf("a closed-loop line sized without users: %+v", c)
	}
	code, out, errs := runCLI("plan", "--peak-users", "250", "--peak-rps", "36", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"a peak of 250 concurrent users and 36 requests/s, with no spare replica",
		"| big | A | 4 | 8 users | 250 users | 32 | 128 |",
		"| big | P | 4 | 10 req/s | 36 req/s | 4 | 16 | 32.00 | 1.929 | +4 req/s (11 %) | - | - | - | - | - |",
		"| never | P | 1 | none | cannot meet the SLA |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCLI("plan", "--peak-users", "250", dir)
	if code != 0 || !strings.Contains(out, "| big | P | 4 | 10 req/s | not sized |") || !strings.Contains(out, "give a peak rate (--peak-rps R") {
		t.Errorf("plan --peak-users on an open-loop answer (exit %d):\n%s", code, out)
	}
}

// TestPlanPeakBadInput: each bad setting is refused with exit 2 and a
// message naming its flag.
func TestPlanPeakBadInput(t *testing.T) {
	dir := planRun(t)
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"--peak-users", "0"}, "--peak-users"},
		{[]string{"--peak-users", "-5"}, "--peak-users"},
		{[]string{"--users", "100", "--peak-users", "50"}, "--peak-users"},
		{[]string{"--users", "0", "--peak-users", "50"}, "--users"},
		{[]string{"--users", "100", "--peak-factor", "0.5"}, "--peak-factor"},
		{[]string{"--users", "100", "--peak-factor", "NaN"}, "--peak-factor"},
		{[]string{"--users", "100", "--peak-factor", "x"}, "peak-factor"},
		{[]string{"--peak-factor", "2"}, "--peak-factor needs a mean"},
		{[]string{"--peak-users", "250", "--peak-factor", "2"}, "--peak-factor"},
		{[]string{"--peak-rps", "5", "--peak-factor", "2"}, "--peak-factor"},
		{[]string{"--users", "100", "--spare-replicas", "-1"}, "--spare-replicas"},
		{[]string{"--users", "100", "--rps", "0"}, "--rps"},
		{[]string{"--peak-rps", "-1"}, "--peak-rps"},
		{[]string{"--rps", "10", "--peak-rps", "5"}, "--peak-rps"},
		{[]string{"--peak-users", "250", "--output", "yaml"}, "--output"},
		{[]string{"--spare-replicas", "1"}, "--users"},
	} {
		code, _, errs := runCLI(append(append([]string{"plan"}, tc.args...), dir)...)
		if code != exitUsage || !strings.Contains(errs, "sweep-runner:") || !strings.Contains(errs, tc.flag) {
			t.Errorf("plan %q: exit %d, stderr %q; want exit 2 naming %s", tc.args, code, errs, tc.flag)
		}
	}
}

// TestReportPeak: `sweep-runner report` takes the same peak settings and
// adds the plan for the peak to report.md and report.html.
func TestReportPeak(t *testing.T) {
	dir := planRun(t)
	code, _, errs := runCLI("report", "--users", "100", "--peak-factor", "2.5", "--spare-replicas", "1", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	md, err := os.ReadFile(filepath.Join(dir, results.ReportMD))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"## Capacity plan for 100 concurrent users",
		"### Planned for a peak of 250 concurrent users (mean 100 x peak factor 2.5), with 1 spare replica (N+1)",
		"| big | A | 4 | 8 users | 250 users | 33 | 132 | 264.00 | 5.867 | +14 users (6 %) | 100 users | 14 | 56 | 112.00 | 6.222 |",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), "Planned for a peak of 250 concurrent users") || !strings.Contains(string(html), "<th>replicas at peak (N&#43;1)</th>") {
		t.Errorf("report.html has no plan for the peak")
	}
	// The default mean is 100 users: a peak below it is refused.
	if code, _, errs := runCLI("report", "--peak-users", "50", dir); code != exitUsage || !strings.Contains(errs, "--peak-users") {
		t.Errorf("report --peak-users 50: exit %d, %q", code, errs)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
