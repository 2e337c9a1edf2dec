package sweep

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/analysis"
	"github.com/rhoai-demo/step07/sweep-runner/client"
	"github.com/rhoai-demo/step07/sweep-runner/load"
	"github.com/rhoai-demo/step07/sweep-runner/remotewrite"
	"github.com/rhoai-demo/step07/sweep-runner/report"
	"github.com/rhoai-demo/step07/sweep-runner/results"
	"github.com/rhoai-demo/step07/sweep-runner/scrape"
)

// ErrInterrupted is returned when the context ended the run early.
var ErrInterrupted = errors.New("sweep interrupted: finished steps are kept; continue with --resume")

// TargetError is a pre-flight failure of a target (bad input, exit 2).
type TargetError struct {
	Target string
	Err    error
}

func (e *TargetError) Error() string { return fmt.Sprintf("target %s: %v", e.Target, e.Err) }
func (e *TargetError) Unwrap() error { return e.Err }

// Runner runs one run directory.
type Runner struct {
	Plan   *v1alpha1.SweepPlan
	RunDir string
	State  results.Run
	// APIKey for the targets; never logged or written.
	APIKey string
	// Progress receives one line per step; Log informational lines (nil:
	// quiet).
	Progress io.Writer
	Log      io.Writer
	// ScrapeInterval of /metrics (default: 1 s, or a tenth of a step
	// shorter than 10 s, at least 100 ms).
	ScrapeInterval time.Duration
	// Power, when set, fills each step's power_watts (issue 6).
	Power PowerSource
	// RemoteWrite, when set, receives each finished step's series and, per
	// target and scenario, the run's answer (api/sweepmetrics names).
	RemoteWrite *remotewrite.Client
	// Warn receives warnings that are printed once (default Log).
	Warn io.Writer
	// ReportOptions tune the reports (capacity plan users, prices).
	ReportOptions report.Options

	warned  map[string]bool
	steps   []results.Step
	counter atomic.Uint64
	clients map[string]*client.Client
}

// New returns a runner for plan, without a run directory yet (Check the
// targets, then Create it).
func New(plan *v1alpha1.SweepPlan) *Runner { return &Runner{Plan: plan} }

// Create makes a new run directory under out holding the plan as run.
func (r *Runner) Create(out, version string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("results directory: %w", err)
	}
	now := time.Now().UTC()
	id := now.Format("20060102T150405Z")
	dir := filepath.Join(out, id)
	for i := 2; ; i++ {
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			break
		}
		if !os.IsExist(err) {
			return fmt.Errorf("results directory: %w", err)
		}
		dir = filepath.Join(out, fmt.Sprintf("%s-%d", id, i))
	}
	y, err := yaml.Marshal(r.Plan)
	if err != nil {
		return err
	}
	if err := results.WriteFileAtomic(filepath.Join(dir, results.PlanFile), y); err != nil {
		return err
	}
	r.RunDir = dir
	r.State = results.Run{RunID: filepath.Base(dir), Status: results.StatusRunning, Version: version, StartedAt: now, UpdatedAt: now}
	return r.saveState()
}

// Open reopens a run directory to resume it: the plan as run, run.json and
// the finished steps (a last line cut short by a kill is dropped).
func Open(dir, version string) (*Runner, error) {
	plan, st, _, err := report.Load(dir)
	if err != nil {
		return nil, err
	}
	steps, err := results.RepairSteps(filepath.Join(dir, results.StepsFile))
	if err != nil {
		return nil, err
	}
	// A kill -9 during an atomic write leaves its temporary file behind.
	tmps, _ := filepath.Glob(filepath.Join(dir, ".*.tmp*"))
	for _, f := range tmps {
		os.Remove(f)
	}
	if st.StartedAt.IsZero() {
		st.StartedAt = time.Now().UTC()
	}
	st.Status, st.Message, st.EndedAt = results.StatusRunning, "", nil
	st.Resumes++
	if version != "" {
		st.Version = version
	}
	r := &Runner{Plan: plan, RunDir: dir, State: st, steps: steps}
	// Keep prompts unique across the resumed parts of a run.
	var sent uint64
	for _, s := range steps {
		sent += uint64(s.Requests.Started + s.WarmupRequests.Started)
	}
	r.counter.Store(sent + uint64(st.Resumes)<<20)
	return r, r.saveState()
}

