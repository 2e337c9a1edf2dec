package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/analysis"
	"github.com/rhoai-demo/step07/sweep-runner/client"
	"github.com/rhoai-demo/step07/sweep-runner/power"
	"github.com/rhoai-demo/step07/sweep-runner/remotewrite"
	"github.com/rhoai-demo/step07/sweep-runner/report"
	"github.com/rhoai-demo/step07/sweep-runner/results"
	"github.com/rhoai-demo/step07/sweep-runner/sweep"
)

var version = "dev"

// Exit codes.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitInterrupted = 3
)

// usageError is bad input: exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const topUsage = `sweep-runner: find how many concurrent users each model variant serves within the SLA.

Usage:
  sweep-runner run [flags]            run a sweep (see sweep-runner run --help)
  sweep-runner run --resume RUN_DIR   continue an interrupted run
  sweep-runner report RUN_DIR         rebuild summary.json, summary.csv, report.md, report.html and charts from steps.jsonl
  sweep-runner plan --users N RUN_DIR capacity plan: replicas, GPUs, cost and energy for N concurrent users
  sweep-runner import guidellm FILE... import GuideLLM reports (benchmarks.json/.yaml) into a new run directory under --out
  sweep-runner export guidellm RUN_DIR write a run directory as a GuideLLM report (guidellm-benchmarks.json)
  sweep-runner version                print the version

