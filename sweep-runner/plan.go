package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/spf13/pflag"

	"github.com/rhoai-demo/step07/sweep-runner/analysis"
	"github.com/rhoai-demo/step07/sweep-runner/planner"
	"github.com/rhoai-demo/step07/sweep-runner/report"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

const planUsage = `Usage: sweep-runner plan --users N [--gpu-hour-cost MODEL=PRICE ...] RUN_DIR
       sweep-runner plan --peak-users N [--users N] [--spare-replicas K] [--output json] RUN_DIR
       sweep-runner plan --users N --peak-factor F [--spare-replicas K] RUN_DIR

For N concurrent users, per model variant and scenario of the run: replicas and
GPUs needed to serve them within the SLA, cost per hour and per million output
tokens (with a GPU-hour price: the plan's gpuHourCost or --gpu-hour-cost), and
energy per million output tokens where GPU power was measured. Offline: reads
the run's plan.yaml and steps.jsonl.

With a peak (--peak-users, or --users with --peak-factor) or spare replicas
(--spare-replicas K: N+K), it plans for the peak: replicas, GPUs and costs at
the peak, spares included, the headroom left there, and the same at the mean
(--users). Open-loop answers (a max rate at SLA) are sized in requests/s:
--peak-rps R, or --rps R with --peak-factor F. --output json prints that plan
for scripts.

Flags:
`

// peakFlags are the settings of a plan for the peak, defined once for
// `plan` and `report` so both read them alike.
type peakFlags struct {
	fs         *pflag.FlagSet
	peakUsers  int
	peakFactor float64
	spare      int
	rps        float64
	peakRPS    float64
}

func addPeakFlags(fs *pflag.FlagSet) *peakFlags {
	p := &peakFlags{fs: fs}
	fs.IntVar(&p.peakUsers, "peak-users", 0, "concurrent users at the peak: size the replicas for it (the mean: --users)")
	fs.Float64Var(&p.peakFactor, "peak-factor", 0, "peak = ceil(mean x F) users (and mean x F requests/s), F at least 1, with --users (or --rps)")
	fs.IntVar(&p.spare, "spare-replicas", 0, "K replicas on top of what the peak needs (N+K), for failures and rollouts")
	fs.Float64Var(&p.rps, "rps", 0, "mean requests/s, which sizes open-loop answers (max rate at SLA)")
	fs.Float64Var(&p.peakRPS, "peak-rps", 0, "requests/s at the peak, which sizes open-loop answers")
	return p
}

// given reports whether any peak setting was given.
func (p *peakFlags) given() bool {
	for _, n := range []string{"peak-users", "peak-factor", "spare-replicas", "rps", "peak-rps"} {
		if p.fs.Changed(n) {
			return true
		}
	}
	return false
}

// demand checks the peak settings against the mean users (0: none) and
// resolves them; errors name the flag at fault.
func (p *peakFlags) demand(users int) (planner.Demand, error) {
	ch := p.fs.Changed
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 }
	switch {
	case ch("peak-users") && p.peakUsers < 1:
		return planner.Demand{}, usagef("--peak-users must be at least 1, got %d", p.peakUsers)
	case ch("spare-replicas") && p.spare < 0:
		return planner.Demand{}, usagef("--spare-replicas must be 0 or more, got %d", p.spare)
	case ch("rps") && bad(p.rps):
		return planner.Demand{}, usagef("--rps must be a positive number of requests/s, got %g", p.rps)
	case ch("peak-rps") && bad(p.peakRPS):
		return planner.Demand{}, usagef("--peak-rps must be a positive number of requests/s, got %g", p.peakRPS)
	case ch("peak-factor") && (math.IsNaN(p.peakFactor) || math.IsInf(p.peakFactor, 0) || p.peakFactor < 1):
		return planner.Demand{}, usagef("--peak-factor must be at least 1 (peak = ceil(mean x F)), got %g", p.peakFactor)
	case ch("peak-factor") && (ch("peak-users") || ch("peak-rps")):
		return planner.Demand{}, usagef("--peak-factor sets the peak from the mean: give it or --peak-users/--peak-rps, not both")
	case ch("peak-factor") && users == 0 && !ch("rps"):
		return planner.Demand{}, usagef("--peak-factor needs a mean to multiply: --users N (or --rps R)")
	case ch("peak-users") && users > p.peakUsers:
		return planner.Demand{}, usagef("--peak-users %d is below --users %d: the peak is the highest load", p.peakUsers, users)
	case ch("peak-rps") && ch("rps") && p.rps > p.peakRPS:
		return planner.Demand{}, usagef("--peak-rps %g is below --rps %g: the peak is the highest load", p.peakRPS, p.rps)
	}
	d := planner.Demand{Users: users, PeakUsers: p.peakUsers, RPS: p.rps, PeakRPS: p.peakRPS, PeakFactor: p.peakFactor, Spare: p.spare}
	d, err := d.Resolve()
	if err != nil {
		return d, usagef("%v", err)
	}
	return d, nil
}

