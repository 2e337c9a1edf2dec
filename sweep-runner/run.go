package main

import (
	"bytes"
	"context"
	"encoding/json"
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

// runFlags are sweep-runner run's flags. The plan's settings are bound to
// the optional fields of settings and outputs: merging them into the plan
// is v1alpha1's (SweepPlan.Apply and ApplyOutputs), not this command's.
type runFlags struct {
	plan, out, resume string
	targets           []string
	scenarios         string
	noBisect          bool
	podRegex          string
	planUsers         int
	// peak: the capacity plan for a peak (plan.go), sized in the reports
	peak     *peakFlags
	settings v1alpha1.PlanOverrides
	outputs  v1alpha1.OutputOverrides
	shard    shardOpts
}

// resumeLatest is --resume's value without an argument: the latest run in
// --out, unless a RUN_DIR follows as an argument.
const resumeLatest = "latest"

func runFlagSet(f *runFlags, stderr io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	o, outs := &f.settings, &f.outputs
	fs.StringVar(&f.plan, "plan", "", "sweep plan file (the SweepPlan step07gen writes); without it the defaults apply and --target is required")
	fs.StringVar(&f.out, "out", "out", "results directory; each run gets DIR/<run-id>/")
	fs.StringArrayVar(&f.targets, "target", nil, "NAME=URL[,gpus=N][,model=SERVED_NAME][,precision=P][,metrics=URL] (repeatable; replaces the plan's targets)")
	fs.StringVar(&f.scenarios, "scenario", "", "scenarios to run, by name, comma-separated (default: all of the plan's; A, B, C)")
	fs.IntSliceVar(&o.Concurrency, "concurrency", nil, "explicit concurrency steps, e.g. 1,2,4,8 (every step runs)")
	optionalVar(fs, &o.MaxConcurrency, "max-concurrency", "double from --start-concurrency up to this concurrency, stopping at the first broken step", (*pflag.FlagSet).IntVar)
	optionalVar(fs, &o.StartConcurrency, "start-concurrency", "first concurrency of the doubling (default 1)", (*pflag.FlagSet).IntVar)
	optionalVar(fs, &o.StepDuration, "step-duration", "measurement window of a step (default 60s)", (*pflag.FlagSet).DurationVar)
	optionalVar(fs, &o.Warmup, "warmup", "warmup before each window, excluded from the statistics (default 10s)", (*pflag.FlagSet).DurationVar)
	optionalVar(fs, &o.RequestTimeout, "request-timeout", "timeout of one request (default 120s); also bounds the warmup's wait for every user to finish a request", (*pflag.FlagSet).DurationVar)
	optionalVar(fs, &o.MinRequests, "min-requests", "a window stays open until this many of its requests finished (default 20)", (*pflag.FlagSet).IntVar)
	optionalVar(fs, &o.MaxRequests, "max-requests", "re-measure budget: a window whose verdict is not clear at 95% stays open up to this many finished requests (default 200)", (*pflag.FlagSet).IntVar)
	optionalVar(fs, &o.MaxWindow, "max-window", "bound on a window kept open for minRequests or a clear verdict (default 5m)", (*pflag.FlagSet).DurationVar)
	optionalVar(fs, &o.TimeScale, "time-scale", "the targets are simulators running at this time scale (vllm-sim --time-scale F): SLA times x F, reading speeds / F (default 1)", (*pflag.FlagSet).Float64Var)
	optionalVar(fs, &o.BudgetGPUMinutes, "budget", "the most GPU-minutes the run may hold its targets (minutes held x GPUs; 0: no limit): when spent, the run stops with the answers so far and their confidence", (*pflag.FlagSet).Float64Var)
	optionalVar(fs, &o.ReadyTimeout, "ready-timeout", "keep retrying a target that is unreachable or answers 5xx/429 for this long before giving up (default: the plan's readyTimeout; 0: check once)", (*pflag.FlagSet).DurationVar)
	optionalVar(fs, &o.API, "api", "API: completions or chat (default completions)", (*pflag.FlagSet).StringVar)
	optionalVar(fs, &o.APIKeyFile, "api-key-file", "file holding the targets' API key (sent as a bearer token, never logged)", (*pflag.FlagSet).StringVar)
	optionalVar(fs, &o.CAFile, "ca-file", "PEM CA bundle trusted, besides the system roots, for https targets (a model behind OpenShift AI's auth proxy: the service CA; default: the plan's caFile)", (*pflag.FlagSet).StringVar)
	fs.BoolVar(&f.noBisect, "no-bisect", false, "stop after the grid: no bisection of the breaking point")
	optionalVar(fs, &o.AllowBusy, "allow-busy", "sweep a model that others are using (spec.allowBusy): without it the sweep waits, within --ready-timeout, for the model to be idle and stops when it is not; with it the steps that shared the server are kept, marked", (*pflag.FlagSet).BoolVar)
	fs.Lookup("allow-busy").NoOptDefVal = "true"
	optionalVar(fs, &outs.RemoteWriteURL, "remote-write", "Prometheus remote-write URL (e.g. http://prometheus:9090/api/v1/write) receiving each finished step's results (default: the plan's remoteWriteURL); failures keep the results on disk for --resume or the next run in --out", (*pflag.FlagSet).StringVar)
	optionalVar(fs, &outs.PrometheusURL, "prometheus-url", "Prometheus (or Thanos Querier) base URL queried for the GPUs' DCGM power per step (default: the plan's prometheusURL)", (*pflag.FlagSet).StringVar)
	optionalVar(fs, &outs.PrometheusTokenFile, "prometheus-token-file", "file holding a bearer token for --prometheus-url (default: the plan's prometheusTokenFile)", (*pflag.FlagSet).StringVar)
	optionalVar(fs, &outs.PrometheusCAFile, "prometheus-ca-file", "PEM CA bundle trusted for an https --prometheus-url (default: the plan's prometheusCAFile)", (*pflag.FlagSet).StringVar)
	fs.StringVar(&f.podRegex, "power-pod-regex", power.DefaultPodRegex, "regex of the DCGM pod (or exported_pod) label of a target's GPUs; {model} is the served model name")
	optionalVar(fs, &outs.KeepRuns, "keep-runs", "after a run completes, keep this many run directories in its results directory, removing the oldest (default: the plan's keepRuns, 30); never the run just completed or resumed, nothing after a failed or interrupted run", (*pflag.FlagSet).IntVar)
	fs.IntVar(&f.planUsers, "plan-users", report.DefaultPlanUsers, "concurrent users the report's capacity plan is sized for (the mean, when a peak is given)")
	f.peak = addPeakFlags(fs)
	fs.StringVar(&f.resume, "resume", "", "continue an interrupted run: --resume RUN_DIR, or --resume --out DIR for the latest run in DIR")
	fs.Lookup("resume").NoOptDefVal = resumeLatest
	addShardFlags(fs, &f.shard)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: sweep-runner run [--plan F] [--target NAME=URL,...] --out DIR [flags]\n       sweep-runner run --resume RUN_DIR\n\nFlags:\n%s", fs.FlagUsages())
	}
	return fs
}