Exit codes: 0 done, 1 failure, 2 bad input, 3 interrupted (resume with --resume).
`

func run(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "sweep-runner: internal error: %v\n", r)
			code = exitFailure
		}
	}()
	if len(args) == 0 {
		fmt.Fprint(stderr, topUsage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "run":
		err = cmdRun(args[1:], stdout, stderr)
	case "report":
		err = cmdReport(args[1:], stdout, stderr)
	case "plan":
		err = cmdPlan(args[1:], stdout, stderr)
	case "import":
		err = cmdImport(args[1:], stdout, stderr)
	case "export":
		err = cmdExport(args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "sweep-runner %s\n", version)
		return exitOK
	case "help", "--help", "-h":
		fmt.Fprint(stdout, topUsage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "sweep-runner: unknown command %q\n\n%s", args[0], topUsage)
		return exitUsage
	}
	var ue *usageError
	var te *sweep.TargetError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, pflag.ErrHelp):
		return exitOK
	case errors.As(err, &ue), errors.As(err, &te):
		fmt.Fprintf(stderr, "sweep-runner: %v\n", err)
		return exitUsage
	case errors.Is(err, sweep.ErrInterrupted):
		fmt.Fprintf(stderr, "sweep-runner: %v\n", err)
		return exitInterrupted
	default:
		fmt.Fprintf(stderr, "sweep-runner: %v\n", err)
		return exitFailure
	}
}

type runFlags struct {
	plan, out, resume, scenarios, api, apiKeyFile string
	caFile                                        string
	targets                                       []string
	concurrency                                   []int
	maxConc, startConc                            int
	stepDur, warmup, reqTimeout, readyTimeout     time.Duration
	noBisect                                      bool
	remoteWrite, promURL, promToken, promCA       string
	podRegex                                      string
	planUsers                                     int
	minRequests, maxRequests                      int
	keepRuns                                      int
	maxWindow                                     time.Duration
	timeScale                                     float64
}

// resumeLatest is --resume's value without an argument: the latest run in
// --out, unless a RUN_DIR follows as an argument.
const resumeLatest = "latest"

func cmdRun(args []string, stdout, stderr io.Writer) error {
	var f runFlags
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.plan, "plan", "", "sweep plan file (the SweepPlan step07gen writes); without it the defaults apply and --target is required")
	fs.StringVar(&f.out, "out", "out", "results directory; each run gets DIR/<run-id>/")
	fs.StringArrayVar(&f.targets, "target", nil, "NAME=URL[,gpus=N][,model=SERVED_NAME][,precision=P][,metrics=URL] (repeatable; replaces the plan's targets)")
	fs.StringVar(&f.scenarios, "scenario", "", "scenarios to run, by name, comma-separated (default: all of the plan's; A, B, C)")
	fs.IntSliceVar(&f.concurrency, "concurrency", nil, "explicit concurrency steps, e.g. 1,2,4,8 (every step runs)")
	fs.IntVar(&f.maxConc, "max-concurrency", 0, "double from --start-concurrency up to this concurrency, stopping at the first broken step")
	fs.IntVar(&f.startConc, "start-concurrency", 0, "first concurrency of the doubling (default 1)")
	fs.DurationVar(&f.stepDur, "step-duration", 0, "measurement window of a step (default 60s)")
	fs.DurationVar(&f.warmup, "warmup", 0, "warmup before each window, excluded from the statistics (default 10s)")
	fs.DurationVar(&f.reqTimeout, "request-timeout", 0, "timeout of one request (default 120s); also bounds the warmup's wait for every user to finish a request")
	fs.IntVar(&f.minRequests, "min-requests", 0, "a window stays open until this many of its requests finished (default 20)")
	fs.IntVar(&f.maxRequests, "max-requests", 0, "re-measure budget: a window whose verdict is not clear at 95% stays open up to this many finished requests (default 200)")
	fs.DurationVar(&f.maxWindow, "max-window", 0, "bound on a window kept open for minRequests or a clear verdict (default 5m)")
	fs.Float64Var(&f.timeScale, "time-scale", 0, "the targets are simulators running at this time scale (vllm-sim --time-scale F): SLA times x F, reading speeds / F (default 1)")
	fs.DurationVar(&f.readyTimeout, "ready-timeout", 0, "keep retrying a target that is unreachable or answers 5xx/429 for this long before giving up (default: the plan's readyTimeout; 0: check once)")
	fs.StringVar(&f.api, "api", "", "API: completions or chat (default completions)")
	fs.StringVar(&f.apiKeyFile, "api-key-file", "", "file holding the targets' API key (sent as a bearer token, never logged)")
	fs.StringVar(&f.caFile, "ca-file", "", "PEM CA bundle trusted, besides the system roots, for https targets (a model behind OpenShift AI's auth proxy: the service CA; default: the plan's caFile)")
	fs.BoolVar(&f.noBisect, "no-bisect", false, "stop after the grid: no bisection of the breaking point")
	fs.StringVar(&f.remoteWrite, "remote-write", "", "Prometheus remote-write URL (e.g. http://prometheus:9090/api/v1/write) receiving each finished step's results (default: the plan's remoteWriteURL); failures keep the results on disk for --resume or the next run in --out")
	fs.StringVar(&f.promURL, "prometheus-url", "", "Prometheus (or Thanos Querier) base URL queried for the GPUs' DCGM power per step (default: the plan's prometheusURL)")
	fs.StringVar(&f.promToken, "prometheus-token-file", "", "file holding a bearer token for --prometheus-url (default: the plan's prometheusTokenFile)")
	fs.StringVar(&f.promCA, "prometheus-ca-file", "", "PEM CA bundle trusted for an https --prometheus-url (default: the plan's prometheusCAFile)")
	fs.StringVar(&f.podRegex, "power-pod-regex", power.DefaultPodRegex, "regex of the DCGM pod (or exported_pod) label of a target's GPUs; {model} is the served model name")
	fs.IntVar(&f.keepRuns, "keep-runs", 0, "after a run completes, keep this many run directories in its results directory, removing the oldest (default: the plan's keepRuns, 30); never the run just completed or resumed, nothing after a failed or interrupted run")
	fs.IntVar(&f.planUsers, "plan-users", report.DefaultPlanUsers, "concurrent users the report's capacity plan is sized for")
	fs.StringVar(&f.resume, "resume", "", "continue an interrupted run: --resume RUN_DIR, or --resume --out DIR for the latest run in DIR")
	fs.Lookup("resume").NoOptDefVal = resumeLatest
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: sweep-runner run [--plan F] [--target NAME=URL,...] --out DIR [flags]\n       sweep-runner run --resume RUN_DIR\n\nFlags:\n%s", fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return usagef("%v (see sweep-runner run --help)", err)
	}
	interactive := isTerminal(stderr)
	var logw io.Writer
	if interactive {
		logw = stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	var r *sweep.Runner
	if fs.Changed("resume") {
		dir := f.resume
		rest := fs.Args()
		if dir == resumeLatest {
			if _, err := os.Stat(filepath.Join(dir, results.PlanFile)); err != nil {
				dir = ""
			}
		}
		if dir == "" && len(rest) == 1 {
			dir, rest = rest[0], nil
		}
		if len(rest) > 0 {
			return usagef("unexpected arguments %q", rest)
		}
		if dir == "" {
			d, err := sweep.Latest(f.out)
			if err != nil {
				return usagef("--resume: %v", err)
			}
			dir = d
		}
		var err error
		if r, err = sweep.Open(dir, version); err != nil {
			return usagef("--resume %s: %v", dir, err)
		}
		if logw != nil {
			fmt.Fprintf(logw, "resuming %s: %d steps already done\n", r.RunDir, len(r.Steps()))
		}
	} else {
		if len(fs.Args()) > 0 {
			return usagef("unexpected arguments %q", fs.Args())
		}
		plan, err := buildPlan(&f, fs)
		if err != nil {
			return err
		}
		r = sweep.New(plan)
	}
	defer r.Close()
	r.FreeSpace = diskSpace
	if err := applyResultFlags(&f, fs, r, stderr); err != nil {
		return err
	}
	key, err := readAPIKey(r.Plan.Spec.APIKeyFile)
	if err != nil {
		return err
	}
	r.APIKey, r.Progress, r.Log, r.Warn = key, stderr, logw, stderr
	if r.RootCAs, err = client.CertPool(r.Plan.Spec.CAFile); err != nil {
		return usagef("--ca-file or spec.caFile: %v", err)
	}
	// Every target is checked before any step runs (and before a new run
	// directory is made, so bad input leaves nothing behind).
	if r.RunDir == "" || !allComplete(r) {
		if err := r.Check(ctx); err != nil {
			if ctx.Err() != nil {
				return sweep.ErrInterrupted
			}
			if r.RunDir != "" {
				r.Finish(results.StatusFailed, err.Error())
			}
			return err
		}
	}
	if r.RunDir == "" {
		if err := r.Create(f.out, version); err != nil {
			return err
		}
	}
	if logw != nil {
		fmt.Fprintf(logw, "run directory %s\n", r.RunDir)
	}
	runErr := r.Run(ctx)
	status, msg := results.StatusComplete, ""
	switch {
	case errors.Is(runErr, sweep.ErrInterrupted):
		status, msg = results.StatusInterrupted, "interrupted by a signal"
	case runErr != nil:
		status, msg = results.StatusFailed, runErr.Error()
	}
	sum, err := r.Finish(status, msg)
	if err != nil {
		return errors.Join(runErr, err)
	}
	// Results retention: only after a complete run (PruneRuns checks it).
	removed, err := r.PruneRuns()
	for _, d := range removed {
		fmt.Fprintf(stderr, "removed old run directory %s (keepRuns %d: the newest runs are kept)\n", d, sweep.KeepRuns(r.Plan))
	}
	if err != nil {
		fmt.Fprintf(stderr, "warning: old run directories not all removed: %v\n", err)
	}
	fmt.Fprint(stdout, report.SizingTable(sum))
	fmt.Fprintf(stdout, "\nreport: %s (and %s)\n", filepath.Join(r.RunDir, results.ReportMD), report.ReportHTML)
	return runErr
}

// diskSpace reads the free space of the results filesystem (tests replace it).
var diskSpace = sweep.DiskSpace

// applyResultFlags sets the remote-write, power and retention flags (over
// the plan's values, also when resuming) and builds their clients.
func applyResultFlags(f *runFlags, fs *pflag.FlagSet, r *sweep.Runner, stderr io.Writer) error {
	s := &r.Plan.Spec
	if fs.Changed("keep-runs") {
		if f.keepRuns < 1 || f.keepRuns > 10000 {
			return usagef("--keep-runs must be within 1..10000 (run directories kept), got %d", f.keepRuns)
		}
		s.KeepRuns = f.keepRuns
	}
	if fs.Changed("remote-write") {
		s.RemoteWriteURL = f.remoteWrite
	}
	if fs.Changed("prometheus-url") {
		s.PrometheusURL = f.promURL
	}
	if fs.Changed("prometheus-token-file") {
		s.PrometheusTokenFile = f.promToken
	}
	if fs.Changed("prometheus-ca-file") {
		s.PrometheusCAFile = f.promCA
	}
	if f.planUsers < 1 {
		return usagef("--plan-users must be at least 1")
	}
	r.ReportOptions.PlanUsers = f.planUsers
	if u := s.RemoteWriteURL; u != "" {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return usagef("--remote-write %q: want an http(s) URL such as http://prometheus:9090/api/v1/write", u)
		}
		c, err := remotewrite.New(u, remotewrite.Options{})
		if err != nil {
			return usagef("%v", err)
		}
		r.RemoteWrite = c
	}
	if u := s.PrometheusURL; u != "" {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return usagef("--prometheus-url %q: want an http(s) base URL such as http://prometheus:9090", u)
		}
		if !strings.Contains(f.podRegex, "{model}") {
			return usagef("--power-pod-regex %q must contain {model}", f.podRegex)
		}
		// A missing token or CA (e.g. the optional Secret of the generated
		// Job) costs the power figures, never the sweep.
		q := &power.Querier{URL: u, TokenFile: s.PrometheusTokenFile, CAFile: s.PrometheusCAFile, PodRegex: f.podRegex}
		err := q.Connect()
		if err == nil && s.PrometheusTokenFile != "" {
			_, err = os.Stat(s.PrometheusTokenFile)
		}
		if err != nil {
			fmt.Fprintf(stderr, "warning: GPU power not measured: %v\n", err)
			return nil
		}
		r.Power = q
	}
	return nil
}

func allComplete(r *sweep.Runner) bool {
	sum := analysis.Summarize(r.Plan, r.State, r.Steps())
	for _, res := range sum.Results {
		if !res.Complete {
			return false
		}
	}
	return true
}

// buildPlan reads --plan (or starts from the defaults) and applies the
// override flags; every problem is a usage error with its field path.
func buildPlan(f *runFlags, fs *pflag.FlagSet) (*v1alpha1.SweepPlan, error) {
	plan := &v1alpha1.SweepPlan{}
	if f.plan != "" {
		data, err := os.ReadFile(f.plan)
		if err != nil {
			return nil, usagef("--plan: %v", err)
		}
		if err := v1alpha1.DecodeStrict(data, plan); err != nil {
			return nil, usagef("invalid plan %s:\n%v", f.plan, err)
		}
	}
	if err := plan.Default(); err != nil {
		return nil, usagef("invalid plan: %v", err)
	}
	s := &plan.Spec
	if len(f.targets) > 0 {
		s.Targets = nil
		for _, t := range f.targets {
			tg, err := parseTarget(t)
			if err != nil {
				return nil, err
			}
			s.Targets = append(s.Targets, tg)
		}
	}
	if f.scenarios != "" {
		var keep []v1alpha1.Scenario
		for _, name := range strings.Split(f.scenarios, ",") {
			name = strings.TrimSpace(name)
			found := false
			for _, sc := range s.Scenarios {
				if strings.EqualFold(sc.Name, name) {
					keep, found = append(keep, sc), true
				}
			}
			if !found {
				var names []string
				for _, sc := range s.Scenarios {
					names = append(names, sc.Name)
				}
				return nil, usagef("--scenario: unknown scenario %q (the plan has %s)", name, strings.Join(names, ", "))
			}
		}
		s.Scenarios = keep
	}
	if fs.Changed("concurrency") && (fs.Changed("max-concurrency") || fs.Changed("start-concurrency")) {
		return nil, usagef("--concurrency and --max-concurrency/--start-concurrency exclude each other")
	}
	if fs.Changed("concurrency") {
		s.Concurrency, s.StartConcurrency, s.MaxConcurrency = f.concurrency, 0, 0
	}
	if fs.Changed("max-concurrency") || fs.Changed("start-concurrency") {
		s.Concurrency = nil
		if s.StartConcurrency == 0 {
			s.StartConcurrency = 1
		}
		if fs.Changed("start-concurrency") {
			s.StartConcurrency = f.startConc
		}
		if fs.Changed("max-concurrency") {
			s.MaxConcurrency = f.maxConc
		} else if s.MaxConcurrency == 0 {
			s.MaxConcurrency = v1alpha1.DefaultSweep().MaxConcurrency
		}
	}
	if fs.Changed("step-duration") {
		s.StepDuration = v1alpha1.D(f.stepDur)
	}
	if fs.Changed("warmup") {
		s.Warmup = v1alpha1.D(f.warmup)
	}
	if fs.Changed("request-timeout") {
		s.RequestTimeout = v1alpha1.D(f.reqTimeout)
	}
	if fs.Changed("ready-timeout") {
		s.ReadyTimeout = v1alpha1.D(f.readyTimeout)
	}
	if fs.Changed("api") {
		s.API = f.api
	}
	if fs.Changed("min-requests") {
		s.MinRequests = f.minRequests
		if !fs.Changed("max-requests") && s.MaxRequests < f.minRequests {
			s.MaxRequests = f.minRequests
		}
	}
	if fs.Changed("max-requests") {
		s.MaxRequests = f.maxRequests
	}
	if fs.Changed("max-window") {
		s.MaxWindow = v1alpha1.D(f.maxWindow)
	} else if s.MaxWindow.Duration < s.StepDuration.Duration && s.MaxWindow.Duration > 0 {
		s.MaxWindow = s.StepDuration
	}
	if fs.Changed("time-scale") {
		s.TimeScale = f.timeScale
	}
	if fs.Changed("api-key-file") {
		s.APIKeyFile = f.apiKeyFile
	}
	if fs.Changed("ca-file") {
		s.CAFile = f.caFile
	}
	if f.noBisect {
		no := false
		s.Bisect = &no
	}
	if err := plan.Default(); err != nil {
		return nil, usagef("invalid plan: %v", err)
	}
	if fs.Changed("warmup") && f.warmup == 0 {
		s.Warmup = v1alpha1.D(0)
	}
	if err := plan.Validate(); err != nil {
		msg := err.Error()
		if len(s.Targets) == 0 {
			msg += "\n(give the targets with --target NAME=URL[,gpus=N][,model=SERVED_NAME] or in --plan)"
		}
		return nil, usagef("invalid sweep plan:\n%s", msg)
	}
	return plan, nil
}

// parseTarget reads NAME=URL[,gpus=N][,model=M][,precision=P][,metrics=URL][,cost=PRICE].
func parseTarget(v string) (v1alpha1.Target, error) {
	var t v1alpha1.Target
	parts := strings.Split(v, ",")
	name, url, ok := strings.Cut(parts[0], "=")
	if !ok || name == "" || url == "" {
		return t, usagef("--target %q: want NAME=URL[,gpus=N][,model=SERVED_NAME]", v)
	}
	t.Name, t.URL = name, url
	for _, p := range parts[1:] {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			return t, usagef("--target %q: %q is not key=value", v, p)
		}
		switch k {
		case "gpus":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 {
				return t, usagef("--target %q: gpus must be a whole number of at least 1", v)
			}
			t.GPUs = n
		case "model":
			t.Model = val
		case "precision":
			t.Precision = val
		case "metrics":
			t.MetricsURL = val
		case "cost":
			c, err := strconv.ParseFloat(val, 64)
			if err != nil || c < 0 {
				return t, usagef("--target %q: cost must be a non-negative number (per GPU-hour)", v)
			}
			t.GPUHourCost = c
		default:
			return t, usagef("--target %q: unknown key %q (known: gpus, model, precision, metrics, cost)", v, k)
		}
	}
	return t, nil
}

func readAPIKey(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		// The path is left out on purpose: a key pasted in place of its file
		// name must not end up in logs.
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", usagef("API key file (--api-key-file or spec.apiKeyFile): cannot read it: %v", err)
	}
	key := strings.TrimSpace(string(b))
	if key == "" {
		return "", usagef("API key file (--api-key-file or spec.apiKeyFile) is empty")
	}
	return key, nil
}

func cmdReport(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("report", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	users := fs.Int("users", report.DefaultPlanUsers, "concurrent users the report's capacity plan is sized for")
	var costs []string
	fs.StringArrayVar(&costs, "gpu-hour-cost", nil, "MODEL=PRICE: price of one GPU hour of a target (by name or served model), over the plan's gpuHourCost (repeatable)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: sweep-runner report [--users N] RUN_DIR\n\nRebuilds summary.json, summary.csv, report.md, report.html and the PNG charts from the run's plan.yaml and steps.jsonl, offline.\n\nFlags:\n%s", fs.FlagUsages())
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
	if _, err := os.Stat(filepath.Join(dir, results.PlanFile)); err != nil {
		return usagef("%s is not a run directory (no %s)", dir, results.PlanFile)
	}
	if _, _, _, err := report.Load(dir); err != nil {
		return usagef("%v", err)
	}
	if *users < 1 {
		return usagef("--users must be at least 1")
	}
	prices, err := parseCosts(costs)
	if err != nil {
		return err
	}
	sum, err := report.RebuildOpts(dir, report.Options{PlanUsers: *users, Costs: prices})
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
	plan, st, steps, err := report.Load(dir)
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

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
