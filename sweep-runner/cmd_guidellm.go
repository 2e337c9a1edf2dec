package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/guidellm"
	"github.com/rhoai-demo/step07/sweep-runner/report"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// The import and export subcommands: GuideLLM's saved reports in and out
// (package guidellm does the work).

const importUsage = `Usage: sweep-runner import guidellm FILE... [--out DIR] [--target NAME[,gpus=N][,model=SERVED_NAME][,precision=P][,cost=PRICE] ...]
                                [--prometheus-url URL [--prometheus-token-file F] [--prometheus-ca-file F]]

Imports GuideLLM saved reports (benchmarks.json, or the same as YAML; report
version 2 of GuideLLM 0.7+ and version 1 of 0.4-0.6) into a new run directory
DIR/<run-id>/ laid out as sweep-runner run's (plan.yaml, run.json, steps.jsonl),
with summary.json and the reports built by the same code: every benchmark
becomes a step, graded against the default SLA table and judged by the same
breaking-point rules (sweep-runner report RUN_DIR rebuilds it).

GuideLLM measures no server gauges: without --prometheus-url the queue rule and
the KV cache KPI are unknown; with it they are read from Prometheus over each
benchmark's window (vllm:num_requests_waiting, vllm:kv_cache_usage_perc or
vllm:gpu_cache_usage_perc, selected by model_name = the report's model or the
--target model). A malformed or unknown report is bad input (exit 2), with the
JSON path of each problem.

Flags:
`

const exportUsage = `Usage: sweep-runner export guidellm RUN_DIR [--out FILE]

Writes a run directory's steps as a GuideLLM report (version 2, GuideLLM 0.7+):
one generative_benchmark per step, a concurrent strategy with streams = the
step's concurrency. By default into RUN_DIR/` + guidellm.ExportFile + `, whose path
is printed; --out - writes it to standard output. What GuideLLM has no field for
travels in a "sweep_runner" object on each benchmark, so sweep-runner import
guidellm gives back the same steps and breaking point.

Flags:
`

// formatArg checks the FORMAT argument of import and export.
func formatArg(cmd string, args []string, fs *pflag.FlagSet) ([]string, error) {
	if len(args) == 0 {
		return nil, usagef("%s needs a format: sweep-runner %s guidellm ... (see sweep-runner %s --help)", cmd, cmd, cmd)
	}
	switch args[0] {
	case "guidellm":
		return args[1:], nil
	case "-h", "--help", "help":
		fs.Usage()
		return nil, pflag.ErrHelp
	}
	return nil, usagef("%s: unknown format %q (known: guidellm)", cmd, args[0])
}

func cmdImport(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("import guidellm", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, importUsage+fs.FlagUsages()) }
	out := fs.String("out", "out", "results directory; the import gets DIR/<run-id>/")
	var targets []string
	fs.StringArrayVar(&targets, "target", nil, "NAME[,gpus=N][,model=SERVED_NAME][,precision=P][,cost=PRICE]: the target of the reports, one for every FILE or one for all (default: the report's model, 1 GPU)")
	prom := &guidellm.Prometheus{}
	fs.StringVar(&prom.URL, "prometheus-url", "", "Prometheus (or Thanos Querier) base URL the server gauges of each benchmark's window are read from (default: none, the queue rule and KV cache are unknown)")
	fs.StringVar(&prom.TokenFile, "prometheus-token-file", "", "file holding a bearer token for --prometheus-url")
	fs.StringVar(&prom.CAFile, "prometheus-ca-file", "", "PEM CA bundle trusted for an https --prometheus-url")
	users := fs.Int("users", report.DefaultPlanUsers, "concurrent users the report's capacity plan is sized for")
	args, err := formatArg("import", args, fs)
	if err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return usagef("%v (see sweep-runner import --help)", err)
	}
	if fs.NArg() == 0 {
		return usagef("import guidellm needs at least one FILE (a GuideLLM benchmarks.json or .yaml)")
	}
	if *users < 1 {
		return usagef("--users must be at least 1")
	}
	opts := guidellm.Options{Version: version, Warn: stderr}
	for _, v := range targets {
		t, err := parseImportTarget(v)
		if err != nil {
			return err
		}
		opts.Targets = append(opts.Targets, t)
	}
	if n := len(opts.Targets); n > 1 && n != fs.NArg() {
		return usagef("%d --target for %d files: give one for every FILE, or one for all", n, fs.NArg())
	}
	if fs.Changed("prometheus-url") {
		if err := prom.Connect(); err != nil {
			return usagef("--prometheus-url: %v", err)
		}
		opts.Prometheus = prom
	} else if prom.TokenFile != "" || prom.CAFile != "" {
		return usagef("--prometheus-token-file and --prometheus-ca-file need --prometheus-url")
	}
	var reps []*guidellm.Report
	for _, f := range fs.Args() {
		r, err := guidellm.ReadFile(f)
		if err != nil {
			return usagef("%v", err)
		}
		reps = append(reps, r)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	im, err := guidellm.Import(ctx, reps, opts)
	if err != nil {
		return usagef("%v", err)
	}
	dir, sum, err := im.Write(*out, report.Options{PlanUsers: *users}, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, report.SizingTable(sum))
	fmt.Fprintf(stdout, "\nrun directory: %s (imported %d benchmarks; sweep-runner report %s rebuilds it)\nreport: %s and %s\n",
		dir, len(im.Steps), dir, filepath.Join(dir, results.ReportMD), filepath.Join(dir, report.ReportHTML))
	return nil
}

// parseImportTarget reads NAME[,gpus=N][,model=M][,precision=P][,cost=PRICE].
func parseImportTarget(v string) (guidellm.Target, error) {
	var t guidellm.Target
	parts := strings.Split(v, ",")
	if parts[0] == "" || strings.Contains(parts[0], "=") {
		return t, usagef("--target %q: want NAME[,gpus=N][,model=SERVED_NAME][,precision=P][,cost=PRICE] (an import has no URL)", v)
	}
	var vt v1alpha1.Target
	if err := targetKeys(&vt, v, parts[1:], false); err != nil {
		return t, err
	}
	return guidellm.Target{Name: parts[0], Model: vt.Model, Precision: vt.Precision, GPUs: vt.GPUs, GPUHourCost: vt.GPUHourCost}, nil
}

func cmdExport(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("export guidellm", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, exportUsage+fs.FlagUsages()) }
	out := fs.String("out", "", "file to write (default RUN_DIR/"+guidellm.ExportFile+"; - for standard output)")
	args, err := formatArg("export", args, fs)
	if err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return usagef("%v (see sweep-runner export --help)", err)
	}
	if fs.NArg() != 1 {
		return usagef("export guidellm needs exactly one RUN_DIR")
	}
	dir := fs.Arg(0)
	if !results.IsRunDir(dir) {
		return usagef("%s is not a run directory (no %s)", dir, results.PlanFile)
	}
	data, err := guidellm.Export(dir, version)
	if err != nil {
		return usagef("%v", err)
	}
	switch *out {
	case "-":
		_, err := stdout.Write(data)
		return err
	case "":
		// Into the run directory, beside the reports (unlocked, as
		// sweep-runner report rewrites them).
		if err := results.At(dir).WriteFile(guidellm.ExportFile, data); err != nil {
			return err
		}
		fmt.Fprintln(stdout, filepath.Join(dir, guidellm.ExportFile))
		return nil
	}
	// --out FILE: a file the user names, anywhere.
	if err := results.WriteFileAtomic(*out, data); err != nil {
		return err
	}
	fmt.Fprintln(stdout, *out)
	return nil
}
