package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/rhoai-demo/step07/sweep-runner/report"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

func cmdReport(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("report", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	users := fs.Int("users", report.DefaultPlanUsers, "concurrent users the report's capacity plan is sized for (the mean when a peak is given)")
	peak := addPeakFlags(fs)
	var costs []string
	fs.StringArrayVar(&costs, "gpu-hour-cost", nil, "MODEL=PRICE: price of one GPU hour of a target (by name or served model), over the plan's gpuHourCost (repeatable)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: sweep-runner report [--users N] [--peak-users N | --peak-factor F] [--spare-replicas K] RUN_DIR\n\nRebuilds summary.json, summary.csv, report.md, report.html and the PNG charts from the run's plan.yaml and steps.jsonl, offline. A peak or spare replicas add the plan for the peak to the capacity plan.\n\nFlags:\n%s", fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return usagef("%v", err)
	}
	if fs.NArg() != 1 {
		return usagef("report needs exactly one RUN_DIR")
	}
	dir := fs.Arg(0)
	if !results.IsRunDir(dir) {
		return usagef("%s is not a run directory (no %s)", dir, results.PlanFile)
	}
	if _, _, _, err := results.Load(dir); err != nil {
		return usagef("%v", err)
	}
	if *users < 1 {
		return usagef("--users must be at least 1")
	}
	opts := report.Options{PlanUsers: *users}
	if peak.given() {
		d, err := peak.demand(*users)
		if err != nil {
			return err
		}
		opts.Peak = &d
	}
	prices, err := parseCosts(costs)
	if err != nil {
		return err
	}
	opts.Costs = prices
	sum, err := report.RebuildOpts(results.At(dir), opts)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, report.SizingTable(sum))
	fmt.Fprintf(stdout, "\nreport: %s and %s\n", filepath.Join(dir, results.ReportMD), filepath.Join(dir, report.ReportHTML))
	return nil
}

// parseCosts reads MODEL=PRICE pairs.
func parseCosts(vals []string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, v := range vals {
		for _, kv := range strings.Split(v, ",") {
			name, price, ok := strings.Cut(kv, "=")
			p, err := strconv.ParseFloat(strings.TrimSpace(price), 64)
			if !ok || strings.TrimSpace(name) == "" || err != nil || p < 0 {
				return nil, usagef("--gpu-hour-cost %q: want MODEL=PRICE with a non-negative price per GPU hour", kv)
			}
			out[strings.TrimSpace(name)] = p
		}
	}
	return out, nil
}