// Latest returns the most recent run directory under out.
func Latest(out string) (string, error) {
	ents, err := os.ReadDir(out)
	if err != nil {
		return "", err
	}
	for i := len(ents) - 1; i >= 0; i-- {
		d := filepath.Join(out, ents[i].Name())
		if _, err := os.Stat(filepath.Join(d, results.PlanFile)); ents[i].IsDir() && err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("no run directory under %s", out)
}

// Steps returns the finished steps.
func (r *Runner) Steps() []results.Step { return r.steps }

func (r *Runner) saveState() error {
	r.State.UpdatedAt = time.Now().UTC()
	return results.WriteJSON(filepath.Join(r.RunDir, results.RunFile), &r.State)
}

func (r *Runner) logf(format string, args ...any) {
	if r.Log != nil {
		fmt.Fprintf(r.Log, format+"\n", args...)
	}
}

func (r *Runner) client(t v1alpha1.Target) *client.Client {
	if r.clients == nil {
		r.clients = map[string]*client.Client{}
	}
	c, ok := r.clients[t.Name]
	if !ok {
		maxC := r.Plan.Spec.MaxConcurrency
		for _, c := range r.Plan.Spec.Concurrency {
			maxC = max(maxC, c)
		}
		c = client.New(t.URL, client.Options{APIKey: r.APIKey, MaxConns: maxC})
		r.clients[t.Name] = c
	}
	return c
}

// Check verifies that every target is reachable and serves its model as an
// OpenAI-compatible server, before any step runs.
//
// A target that cannot be reached or answers 5xx/429 is retried, with a
// backoff of 1 s doubling to 15 s, for up to the plan's readyTimeout: a
// nightly run must not fail because a predictor is restarting or scaling
// from zero. Any other answer (wrong model, not an OpenAI server) fails at once.
func (r *Runner) Check(ctx context.Context) error {
	for _, t := range r.Plan.Spec.Targets {
		deadline := time.Now().Add(r.Plan.Spec.ReadyTimeout.Duration)
		wait := time.Second
		for {
			err := r.client(t).CheckModel(ctx, t.Model)
			if err == nil {
				break
			}
			var ce *client.CheckError
			if !errors.As(err, &ce) || !ce.Transient || !time.Now().Add(wait).Before(deadline) {
				return &TargetError{Target: t.Name, Err: err}
			}
			r.logf("target %s not ready (%v); retrying in %s, until %s", t.Name, err, wait, deadline.UTC().Format(time.RFC3339))
			select {
			case <-ctx.Done():
				return &TargetError{Target: t.Name, Err: err}
			case <-time.After(wait):
			}
			wait = min(2*wait, 15*time.Second)
		}
		r.logf("target %s: %s serves %s", t.Name, t.URL, t.Model)
	}
	return nil
}

// Finish marks the run with status and rewrites the reports.
func (r *Runner) Finish(status, msg string) (*results.Summary, error) {
	r.State.Status, r.State.Message = status, msg
	now := time.Now().UTC()
	if status != results.StatusRunning {
		r.State.EndedAt = &now
	}
	if err := r.saveState(); err != nil {
		return nil, err
	}
	return r.writeReports(true)
}

func (r *Runner) summary() (*results.Summary, error) {
	sum := analysis.Summarize(r.Plan, r.State, r.steps)
	return &sum, nil
}

// writeReports rewrites the reports; the PNG charts only when final (the
// HTML report with its inline charts is refreshed after every step).
func (r *Runner) writeReports(final bool) (*results.Summary, error) {
	sum, _ := r.summary()
	opts := r.ReportOptions
	opts.NoPNG = !final
	return sum, report.WriteAllOpts(r.RunDir, sum, opts)
}

// Run sweeps every target and scenario not yet finished. It returns
// ErrInterrupted when ctx ended it.
func (r *Runner) Run(ctx context.Context) error {
	spec := r.Plan.Spec
	grid := spec.Steps()
	explicit := len(spec.Concurrency) > 0
	r.FlushPending(ctx)
	for _, t := range spec.Targets {
		for _, sc := range spec.Scenarios {
			var prompt *client.Prompt
			for {
				if ctx.Err() != nil {
					return ErrInterrupted
				}
				var done []results.Step
				for _, s := range r.steps {
					if s.Target == t.Name && s.Scenario == sc.Name {
						done = append(done, s)
					}
				}
				c, phase, more := analysis.Next(grid, explicit, spec.BisectEnabled(), analysis.ProbesOf(done))
				if !more {
					r.pairDone(ctx, t, sc)
					break
				}
				if prompt == nil {
					p, err := r.client(t).Calibrate(ctx, spec.API, t.Model, sc.InputTokens)
					if err != nil {
						if ctx.Err() != nil {
							return ErrInterrupted
						}
						return fmt.Errorf("target %s, scenario %s: %w", t.Name, sc.Name, err)
					}
					prompt = p
					r.logf("target %s, scenario %s: prompts of %d tokens (%d filler words, %s, exact %v)", t.Name, sc.Name, p.Tokens, p.Words, p.Source, p.Exact)
				}
				step, err := r.runStep(ctx, t, sc, prompt, c, phase)
				if err != nil {
					return err
				}
				if step == nil {
					return ErrInterrupted
				}
				r.measurePower(ctx, t, step)
				if err := results.AppendStep(filepath.Join(r.RunDir, results.StepsFile), step); err != nil {
					// Stop at once: a step that cannot be saved is not
					// silently dropped while the sweep goes on.
					return fmt.Errorf("step %s/%s c=%d was measured but could not be saved, the run stops: %w", t.Name, sc.Name, c, err)
				}
				r.steps = append(r.steps, *step)
				if r.Progress != nil {
					fmt.Fprintln(r.Progress, ProgressLine(step))
				}
				if _, err := r.writeReports(false); err != nil {
					return fmt.Errorf("writing reports: %w", err)
				}
				r.deliver(ctx, StepSamples(r.State.RunID, step))
			}
		}
	}
	return nil
}

// runStep runs one step; it returns nil, nil when ctx interrupted it.
func (r *Runner) runStep(ctx context.Context, t v1alpha1.Target, sc v1alpha1.Scenario, prompt *client.Prompt, conc int, phase string) (*results.Step, error) {
	spec := r.Plan.Spec
	// Requests in flight at the window's end get one more step duration
	// (at most the request timeout) before they are cancelled (incomplete).
	grace := min(spec.RequestTimeout.Duration, spec.StepDuration.Duration)
	cfg := load.Config{
		Client: r.client(t), Prompt: prompt, Concurrency: conc,
		Warmup: spec.Warmup.Duration, Duration: spec.StepDuration.Duration, Grace: grace,
		RequestTimeout: spec.RequestTimeout.Duration,
		InputTokens:    sc.InputTokens, OutputTokens: sc.OutputTokens, Spread: sc.Spread,
		Counter: &r.counter, SLA: spec.SLA,
		StallAfter: spec.SLA.TTFT.Degraded.Duration,
	}
	started := time.Now()
	var samples []scrape.Sample
	scrapeDone := make(chan struct{})
	sctx, stopScrape := context.WithCancel(ctx)
	if t.MetricsURL != "" {
		sc := scrape.New(t.MetricsURL, t.Model, r.APIKey)
		// Once a second, more often for steps shorter than 10 s so that a
		// window always holds about ten samples.
		sc.Interval = min(time.Second, max(100*time.Millisecond, spec.StepDuration.Duration/10))
		if r.ScrapeInterval > 0 {
			sc.Interval = r.ScrapeInterval
		}
		go func() { defer close(scrapeDone); samples = sc.Run(sctx) }()
	} else {
		close(scrapeDone)
	}
	res, err := load.Run(ctx, cfg)
	stopScrape()
	<-scrapeDone
	if err != nil {
		return nil, err
	}
	if res.Interrupted {
		return nil, nil
	}
	s := BuildStep(res, scrape.Stats(samples, res.WindowStart, res.WindowEnd), t, sc, spec, conc, phase)
	s.RunID = r.State.RunID
	s.Seq = len(r.steps) + 1
	s.StartedAt = started.UTC()
	s.EndedAt = time.Now().UTC()
	s.Window.GraceSeconds = grace.Seconds()
	return s, nil
}

// BuildStep turns a step's measurements into its record and verdict.
func BuildStep(res *load.Result, srv *results.Server, t v1alpha1.Target, sc v1alpha1.Scenario, spec v1alpha1.PlanSpec, conc int, phase string) *results.Step {
	win := res.WindowEnd.Sub(res.WindowStart).Seconds()
	gpus := max(t.GPUs, 1)
	s := &results.Step{
		SchemaVersion: results.SchemaVersion,
		Target:        t.Name, Model: t.Model, GPUs: gpus, Precision: t.Precision, GPUHourCost: t.GPUHourCost,
		Scenario: sc.Name, InputTokens: sc.InputTokens, OutputTokens: sc.OutputTokens, API: spec.API,
		Concurrency: conc, Phase: phase,
		Window: results.Window{
			Start: res.WindowStart.UTC(), End: res.WindowEnd.UTC(),
			WarmupSeconds: spec.Warmup.Seconds(), DurationSeconds: win,
		},
		Requests: res.Requests, WarmupRequests: res.Warmup, Errors: res.Errors,
		ConcurrencyAchieved: res.BusySeconds / win,
		Latency: results.Latency{
			TTFT: analysis.Dist(res.TTFT), TPOT: analysis.Dist(res.TPOT), ITL: res.ITL.Dist(), E2E: analysis.Dist(res.E2E),
		},
		Tokens: results.Tokens{
			Prompt: analysis.Dist(res.PromptTokens), Output: analysis.Dist(res.OutputTokens),
			CountMismatches: res.TokenCountMismatches, OutputLengthMismatches: res.OutputLengthMismatches, UsageMissing: res.UsageMissing,
		},
		Server: srv,
	}
	if fin := res.Requests.Successful + res.Requests.Errored; fin > 0 {
		s.SuccessRate = float64(res.Requests.Successful) / float64(fin)
	}
	out := float64(res.WindowOutputTokens) / win
	s.Throughput = results.Throughput{
		RequestsPerSecond:           float64(res.Requests.Successful) / win,
		OutputTokensPerSecond:       out,
		TotalTokensPerSecond:        out + float64(res.WindowPromptTokens)/win,
		OutputTokensPerSecondPerGPU: out / float64(gpus),
		GoodputRequestsPerSecond:    float64(res.Good) / win,
	}
	if len(res.ServerTTFT) > 0 {
		s.Fidelity = &results.Fidelity{ServerTTFT: analysis.Dist(res.ServerTTFT), TTFTSkew: analysis.Dist(res.TTFTSkew), ITLSkew: res.ITLSkew.Dist()}
	}
	analysis.Evaluate(s, spec.SLA)
	return s
}

// ProgressLine is the step's line on stderr.
func ProgressLine(s *results.Step) string {
	q := "queue -"
	if s.Server != nil && s.Server.Samples > 0 {
		q = fmt.Sprintf("queue %.1f (%.0f%% of samples)", s.Server.Waiting.Mean, 100*s.Server.WaitingFraction)
	}
	verdict := "ok"
	if s.Requests.Started == 0 {
		verdict = "nothing measured: no request started inside the window (requests outlast warmup + window; lengthen --step-duration or shorten --warmup)"
	} else if s.Broken {
		verdict = "BROKEN (" + s.Rule + ")"
	} else if !s.AtSLA {
		verdict = "below SLA"
	}
	return fmt.Sprintf("%s/%s c=%d %s: %d requests (%d ok, %d errors, %d incomplete), TTFT p95 %.0f ms, %.0f tok/s, %s -> %s",
		s.Target, s.Scenario, s.Concurrency, s.Phase, s.Requests.Started, s.Requests.Successful, s.Requests.Errored, s.Requests.Incomplete,
		s.Latency.TTFT.Percentiles.P95*1000, s.Throughput.OutputTokensPerSecond, q, verdict)
}