func cmdPlan(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("plan", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	users := fs.Int("users", 0, "concurrent users to serve: the mean when a peak is given (--users or --peak-users required)")
	peak := addPeakFlags(fs)
	output := fs.String("output", "text", "text (tables) or json (the plan for the peak, for scripts)")
	var costs []string
	fs.StringArrayVar(&costs, "gpu-hour-cost", nil, "MODEL=PRICE: price of one GPU hour of a target (by name or served model), over the plan's gpuHourCost (repeatable, or comma-separated)")
	fs.Usage = func() { fmt.Fprint(stderr, planUsage+fs.FlagUsages()) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return usagef("%v (see sweep-runner plan --help)", err)
	}
	if fs.NArg() != 1 {
		return usagef("plan needs exactly one RUN_DIR (see sweep-runner plan --help)")
	}
	if fs.Changed("users") && *users < 1 {
		return usagef("--users must be at least 1, got %d", *users)
	}
	if *users == 0 && !fs.Changed("peak-users") && !fs.Changed("peak-rps") && !fs.Changed("rps") && !fs.Changed("peak-factor") {
		return usagef("plan needs --users N or --peak-users N with N at least 1 (--rps or --peak-rps for open-loop answers)")
	}
	if *output != "text" && *output != "json" {
		return usagef("--output %q: want text or json", *output)
	}
	d, err := peak.demand(*users)
	if err != nil {
		return err
	}
	prices, err := parseCosts(costs)
	if err != nil {
		return err
	}
	dir := fs.Arg(0)
	plan, st, steps, err := results.Load(dir)
	if err != nil {
		return usagef("%v", err)
	}
	sum := analysis.Summarize(plan, st, steps)
	if *output == "text" && !peak.given() {
		return printPlan(stdout, &sum, *users, prices)
	}
	lines, err := report.PeakPlan(&sum, d, prices)
	if err != nil {
		return usagef("%v", err)
	}
	if *output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(peakJSON(sum.RunID, d, lines))
	}
	fmt.Fprintf(stdout, "Capacity plan for %s, from sweep %s\n\n", report.PeakHeading(d), sum.RunID)
	if len(lines) == 0 {
		fmt.Fprintf(stdout, "No step of this run has finished: nothing to size.\n")
		return nil
	}
	fmt.Fprint(stdout, report.PeakTable(d, lines))
	printClusterNotes(stdout, &sum)
	return nil
}

// printClusterNotes says what the cluster did to the sweep the plan comes
// from: the replicas it measured (the plan is per replica), the steps it
// disturbed, an autoscaling model.
func printClusterNotes(stdout io.Writer, sum *results.Summary) {
	if notes := report.ClusterNotes(sum); len(notes) > 0 {
		fmt.Fprintf(stdout, "\nWhat the cluster did to the sweep this plan comes from:\n\n%s\n", strings.Join(notes, "\n"))
	}
}

// printPlan is the plan for users alone, as it was before peaks.
func printPlan(stdout io.Writer, sum *results.Summary, users int, prices map[string]float64) error {
	lines, err := report.Plan(sum, users, prices)
	if err != nil {
		return usagef("%v", err)
	}
	fmt.Fprintf(stdout, "Capacity plan for %d concurrent users, from sweep %s\n\n", users, sum.RunID)
	if len(lines) == 0 {
		fmt.Fprintf(stdout, "No step of this run has finished: nothing to size.\n")
		return nil
	}
	fmt.Fprint(stdout, report.PlanTable(users, lines))
	printClusterNotes(stdout, sum)
	return nil
}

// planJSON is `plan --output json`. Plans come first so that each line's
// "replicas" (at the peak, spares included) is the first of that name a
// reader meets; null marks what is not known (no price) or not sized.
type planJSON struct {
	RunID       string         `json:"run_id"`
	Plans       []planLineJSON `json:"plans"`
	Demand      demandJSON     `json:"demand"`
	Assumptions string         `json:"assumptions"`
}

