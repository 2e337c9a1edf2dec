package analysis

import (
	"cmp"
	"sort"
	"strings"

	"github.com/rhoai-demo/step07/api/kpi"
	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// Summarize builds summary.json's content from the plan as run and the
// finished steps (steps.jsonl), so every report can be rebuilt offline.
// Results follow the plan's order: targets, then scenarios.
func Summarize(plan *v1alpha1.SweepPlan, run results.Run, steps []results.Step) results.Summary {
	sum := results.Summary{
		SchemaVersion: results.SchemaVersion,
		RunID:         run.RunID,
		Status:        run.Status,
		Version:       run.Version,
		StartedAt:     run.StartedAt,
		EndedAt:       run.EndedAt,
		SLA:           plan.Spec.EffectiveSLA(),
		Results:       []results.Result{},
	}
	sum.Definitions = definitions(sum.SLA)
	if f := plan.Spec.TimeScale; f > 0 && f != 1 {
		sum.TimeScale = f
	}
	sum.BudgetGPUMinutes, sum.BudgetSpent = plan.Spec.BudgetGPUMinutes, run.BudgetSpent
	byPair := map[[2]string][]results.Step{}
	for _, s := range steps {
		k := [2]string{s.Target, s.Scenario}
		byPair[k] = append(byPair[k], s)
	}
	grid := plan.Spec.Steps()
	explicit := len(plan.Spec.Concurrency) > 0
	for _, t := range plan.Spec.Targets {
		for _, sc := range plan.Spec.Scenarios {
			ss := byPair[[2]string{t.Name, sc.Name}]
			if !sc.ClosedLoop() {
				// Open loop: rates instead of users (rate.go).
				sum.Results = append(sum.Results, summarizeRates(t, sc, ss, plan.Spec.BisectEnabled()))
				sum.Definitions = withOpenLoopDefinitions(sum.Definitions)
				continue
			}
			// In the order they ran (Seq; a resumed run's too) for the
			// search, then by concurrency for the reports.
			sort.SliceStable(ss, func(i, j int) bool { return ss[i].Seq < ss[j].Seq })
			ev := Evidence(ss)
			probes := ProbesOf(ev)
			aim, _ := AimOf(ev)
			_, more := Next(Search{Grid: grid, Explicit: explicit, Bisect: plan.Spec.BisectEnabled(), Aim: aim, SLA: plan.Spec.EffectiveSLA()}, probes)
			v := Decide(probes)
			var pred *results.Prediction
			for _, s := range ss {
				if s.Aim != nil {
					pred = s.Aim
					break
				}
			}
			held, gpuMin := results.HeldOf(ss)
			sum.HeldSeconds += held
			sum.GPUMinutes += gpuMin
			sort.SliceStable(ss, func(i, j int) bool { return ss[i].Concurrency < ss[j].Concurrency })
			r := results.Result{
				Target: t.Name, Model: t.Model, GPUs: t.GPUs, Precision: t.Precision, GPUHourCost: t.GPUHourCost,
				Scenario: sc.Name, InputTokens: sc.InputTokens, OutputTokens: sc.OutputTokens,
				Complete: !more, Exact: v.Exact, BreakingPoint: v.Breaking, Prediction: pred,
				HeldSeconds: held, GPUMinutes: gpuMin, Autoscaling: t.Autoscaling,
				MaxTestedConcurrency: v.MaxTested, MaxConcurrencyAtSLA: v.MaxAtSLA,
				Steps: ss,
			}
			if r.Steps == nil {
				r.Steps = []results.Step{}
			}
			confide(&r)
			for _, s := range ss {
				if s.Concurrency == v.MaxAtSLA && v.MaxAtSLA > 0 {
					gpus := t.GPUs
					if gpus < 1 {
						gpus = 1
					}
					r.UsersPerGPUAtSLA = float64(v.MaxAtSLA) / float64(gpus)
					r.OutputTokensPerSecondAtSLA = s.Throughput.OutputTokensPerSecond
					r.OutputTokensPerSecondPerGPUAtSLA = s.Throughput.OutputTokensPerSecondPerGPU
					r.TTFTP95AtSLASeconds, _ = s.KPIs.Get(ttftKPI)
				}
			}
			sum.Results = append(sum.Results, r)
		}
	}
	sum.Comparisons = Compare(sum.Results)
	return sum
}

// AimOf is the concurrency the search aims at from a pair's steps (0: no
// prediction), and the prediction: the sweep and the summary ask the same
// question of the same steps.
func AimOf(steps []results.Step) (int, *results.Prediction) {
	p := Predict(steps)
	if p == nil {
		return 0, nil
	}
	return p.BreakingPoint, p
}

// confide states how sure the pair's breaking point is: clear when the
// step at it is clearly broken and the highest step below it clearly not
// (at each concurrency the step the search holds: the latest clear one,
// else the latest). It also lists the certified steps whose verdict stayed
// uncertain (exploring steps are not meant to be clear) and the steps that
// did not reach steady state. r.Steps are by concurrency, in run order at
// each.
func confide(r *results.Result) {
	evidence := map[int]bool{} // by Seq: the steps not set aside (Evidence)
	for _, s := range Evidence(r.Steps) {
		evidence[s.Seq] = true
	}
	held := map[int]int{} // concurrency -> index of the step held there
	for i, s := range r.Steps {
		if len(s.Disturbed) > 0 && (len(r.DisturbedSteps) == 0 || r.DisturbedSteps[len(r.DisturbedSteps)-1] != s.Concurrency) {
			r.DisturbedSteps = append(r.DisturbedSteps, s.Concurrency)
		}
		if !evidence[s.Seq] {
			continue
		}
		clear := s.Confidence != nil && s.Confidence.Clear
		if s.Confidence != nil && !clear && s.Role != results.RoleExplore {
			r.UncertainSteps = append(r.UncertainSteps, s.Concurrency)
		}
		if s.Unsteady() {
			r.NotSteady = append(r.NotSteady, s.Concurrency)
		}
		if j, ok := held[s.Concurrency]; !ok || clear || r.Steps[j].Confidence == nil || !r.Steps[j].Confidence.Clear {
			held[s.Concurrency] = i
		}
	}
	bp := r.BreakingPoint
	if bp == nil {
		return
	}
	at, ok := held[bp.Concurrency]
	if !ok {
		return
	}
	judged := []int{at}
	below := 0
	for c := range held {
		if c < bp.Concurrency && c > below {
			below = c
		}
	}
	if below > 0 {
		judged = append(judged, held[below])
	}
	r.Confidence = "clear"
	for _, i := range judged {
		c := r.Steps[i].Confidence
		if c == nil {
			// Steps written before confidence was measured (schema 1)
			// say nothing.
			r.Confidence = ""
			return
		}
		if !c.Clear || len(r.Steps[i].Disturbed) > 0 {
			// A disturbed step taken once the re-measures ran out (a
			// starved client, foreign traffic throughout) is never
			// clear evidence.
			r.Confidence = "uncertain"
		}
	}
}

// Compare sets every target against the first one, per scenario.
func Compare(rs []results.Result) []results.Comparison {
	var out []results.Comparison
	base := map[string]results.Result{}
	var order []string
	for _, r := range rs {
		if len(r.Steps) == 0 {
			continue
		}
		b, ok := base[r.Scenario]
		if !ok {
			base[r.Scenario] = r
			order = append(order, r.Scenario)
			continue
		}
		out = append(out, results.Comparison{
			Scenario: r.Scenario, Baseline: b.Target, Target: r.Target,
			UsersPerGPURatio:         ratio(r.UsersPerGPUAtSLA, b.UsersPerGPUAtSLA),
			OutputTokensPerGPURatio:  ratio(r.OutputTokensPerSecondPerGPUAtSLA, b.OutputTokensPerSecondPerGPUAtSLA),
			MaxConcurrencyAtSLARatio: ratio(float64(r.MaxConcurrencyAtSLA), float64(b.MaxConcurrencyAtSLA)),
		})
	}
	_ = order
	return out
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// definitions are results.Definitions (a copy: it is shared) with the KPIs
// that max users at SLA rests on named from the table, as sla grades them.
func definitions(sla v1alpha1.SLA) map[string]string {
	out := make(map[string]string, len(results.Definitions))
	for k, v := range results.Definitions {
		out[k] = v
	}
	var names []string
	for _, x := range kpi.Graded(sla) {
		names = append(names, cmp.Or(x.Describe, x.Title))
	}
	out["max users at SLA"] += ": " + strings.Join(names, ", ")
	return out
}
