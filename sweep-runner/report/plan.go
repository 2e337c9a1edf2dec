package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/rhoai-demo/step07/sweep-runner/planner"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// DefaultPlanUsers is the number of concurrent users the report's capacity
// plan is sized for.
const DefaultPlanUsers = 100

// Capacities turns a summary into the planner's input: one capacity per
// target and scenario that ran, measured at its max users at SLA. costs
// overrides the GPU-hour price by target name or served model name.
func Capacities(sum *results.Summary, costs map[string]float64) []planner.Capacity {
	var out []planner.Capacity
	for _, r := range sum.Results {
		if len(r.Steps) == 0 {
			continue
		}
		c := planner.Capacity{
			Model: r.Target, Scenario: r.Scenario, GPUsPerReplica: max(r.GPUs, 1),
			MaxUsersAtSLA: r.MaxConcurrencyAtSLA, OutputTokensPerSecond: r.OutputTokensPerSecondAtSLA,
			GPUHourCost: r.GPUHourCost,
		}
		if p, ok := costs[r.Target]; ok {
			c.GPUHourCost = p
		} else if p, ok := costs[r.Model]; ok {
			c.GPUHourCost = p
		}
		if r.MaxConcurrencyAtSLA > 0 {
			for _, s := range r.Steps {
				if s.Concurrency == r.MaxConcurrencyAtSLA && s.PowerWatts != nil {
					c.PowerWatts = *s.PowerWatts
				}
			}
		}
		withPopulation(&c, r)
		out = append(out, c)
	}
	return out
}

// PlanRow is a planner line formatted for a table; the HTML report and the
// CLI print the same strings.
type PlanRow struct {
	Model, Scenario, GPUsPerReplica, UsersAtSLA, Replicas, GPUs, ServedTokPerSec, CostPerHour, CostPerMillion, KWhPerMillion string
	Feasible                                                                                                                 bool
	Note                                                                                                                     string
}

// PlanRows formats the planner's lines.
func PlanRows(lines []planner.Line) []PlanRow {
	var out []PlanRow
	for _, l := range lines {
		r := PlanRow{Model: l.Model, Scenario: l.Scenario, GPUsPerReplica: fmt.Sprint(l.GPUsPerReplica), Feasible: l.Feasible,
			UsersAtSLA: planUsers(l), Replicas: "-", GPUs: "-", ServedTokPerSec: "-", CostPerHour: "-", CostPerMillion: "-", KWhPerMillion: "-"}
		if !l.Feasible {
			r.Note = fmt.Sprintf("cannot meet the SLA at any tested concurrency: no replica count serves %d users within the SLA", l.Users)
			out = append(out, r)
			continue
		}
		r.Replicas, r.GPUs = fmt.Sprint(l.Replicas), fmt.Sprint(l.GPUs)
		r.ServedTokPerSec = fmt.Sprintf("%.0f", l.ServedTokensPerSecond)
		if !math.IsNaN(l.CostPerHour) {
			r.CostPerHour = fmt.Sprintf("%.2f", l.CostPerHour)
			r.CostPerMillion = fmt.Sprintf("%.3f", l.CostPerMillionTokens)
		}
		if !math.IsNaN(l.KWhPerMillionTokens) {
			r.KWhPerMillion = fmt.Sprintf("%.3f", l.KWhPerMillionTokens)
		}
		out = append(out, r)
	}
	return out
}

// PlanTable renders the plan for users as a Markdown table, with notes for
// the variants that cannot meet the SLA and the assumptions.
func PlanTable(users int, lines []planner.Line) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| model | scenario | GPUs/replica | max users at SLA/replica | replicas for %d users | GPUs | served output tok/s | cost/hour | cost per 1M output tokens | kWh per 1M output tokens |\n", users)
	b.WriteString("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	var notes []string
	for _, r := range PlanRows(lines) {
		if !r.Feasible {
			fmt.Fprintf(&b, "| %s | %s | %s | 0 | cannot meet the SLA | - | - | - | - | - |\n", r.Model, r.Scenario, r.GPUsPerReplica)
			notes = append(notes, fmt.Sprintf("- %s, scenario %s: %s.", r.Model, r.Scenario, r.Note))
			continue
		}
		if n := populationPlanNote(users, lines, r); n != "" {
			notes = append(notes, n)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Model, r.Scenario, r.GPUsPerReplica, r.UsersAtSLA,
			r.Replicas, r.GPUs, r.ServedTokPerSec, r.CostPerHour, r.CostPerMillion, r.KWhPerMillion)
	}
	if len(notes) > 0 {
		b.WriteString("\n" + strings.Join(notes, "\n") + "\n")
	}
	b.WriteString("\nCosts need a GPU-hour price (the plan's gpuHourCost or --gpu-hour-cost MODEL=PRICE; \"-\" when unknown); energy needs measured GPU power (--prometheus-url; \"-\" when not measured).\n")
	b.WriteString("\nAssumptions: " + planner.AssumptionsFor(lines) + "\n")
	return b.String()
}

// Plan sizes the summary's variants for users concurrent users.
func Plan(sum *results.Summary, users int, costs map[string]float64) ([]planner.Line, error) {
	return planner.Plan(users, Capacities(sum, costs))
}
