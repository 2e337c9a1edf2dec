package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/rhoai-demo/step07/sweep-runner/analysis"
	"github.com/rhoai-demo/step07/sweep-runner/report"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

const planUsage = `Usage: sweep-runner plan --users N [--gpu-hour-cost MODEL=PRICE ...] RUN_DIR

For N concurrent users, per model variant and scenario of the run: replicas and
GPUs needed to serve them within the SLA, cost per hour and per million output
tokens (with a GPU-hour price: the plan's gpuHourCost or --gpu-hour-cost), and
energy per million output tokens where GPU power was measured. Offline: reads
the run's plan.yaml and steps.jsonl.

Flags:
`

func cmdPlan(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("plan", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	users := fs.Int("users", 0, "concurrent users to serve (required)")
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
	if *users < 1 {
		return usagef("plan needs --users N with N at least 1")
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
	lines, err := report.Plan(&sum, *users, prices)
	if err != nil {
		return usagef("%v", err)
	}
	fmt.Fprintf(stdout, "Capacity plan for %d concurrent users, from sweep %s\n\n", *users, sum.RunID)
	if len(lines) == 0 {
		fmt.Fprintf(stdout, "No step of this run has finished: nothing to size.\n")
		return nil
	}
	fmt.Fprint(stdout, report.PlanTable(*users, lines))
	return nil
}