type planLineJSON struct {
	Target   string `json:"target"`
	Scenario string `json:"scenario"`
	// Unit of peak, headroom and the loads: "users" or
	// "requests_per_second" (an open-loop answer).
	Unit     string `json:"unit"`
	Feasible bool   `json:"feasible"`
	// Replicas at the peak, the spare replicas included.
	Replicas                   *int     `json:"replicas"`
	GPUs                       *int     `json:"gpus"`
	CostPerHour                *float64 `json:"cost_per_hour"`
	CostPerMillionOutputTokens *float64 `json:"cost_per_million_output_tokens"`
	Peak                       *float64 `json:"peak"`
	ServedOutputTokensPerSec   *float64 `json:"served_output_tokens_per_second"`
	ReplicasForPeak            *int     `json:"replicas_for_peak"`
	SpareReplicas              int      `json:"spare_replicas"`
	Headroom                   *float64 `json:"headroom"`
	HeadroomShare              *float64 `json:"headroom_share"`
	// Mean: the plan at the mean; null without one.
	Mean               *atJSON  `json:"mean"`
	GPUsPerReplica     int      `json:"gpus_per_replica"`
	MaxAtSLAPerReplica float64  `json:"max_at_sla_per_replica"`
	GPUHourCost        *float64 `json:"gpu_hour_cost"`
	Population         string   `json:"population,omitempty"`
	Note               string   `json:"note,omitempty"`
}

type atJSON struct {
	Load                       float64  `json:"load"`
	Replicas                   int      `json:"replicas"`
	GPUs                       int      `json:"gpus"`
	CostPerHour                *float64 `json:"cost_per_hour"`
	CostPerMillionOutputTokens *float64 `json:"cost_per_million_output_tokens"`
	ServedOutputTokensPerSec   float64  `json:"served_output_tokens_per_second"`
}

type demandJSON struct {
	Users         int     `json:"users,omitempty"`
	PeakUsers     int     `json:"peak_users,omitempty"`
	RPS           float64 `json:"rps,omitempty"`
	PeakRPS       float64 `json:"peak_rps,omitempty"`
	PeakFactor    float64 `json:"peak_factor,omitempty"`
	SpareReplicas int     `json:"spare_replicas"`
}

func peakJSON(runID string, d planner.Demand, lines []planner.PeakLine) planJSON {
	num := func(v float64) *float64 {
		if math.IsNaN(v) {
			return nil
		}
		return &v
	}
	out := planJSON{RunID: runID, Plans: []planLineJSON{}, Assumptions: planner.PeakAssumptionsFor(lines),
		Demand: demandJSON{Users: d.Users, PeakUsers: d.PeakUsers, RPS: d.RPS, PeakRPS: d.PeakRPS, PeakFactor: d.PeakFactor, SpareReplicas: d.Spare}}
	rows := report.PeakRows(lines)
	for i, l := range lines {
		j := planLineJSON{Target: l.Model, Scenario: l.Scenario, Unit: l.Unit, Feasible: l.Feasible, SpareReplicas: l.Spare,
			GPUsPerReplica: l.GPUsPerReplica, MaxAtSLAPerReplica: l.PerReplica, Population: l.Population, Note: rows[i].Note}
		if l.GPUHourCost > 0 {
			j.GPUHourCost = num(l.GPUHourCost)
		}
		if l.Sized {
			p := l.Peak
			j.Replicas, j.GPUs, j.ReplicasForPeak = &p.Replicas, &p.GPUs, &l.ReplicasForPeak
			j.CostPerHour, j.CostPerMillionOutputTokens = num(p.CostPerHour), num(p.CostPerMillionTokens)
			j.Peak, j.ServedOutputTokensPerSec = num(p.Load), num(p.ServedTokensPerSecond)
			j.Headroom, j.HeadroomShare = num(l.Headroom), num(l.HeadroomShare)
			if m := l.Mean; m != nil {
				j.Mean = &atJSON{Load: m.Load, Replicas: m.Replicas, GPUs: m.GPUs, ServedOutputTokensPerSec: m.ServedTokensPerSecond,
					CostPerHour: num(m.CostPerHour), CostPerMillionOutputTokens: num(m.CostPerMillionTokens)}
			}
		}
		out.Plans = append(out.Plans, j)
	}
	return out
}
