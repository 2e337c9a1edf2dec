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
		if ol := r.OpenLoop; ol != nil {
			c.OpenLoop, c.MaxRateAtSLA, c.AchievedRateAtSLA = true, ol.MaxRateAtSLA, ol.AchievedRateAtSLA
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

// PeakPlan sizes the summary's variants for the demand's peak with its
// spare replicas, and for its mean.
func PeakPlan(sum *results.Summary, d planner.Demand, costs map[string]float64) ([]planner.PeakLine, error) {
	return planner.PlanPeak(d, Capacities(sum, costs))
}

// PeakHeading is a resolved demand in words: "a peak of 250 concurrent
// users (mean 100 x peak factor 2.5), with 1 spare replica (N+1)".
func PeakHeading(d planner.Demand) string {
	var loads []string
	of := func(peak, mean string, hasMean bool) string {
		switch {
		case hasMean && d.PeakFactor > 0:
			return fmt.Sprintf("%s (mean %s x peak factor %g)", peak, mean, d.PeakFactor)
		case hasMean:
			return fmt.Sprintf("%s (mean %s)", peak, mean)
		}
		return peak
	}
	if d.PeakUsers > 0 {
		loads = append(loads, of(fmt.Sprintf("%d concurrent users", d.PeakUsers), fmt.Sprint(d.Users), d.Users > 0))
	}
	if d.PeakRPS > 0 {
		loads = append(loads, of(rate(d.PeakRPS)+" requests/s", rate(d.RPS), d.RPS > 0))
	}
	spare := "no spare replica"
	switch {
	case d.Spare == 1:
		spare = "1 spare replica (N+1)"
	case d.Spare > 1:
		spare = fmt.Sprintf("%d spare replicas (N+%d)", d.Spare, d.Spare)
	}
	return "a peak of " + strings.Join(loads, " and ") + ", with " + spare
}

// PeakRow is a peak plan line formatted for a table; the HTML report, the
// Markdown report and the CLI print the same strings.
type PeakRow struct {
	Model, Scenario, GPUsPerReplica, PerReplica                       string
	Peak, Replicas, GPUs, CostPerHour, CostPerMillion, Headroom       string
	Mean, MeanReplicas, MeanGPUs, MeanCostPerHour, MeanCostPerMillion string
	// Sized: the row has numbers; otherwise Note says why not (Feasible
	// false: the variant cannot meet the SLA).
	Feasible, Sized bool
	Note            string
}

// PeakReplicasHead is the replicas column's head: "replicas at peak
// (N+K)" with the spares, so the count is read as including them.
func PeakReplicasHead(spare int) string {
	if spare > 0 {
		return fmt.Sprintf("replicas at peak (N+%d)", spare)
	}
	return "replicas at peak"
}

// PeakRows formats the peak planner's lines.
func PeakRows(lines []planner.PeakLine) []PeakRow {
	var out []PeakRow
	for _, l := range lines {
		r := PeakRow{Model: l.Model, Scenario: l.Scenario, GPUsPerReplica: fmt.Sprint(l.GPUsPerReplica), Feasible: l.Feasible, Sized: l.Sized,
			PerReplica: load(l, l.PerReplica), Peak: "-", Replicas: "-", GPUs: "-", CostPerHour: "-", CostPerMillion: "-", Headroom: "-",
			Mean: "-", MeanReplicas: "-", MeanGPUs: "-", MeanCostPerHour: "-", MeanCostPerMillion: "-"}
		if l.Unit == planner.UnitUsers && l.Population != "" {
			r.PerReplica = fmt.Sprintf("%d %s", l.MaxUsersAtSLA, l.Population)
		}
		switch {
		case !l.Feasible && l.Unit == planner.UnitRPS:
			r.PerReplica = "none"
			r.Note = "cannot meet the SLA at any tested rate: no replica count serves the peak within the SLA"
		case !l.Feasible:
			r.Note = "cannot meet the SLA at any tested concurrency: no replica count serves the peak within the SLA"
		case !l.Sized && l.Unit == planner.UnitRPS:
			r.Note = "an open-loop answer, sized in requests/s: give a peak rate (--peak-rps R, or --rps R with --peak-factor F)"
		case !l.Sized:
			r.Note = "a closed-loop answer, sized in users: give peak users (--peak-users N, or --users N with --peak-factor F)"
		}
		if !l.Sized {
			out = append(out, r)
			continue
		}
		r.Peak, r.Replicas, r.GPUs = load(l, l.Peak.Load), fmt.Sprint(l.Peak.Replicas), fmt.Sprint(l.Peak.GPUs)
		r.CostPerHour, r.CostPerMillion = costCells(l.Peak)
		r.Headroom = fmt.Sprintf("+%s (%.0f %%)", load(l, l.Headroom), 100*l.HeadroomShare)
		if m := l.Mean; m != nil {
			r.Mean, r.MeanReplicas, r.MeanGPUs = load(l, m.Load), fmt.Sprint(m.Replicas), fmt.Sprint(m.GPUs)
			r.MeanCostPerHour, r.MeanCostPerMillion = costCells(*m)
		}
		out = append(out, r)
	}
	return out
}

// load is an amount in a line's unit: "250 users", "12.5 req/s".
func load(l planner.PeakLine, v float64) string {
	if l.Unit == planner.UnitRPS {
		return rate(v) + " req/s"
	}
	return fmt.Sprintf("%.0f users", v)
}

func costCells(a planner.At) (perHour, perMillion string) {
	if math.IsNaN(a.CostPerHour) {
		return "-", "-"
	}
	return fmt.Sprintf("%.2f", a.CostPerHour), fmt.Sprintf("%.3f", a.CostPerMillionTokens)
}

// peakNotes are the notes under a peak table: why a row has no numbers,
// and which rows size people rather than streams.
func peakNotes(lines []planner.PeakLine, rows []PeakRow) []string {
	var notes []string
	for i, r := range rows {
		l := lines[i]
		switch {
		case r.Note != "":
			notes = append(notes, fmt.Sprintf("- %s, scenario %s: %s.", r.Model, r.Scenario, r.Note))
		case l.Unit == planner.UnitUsers && l.Population != "":
			n := fmt.Sprintf("- %s, scenario %s: sized for a peak of %.0f %s: people who think between requests, not streams", l.Model, l.Scenario, l.Peak.Load, l.Population)
			if l.InFlightAtSLA > 0 {
				n += fmt.Sprintf("; at its max users at SLA (%d a replica) they kept %.1f requests in flight", l.MaxUsersAtSLA, l.InFlightAtSLA)
			}
			notes = append(notes, n+".")
		}
	}
	return notes
}

// PeakTable renders the peak plan as a Markdown table, with notes for the
// rows it could not size and the assumptions.
func PeakTable(d planner.Demand, lines []planner.PeakLine) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| model | scenario | GPUs/replica | max at SLA/replica | peak | %s | GPUs | cost/hour | cost per 1M output tokens | headroom at peak | mean | replicas at mean | GPUs at mean | cost/hour at mean | cost per 1M output tokens at mean |\n", PeakReplicasHead(d.Spare))
	b.WriteString("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	rows := PeakRows(lines)
	for _, r := range rows {
		if !r.Sized {
			what := "not sized"
			if !r.Feasible {
				what = "cannot meet the SLA"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | - | - | - | - | - | - | - | - | - | - |\n", r.Model, r.Scenario, r.GPUsPerReplica, r.PerReplica, what)
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Model, r.Scenario, r.GPUsPerReplica, r.PerReplica,
			r.Peak, r.Replicas, r.GPUs, r.CostPerHour, r.CostPerMillion, r.Headroom, r.Mean, r.MeanReplicas, r.MeanGPUs, r.MeanCostPerHour, r.MeanCostPerMillion)
	}
	if notes := peakNotes(lines, rows); len(notes) > 0 {
		b.WriteString("\n" + strings.Join(notes, "\n") + "\n")
	}
	b.WriteString("\nCosts need a GPU-hour price (the plan's gpuHourCost or --gpu-hour-cost MODEL=PRICE; \"-\" when unknown); the mean columns need a mean (--users, --rps; \"-\" without one).\n")
	b.WriteString("\nAssumptions: " + planner.PeakAssumptionsFor(lines) + "\n")
	return b.String()
}