func cmdRun(args []string, stdout, stderr io.Writer) error {
	var f runFlags
	fs := runFlagSet(&f, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return usagef("%v (see sweep-runner run --help)", err)
	}
	if err := f.shard.check(); err != nil {
		return err
	}
	if f.shard.worker() {
		return runShardWorker(&f, stderr)
	}
	if d := f.shard.rejoin(f.out); d != "" && !fs.Changed("resume") {
		fs.Set("resume", d)
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
			if !results.IsRunDir(dir) {
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
			d, err := results.Latest(f.out)
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
		plan, err := buildPlan(&f)
		if err != nil {
			return err
		}
		// A retried pod (the Job's podFailurePolicy), or the same command
		// run again after a kill, goes on with the unfinished run of the
		// same plan in --out rather than starting over.
		dir := results.Unfinished(f.out, func(p *v1alpha1.SweepPlan) bool { return samePlan(p, plan, &f, fs.Changed("shards")) })
		if dir == "" {
			r = sweep.New(plan)
		} else if r, err = sweep.Open(dir, version); err != nil {
			return fmt.Errorf("resuming the unfinished run %s of this plan: %w", dir, err)
		} else {
			fmt.Fprintf(stderr, "resuming the unfinished run %s of the same plan: %d steps already done (a completed run is never resumed)\n", r.RunDir, len(r.Steps()))
		}
	}
	// The plan's shards is what runs; --shards overrides it (and a new
	// run's plan.yaml records what ran).
	if fs.Changed("shards") {
		if r.RunDir == "" {
			r.Plan.Spec.Shards = v1alpha1.Ptr(f.shard.n)
		}
	} else {
		f.shard.n = r.Plan.Spec.ShardCount()
		if err := f.shard.check(); err != nil {
			return err
		}
	}
	defer r.Close()
	r.FreeSpace = diskSpace
	if err := applyOutputs(&f, r, stderr); err != nil {
		return err
	}
	key, err := readAPIKey(r.Plan.Spec.APIKeyFile)
	if err != nil {
		return err
	}
	r.APIKey, r.Progress, r.Log, r.Warn = key, stderr, logw, stderr
	r.Live, r.LiveTTY = stderr, interactive
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
	shardsDone, err := setupShards(&f, r, stderr)
	if err != nil {
		r.Finish(results.StatusFailed, err.Error())
		return err
	}
	runErr := r.Run(ctx)
	shardsDone(runErr == nil)
	status, msg := results.StatusComplete, ""
	switch {
	case errors.Is(runErr, sweep.ErrInterrupted):
		status, msg = results.StatusInterrupted, "interrupted by a signal"
	case errors.Is(runErr, sweep.ErrBudgetSpent):
		// Finished, not failed: the answers so far stand with their
		// confidence; the report says which pairs the budget cut short.
		r.State.BudgetSpent = true
		msg = fmt.Sprintf("GPU budget of %g GPU-minutes spent: %v", r.Plan.Spec.BudgetGPUMinutes, runErr)
		fmt.Fprintf(stderr, "%s\n", msg)
		runErr = nil
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

// samePlan says whether a run's plan as run is the plan this command would
// run: the new plan with the same --shards and output flags laid over it,
// as Create would have written it.
func samePlan(asRun, plan *v1alpha1.SweepPlan, f *runFlags, shards bool) bool {
	data, err := json.Marshal(plan)
	p := &v1alpha1.SweepPlan{}
	if err != nil || json.Unmarshal(data, p) != nil {
		return false
	}
	if shards {
		p.Spec.Shards = v1alpha1.Ptr(f.shard.n)
	}
	p.ApplyOutputs(f.outputs)
	// A dataset scenario's lengths are the means its run measured from the
	// file (sweep.prepareDataset), not in the plan as given.
	for i := range p.Spec.Scenarios {
		sc := &p.Spec.Scenarios[i]
		if sc.Dataset != nil && i < len(asRun.Spec.Scenarios) && asRun.Spec.Scenarios[i].Name == sc.Name {
			if sc.InputTokens == 0 {
				sc.InputTokens = asRun.Spec.Scenarios[i].InputTokens
			}
			if sc.OutputTokens == 0 {
				sc.OutputTokens = asRun.Spec.Scenarios[i].OutputTokens
			}
		}
	}
	a, err1 := json.Marshal(asRun)
	b, err2 := json.Marshal(p)
	return err1 == nil && err2 == nil && bytes.Equal(a, b)
}

// diskSpace reads the free space of the results filesystem (tests replace it).
var diskSpace = sweep.DiskSpace

// applyOutputs lays the remote-write, power and retention flags over the
// plan (also when resuming) and builds their clients.
func applyOutputs(f *runFlags, r *sweep.Runner, stderr io.Writer) error {
	if k := f.outputs.KeepRuns; k != nil && (*k < 1 || *k > 10000) {
		return usagef("--keep-runs must be within 1..10000 (run directories kept), got %d", *k)
	}
	r.Plan.ApplyOutputs(f.outputs)
	s := &r.Plan.Spec
	if f.planUsers < 1 {
		return usagef("--plan-users must be at least 1")
	}
	r.ReportOptions.PlanUsers = f.planUsers
	if f.peak.given() {
		mean := 0 // the mean is --plan-users only when given
		if f.peak.fs.Changed("plan-users") {
			mean = f.planUsers
		} else if f.peak.peakUsers > 0 {
			// the default mean never exceeds the peak given
			r.ReportOptions.PlanUsers = min(f.planUsers, f.peak.peakUsers)
		}
		d, err := f.peak.demand(mean)
		if err != nil {
			return err
		}
		r.ReportOptions.Peak = &d
	}
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

// buildPlan reads --plan (or starts from an empty plan), lays the flags
// over it, then defaults and validates it: every problem is a usage error
// with its field path.
func buildPlan(f *runFlags) (*v1alpha1.SweepPlan, error) {
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
	o := f.settings
	for _, t := range f.targets {
		tg, err := parseTarget(t)
		if err != nil {
			return nil, err
		}
		o.Targets = append(o.Targets, tg)
	}
	if f.scenarios != "" {
		o.Scenarios = strings.Split(f.scenarios, ",")
	}
	if f.noBisect {
		o.Bisect = v1alpha1.Ptr(false)
	}
	if err := plan.Apply(o); err != nil {
		var unknown *v1alpha1.UnknownScenarioError
		switch {
		case errors.As(err, &unknown):
			return nil, usagef("--scenario: %v", err)
		case errors.Is(err, v1alpha1.ErrConcurrencyOverrides):
			return nil, usagef("--concurrency and --max-concurrency/--start-concurrency exclude each other")
		}
		return nil, usagef("%v", err)
	}
	if err := plan.Default(); err != nil {
		return nil, usagef("invalid plan: %v", err)
	}
	if err := plan.Validate(); err != nil {
		msg := err.Error()
		if len(plan.Spec.Targets) == 0 {
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
	return t, targetKeys(&t, v, parts[1:], true)
}

// targetKeys reads a --target's key=value options into t: gpus, model,
// precision, cost, and metrics where the target has a URL (not an import).
func targetKeys(t *v1alpha1.Target, v string, opts []string, metrics bool) error {
	known := "gpus, model, precision, cost"
	if metrics {
		known = "gpus, model, precision, metrics, cost"
	}
	for _, p := range opts {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			return usagef("--target %q: %q is not key=value", v, p)
		}
		switch {
		case k == "gpus":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 {
				return usagef("--target %q: gpus must be a whole number of at least 1", v)
			}
			t.GPUs = n
		case k == "model":
			t.Model = val
		case k == "precision":
			t.Precision = val
		case k == "metrics" && metrics:
			t.MetricsURL = val
		case k == "cost":
			c, err := strconv.ParseFloat(val, 64)
			if err != nil || c < 0 {
				return usagef("--target %q: cost must be a non-negative number (per GPU-hour)", v)
			}
			t.GPUHourCost = c
		default:
			return usagef("--target %q: unknown key %q (known: %s)", v, k, known)
		}
	}
	return nil
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
