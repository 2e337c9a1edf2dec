package sweep

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/analysis"
	"github.com/rhoai-demo/step07/sweep-runner/client"
	"github.com/rhoai-demo/step07/sweep-runner/load"
	"github.com/rhoai-demo/step07/sweep-runner/remotewrite"
	"github.com/rhoai-demo/step07/sweep-runner/report"
	"github.com/rhoai-demo/step07/sweep-runner/results"
	"github.com/rhoai-demo/step07/sweep-runner/scrape"
	"github.com/rhoai-demo/step07/sweep-runner/selfcheck"
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
	// RootCAs the targets' TLS is trusted with (nil: the system roots).
	RootCAs *x509.CertPool
	// Progress receives one line per step; Log informational lines (nil:
	// quiet).
	Progress io.Writer
	Log      io.Writer
	// Live receives a running step's progress (nil: none): with LiveTTY a
	// terminal line rewritten in place, else a plain line every LiveEvery
	// (default DefaultLiveEvery).
	Live      io.Writer
	LiveTTY   bool
	LiveEvery time.Duration
	// ScrapeInterval of /metrics (default: 1 s, or a sixtieth of a step
	// shorter than a minute, at least 50 ms).
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
	// FreeSpace reports the bytes available and the size of the filesystem
	// holding a directory (default DiskSpace): a run stops, before its run
	// directory is made and before each step, with less than MinFreeBytes.
	FreeSpace func(dir string) (free, total uint64, err error)
	// Resolve, when set, resolves a target's host in place of the system
	// resolver (tests: a name for several replicas on 127.0.0.x).
	Resolve func(ctx context.Context, host string) ([]string, error)
	// Load, when set, runs a closed-loop step's load in place of load.Run
	// (a sharded sweep: the shard package's Coordinator spreads it over the
	// shards and merges their results into one).
	Load func(ctx context.Context, t v1alpha1.Target, cfg load.Config) (*load.Result, error)

	warned  map[string]bool
	prompts map[[2]string]*client.Prompt
	// records: a dataset scenario's recorded requests that fit, per target
	// and scenario (dataset.go).
	records map[[2]string][]load.Record
	steps   []results.Step
	counter atomic.Uint64
	clients map[string]*client.Client
	// pins: the replica address each target's load and /metrics go to
	// ("" or absent: the name); seen: the addresses its name resolved to
	// before its last step (replicas.go).
	pins map[string]string
	seen map[string][]string
	// sess keeps a pair's users running between steps; sessFlush: its
	// last step's queue must empty before fewer users are measured
	// (flushAfter); lastEnd: when the pair's last step ended.
	sess      *load.Session
	sessFlush bool
	lastEnd   time.Time
	// dir is the run directory (nil until Create or Open): every file of
	// the run is written through it; Close releases its lock.
	dir *results.Dir
}

// New returns a runner for plan, without a run directory yet (Check the
// targets, then Create it).
func New(plan *v1alpha1.SweepPlan) *Runner { return &Runner{Plan: plan} }

// Create makes a new run directory under out holding the plan as run:
// out is made first, then its free space checked, and only then the run
// directory, so a full disk leaves nothing behind.
func (r *Runner) Create(out, version string) error {
	if err := results.MakeOut(out); err != nil {
		return err
	}
	if err := r.checkDisk(out); err != nil {
		return err
	}
	now := time.Now().UTC()
	d, err := results.Create(out, r.Plan, now)
	if err != nil {
		return err
	}
	r.dir, r.RunDir = d, d.Path()
	r.State = results.Run{RunID: d.ID(), Status: results.StatusRunning, Version: version, StartedAt: now, UpdatedAt: now}
	return r.saveState()
}

// Open reopens a run directory to resume it: the plan as run, run.json and
// the finished steps (a last line cut short by a kill is dropped). The
// directory is locked (results.OpenDir) until Close.
func Open(dir, version string) (*Runner, error) {
	plan, st, _, err := results.Load(dir)
	if err != nil {
		return nil, err
	}
	d, err := results.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	steps, err := d.RepairSteps()
	if err != nil {
		d.Close()
		return nil, err
	}
	if st.StartedAt.IsZero() {
		st.StartedAt = time.Now().UTC()
	}
	st.Status, st.Message, st.EndedAt = results.StatusRunning, "", nil
	st.Resumes++
	if version != "" {
		st.Version = version
	}
	// What the steps held, from the steps themselves (a kill between a
	// step's line and run.json leaves run.json a step behind).
	st.HeldSeconds, st.GPUMinutes = results.HeldOf(steps)
	r := &Runner{Plan: plan, RunDir: dir, State: st, steps: steps, dir: d}
	// Keep prompts unique across the resumed parts of a run.
	var sent uint64
	for _, s := range steps {
		sent += uint64(s.Requests.Started + s.WarmupRequests.Started)
	}
	r.counter.Store(sent + uint64(st.Resumes)<<20)
	return r, r.saveState()
}

// Close releases the run directory (its lock); the runner is not used after.
func (r *Runner) Close() {
	if r.dir != nil {
		r.dir.Close()
	}
}

// Dir is the run directory (nil before Create or Open): what else a run
// keeps in it (a sharded coordinator's marker) is written through it.
func (r *Runner) Dir() *results.Dir { return r.dir }

// Steps returns the finished steps.
func (r *Runner) Steps() []results.Step { return r.steps }

func (r *Runner) saveState() error {
	r.State.UpdatedAt = time.Now().UTC()
	return r.dir.SaveRun(&r.State)
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
		maxC := 0
		if m := r.Plan.Spec.MaxConcurrency; m != nil {
			maxC = *m
		}
		for _, c := range r.Plan.Spec.Concurrency {
			maxC = max(maxC, c)
		}
		for _, sc := range r.Plan.Spec.Scenarios {
			if a := sc.Arrival; a != nil {
				maxC = max(maxC, min(a.MaxInFlight, 1024)) // keep-alive for an open loop's requests in flight
			}
		}
		c = client.New(t.URL, client.Options{APIKey: r.APIKey, MaxConns: maxC, RootCAs: r.RootCAs, Addr: r.pins[t.Name]})
		r.clients[t.Name] = c
	}
	return c
}

// Check verifies that every target is reachable and serves its model as an
// OpenAI-compatible server, and is idle (no one else's requests: waitIdle),
// before any step runs.
//
// A target that cannot be reached or answers 5xx/429 is retried, with a
// backoff of 1 s doubling to 15 s, for up to the plan's readyTimeout: a
// nightly run must not fail because a predictor is restarting or scaling
// from zero. Any other answer (wrong model, not an OpenAI server) fails at once.
func (r *Runner) Check(ctx context.Context) error {
	for _, t := range r.Plan.Spec.Targets {
		// The replica the steps will measure is the one checked.
		r.replicasOf(ctx, t)
		idle := r.watchIdle(ctx, t)
		err := r.checkTarget(ctx, t)
		if idle != nil {
			if err != nil {
				idle.close()
				return err
			}
			err = idle.wait(ctx)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *Runner) checkTarget(ctx context.Context, t v1alpha1.Target) error {
	if err := r.whileNotReady(ctx, t, func() error { return r.client(t).CheckModel(ctx, t.Model) }); err != nil {
		return &TargetError{Target: t.Name, Err: err}
	}
	r.logf("target %s: %s serves %s", t.Name, t.URL, t.Model)
	for _, sc := range r.Plan.Spec.Scenarios {
		err := r.probeScenario(ctx, t, sc)
		if err == nil {
			continue
		}
		err = fmt.Errorf("scenario %s (%d tokens in, %d out): %w", sc.Name, sc.InputTokens, sc.OutputTokens, err)
		// Refused lengths are bad input (exit 2); a server failing
		// is a failure of the run.
		var ce *client.CheckError
		var de *DatasetError
		if errors.As(err, &ce) && !ce.Transient || errors.As(err, &de) {
			return &TargetError{Target: t.Name, Err: err}
		}
		return fmt.Errorf("target %s: %w", t.Name, err)
	}
	return nil
}

// whileNotReady calls f until it succeeds or fails with an error other
// than a transient *client.CheckError (unreachable, 5xx, 429), backing off
// from 1 s to 15 s, for at most the plan's readyTimeout.
func (r *Runner) whileNotReady(ctx context.Context, t v1alpha1.Target, f func() error) error {
	deadline := time.Now().Add(r.Plan.Spec.ReadyTimeout.Duration)
	for wait := time.Second; ; wait = min(2*wait, 15*time.Second) {
		err := f()
		var ce *client.CheckError
		if err == nil || !errors.As(err, &ce) || !ce.Transient || !time.Now().Add(wait).Before(deadline) {
			return err
		}
		r.logf("target %s not ready (%v); retrying in %s, until %s", t.Name, err, wait, deadline.UTC().Format(time.RFC3339))
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// probeScenario calibrates the scenario's prompts and sends one request of
// its longest lengths (with the spread), so a server that refuses them
// (HTTP 400: longer than its context) stops the run before any step, with
// the server's own message, instead of a step of refusals.
func (r *Runner) probeScenario(ctx context.Context, t v1alpha1.Target, sc v1alpha1.Scenario) error {
	p, err := r.prompt(ctx, t, sc)
	if err != nil {
		return err
	}
	if sc.Dataset != nil {
		return nil // every record was counted against the context (dataset.go)
	}
	in, out := sc.MaxLengths()
	return r.whileNotReady(ctx, t, func() error {
		return r.client(t).ProbeLengths(ctx, p, p.WordsFor(in, sc.InputTokens), out)
	})
}

// prompt returns the calibrated prompt of a target and scenario.
func (r *Runner) prompt(ctx context.Context, t v1alpha1.Target, sc v1alpha1.Scenario) (*client.Prompt, error) {
	k := [2]string{t.Name, sc.Name}
	if p := r.prompts[k]; p != nil {
		return p, nil
	}
	if sc.Dataset != nil {
		return r.prepareDataset(ctx, t, sc)
	}
	p, err := r.client(t).CalibrateShared(ctx, r.Plan.Spec.API, t.Model, sc.InputTokens, sc.SharedPrefixTokens)
	if err != nil {
		return nil, err
	}
	r.preparePrompt(ctx, t, sc, p)
	r.logf("target %s, scenario %s: prompts of %d tokens (%d filler words, %s, exact %v)", t.Name, sc.Name, p.Tokens, p.Words, p.Source, p.Exact)
	if r.prompts == nil {
		r.prompts = map[[2]string]*client.Prompt{}
	}
	r.prompts[k] = p
	return p, nil
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
	return sum, report.WriteAllOpts(r.dir, sum, opts)
}

// ErrBudgetSpent is returned when the plan's GPU-minute budget ran out:
// the steps measured so far stand, with their confidence.
var ErrBudgetSpent = errors.New("the run's GPU-minute budget is spent: the answers so far are reported with their confidence")

// Run sweeps every target and scenario not yet finished. It returns
// ErrInterrupted when ctx ended it, ErrBudgetSpent when the budget ran out.
func (r *Runner) Run(ctx context.Context) error {
	spec := r.Plan.Spec
	r.FlushPending(ctx)
	for _, t := range spec.Targets {
		for _, sc := range spec.Scenarios {
			if !sc.ClosedLoop() {
				// Open loop: rates instead of users (rate.go).
				if err := r.sweepRates(ctx, t, sc); err != nil {
					return err
				}
				continue
			}
			if err := r.sweepUsers(ctx, t, sc); err != nil {
				return err
			}
		}
	}
	return nil
}

// search is the question Next answers for a pair's steps.
func (r *Runner) search(steps []results.Step) (analysis.Search, *results.Prediction) {
	spec := r.Plan.Spec
	aim, pred := analysis.AimOf(steps)
	return analysis.Search{Grid: spec.Steps(), Explicit: len(spec.Concurrency) > 0, Bisect: spec.BisectEnabled(), Aim: aim, SLA: spec.EffectiveSLA()}, pred
}

// sweepUsers sweeps a closed-loop scenario on one target, as analysis.Next
// decides, keeping the users running from one step to the next (a
// load.Session) except at a clean boundary.
func (r *Runner) sweepUsers(ctx context.Context, t v1alpha1.Target, sc v1alpha1.Scenario) error {
	var prompt *client.Prompt
	defer r.endSession()
	for {
		if ctx.Err() != nil {
			return ErrInterrupted
		}
		steps := analysis.Evidence(r.stepsOf(t, sc))
		q, pred := r.search(steps)
		d, more := analysis.Next(q, analysis.ProbesOf(steps))
		if !more {
			r.endSession()
			r.pairDone(ctx, t, sc)
			return nil
		}
		if r.budgetLeft() <= 0 {
			return ErrBudgetSpent
		}
		run := func(p *client.Prompt) (*results.Step, error) { return r.runStep(ctx, t, sc, p, d, pred) }
		if err := r.measure(ctx, t, sc, &prompt, fmt.Sprintf("c=%d", d.Concurrency), fmt.Sprintf("concurrency %d", d.Concurrency), run, ProgressLine); err != nil {
			return err
		}
	}
}

// budgetLeft is what is left of the plan's GPU-minute budget (+Inf: none).
func (r *Runner) budgetLeft() float64 {
	b := r.Plan.Spec.BudgetGPUMinutes
	if b <= 0 {
		return math.Inf(1)
	}
	return b - r.State.GPUMinutes
}

// deadline is when what is left of the budget runs out for a step that
// holds gpus GPUs from from (zero: no budget); the load engine cuts the
// warmup and the window there.
func (r *Runner) deadline(from time.Time, gpus float64) time.Time {
	left := r.budgetLeft()
	if math.IsInf(left, 1) {
		return time.Time{}
	}
	return from.Add(time.Duration(left / gpus * float64(time.Minute)))
}

// endSession aborts the users kept between steps, if any.
func (r *Runner) endSession() {
	if r.sess != nil {
		r.sess.Close()
		r.sess, r.sessFlush = nil, false
	}
}

// stepsOf is every recorded step of one target/scenario pair.
func (r *Runner) stepsOf(t v1alpha1.Target, sc v1alpha1.Scenario) []results.Step {
	var done []results.Step
	for _, s := range r.steps {
		if s.Target == t.Name && s.Scenario == sc.Name {
			done = append(done, s)
		}
	}
	return done
}

// measure runs and records one step of a pair, closed loop or open: it
// stops before a step whose records might not fit, calibrates the pair's
// prompt once, runs the step, then saves it, reports progress, rewrites
// the reports and remote-writes it. label names the step in errors
// ("c=4", "rate=2/s"), at in a refusal ("concurrency 4", "2 requests/s").
// It returns ErrInterrupted when ctx ended the step.
func (r *Runner) measure(ctx context.Context, t v1alpha1.Target, sc v1alpha1.Scenario, prompt **client.Prompt, label, at string,
	run func(*client.Prompt) (*results.Step, error), line func(*results.Step) string) error {
	if err := r.checkDisk(filepath.Dir(r.RunDir)); err != nil {
		return fmt.Errorf("before step %s/%s %s: %w", t.Name, sc.Name, label, err)
	}
	if *prompt == nil {
		p, err := r.prompt(ctx, t, sc)
		if err != nil {
			if ctx.Err() != nil {
				return ErrInterrupted
			}
			return fmt.Errorf("target %s, scenario %s: %w", t.Name, sc.Name, err)
		}
		*prompt = p
	}
	replicas, events := r.replicasOf(ctx, t)
	step, err := run(*prompt)
	var refused *load.RefusedError
	if errors.As(err, &refused) {
		// Bad input, not load: no step is recorded.
		return &TargetError{Target: t.Name, Err: fmt.Errorf("scenario %s at %s: %w", sc.Name, at, err)}
	}
	if err != nil {
		return err
	}
	if step == nil {
		return ErrInterrupted
	}
	if replicas != nil {
		if step.Replicas != nil {
			replicas.Hidden = step.Replicas.Hidden
		}
		step.Replicas = replicas
	}
	step.Events = append(events, step.Events...)
	for _, e := range events {
		step.Disturbed = append(step.Disturbed, e.Detail)
	}
	r.measurePower(ctx, t, step)
	if err := r.dir.AppendStep(step); err != nil {
		// Stop at once: a step that cannot be saved is not silently
		// dropped while the sweep goes on.
		return fmt.Errorf("step %s/%s %s was measured but could not be saved, the run stops: %w", t.Name, sc.Name, label, err)
	}
	r.steps = append(r.steps, *step)
	r.State.HeldSeconds, r.State.GPUMinutes = results.HeldOf(r.steps)
	if err := r.saveState(); err != nil {
		return fmt.Errorf("step %s/%s %s was saved but run.json could not be: %w", t.Name, sc.Name, label, err)
	}
	if r.Progress != nil {
		fmt.Fprintf(r.Progress, "%s [run so far: %.1f GPU-min]\n", line(step), r.State.GPUMinutes)
	}
	if _, err := r.writeReports(false); err != nil {
		return fmt.Errorf("writing reports: %w", err)
	}
	r.deliver(ctx, StepSamples(r.State.RunID, step))
	if restarted(step) {
		r.afterRestart(ctx, t)
	}
	return nil
}

// certifyLifetimes is the least age, in request lifetimes, of the users
// whose window may certify a verdict (load.Config.WarmLifetimes): the
// warmup the engine's ground truth gives each level. With a full KV cache
// the server drifts for several lifetimes after a fresh start (in the
// engine at INT4 C's 12 users the TTFT p95 of a two-lifetime window rises
// from 0.15 s to 3 s over eight lifetimes), so a verdict measured younger
// is the start's, not the steady state's. Users that ran on from earlier
// steps are usually that old already; exploring steps (an exploring step
// that turns certifying mid-window included) only need the settle rule.
const certifyLifetimes = 3

// runStep runs one step; it returns nil, nil when ctx interrupted it.
//
// The step keeps the previous step's users running (a load.Session: users
// added at random phases, or retired, and the window opened once the server
// has settled), except at a clean boundary: the pair's first step, fewer
// users after a broken step whose queue must empty (flushAfter), or a
// sharded step. There the server is drained first (bounded) and the users
// start afresh, desynchronised, with a warmup of at least one request
// lifetime. A certifying step waits until the users are certifyLifetimes
// old, whichever way they started. The
// window then follows d's role: an exploring step closes as soon as its
// verdict is plain (analysis.Plain; at stepDuration at the latest), a
// certifying one stays open until it holds stepDuration, minRequests and a
// verdict that is clear at 95 % (or the plan's budget is spent). An
// exploring step whose verdict makes it an end of the bracket, or one whose
// verdict is not plain by stepDuration (every step of the search but the
// baseline and the one just below an uncertain broken end), goes on as a
// certifying one (d.CertifyNow).
func (r *Runner) runStep(ctx context.Context, t v1alpha1.Target, sc v1alpha1.Scenario, prompt *client.Prompt, d analysis.Decision, pred *results.Prediction) (*results.Step, error) {
	spec := r.Plan.Spec
	sla := spec.EffectiveSLA()
	conc := d.Concurrency
	started := time.Now()
	heldFrom := started
	cont := r.sess != nil && r.Load == nil && (conc >= r.sess.Users() || !r.sessFlush)
	if cont {
		heldFrom = r.lastEnd
	} else {
		r.endSession()
	}
	ss := r.startScrape(ctx, t, !cont)
	if ss == nil {
		return nil, nil
	}
	ours := r.Load == nil // a sharded step's load is the shards', not this client's
	if ours && ss.scr != nil {
		ss.scr.Ours = r.client(t).Load
	}
	cfg := r.stepConfig(t, sc, prompt)
	cfg.Concurrency, cfg.Desync = conc, true
	applyPopulation(&cfg, sc, spec)
	stepDur := spec.StepDuration.Duration
	certifying, plain, futile := d.Role == results.RoleCertify, false, false
	if certifying || d.CertifyIfUnclear {
		// A step that may go on certifying (CertifyIfUnclear: every
		// step of the search but the baseline and the one just below an
		// uncertain broken end) waits for users as old as a certifying one
		// does, so a verdict certified mid-window never rests on a young
		// population. Users that ran on from earlier steps are usually
		// that old already; after a clean start it costs two lifetimes
		// more. Without it, INT4 C's 12 users, started afresh below 13
		// and certified mid-window after 1.3 s of warmup, came out
		// clearly unbroken (TTFT p95 5 ms [4, 7], scaled) where the
		// ground truth breaks.
		cfg.WarmLifetimes = certifyLifetimes
	}
	// An exploring window needs the samples its queue verdict rests on,
	// a TTFT per user (three at least: finished requests, or requests in
	// flight that got their first token) and two finished requests (a step
	// without one measured nothing), no more.
	exploreTTFTs, exploreFinished := max(3, conc), min(2, *spec.MinRequests)
	if !certifying {
		cfg.Duration = max(time.Millisecond, ss.interval*analysis.PlainMinSamples)
		cfg.MinRequests = 0
	}
	gpus := float64(max(t.GPUs, 1))
	cfg.Deadline = r.deadline(heldFrom, gpus)
	live := r.live(t, sc, fmt.Sprintf("c=%d", conc), stepDur)
	// The client's own CPU over the window (selfcheck): from the window's
	// start, as the load reports it.
	var probe *selfcheck.Probe
	cfg.Watch = func(p load.Progress) {
		if probe == nil && !p.WindowStart.IsZero() {
			probe = selfcheck.Start()
		}
		live.show(p, ss.rec.Samples(), sla, certifying, &spec)
	}
	// A restart or lost /metrics: the step is set aside and measured
	// again, so its window ends now.
	cfg.Abandon = ss.serverChanged
	cfg.Decide = func(p load.Progress) bool {
		fin := p.Successful + p.Errored
		if certifying {
			if p.Elapsed < stepDur || fin < *spec.MinRequests {
				return false
			}
			// The window's requests in flight finish in the tail: the
			// window may close once they would make the verdict clear
			// if they succeed; the step's verdict is judged on all of
			// them finished.
			q := p
			q.Successful += p.InFlight
			if fin >= *spec.MaxRequests || provisionalClear(q, ss.rec.Samples(), time.Now(), sla) {
				return true
			}
			// Half-way through its bound, a window whose verdict would
			// stay unclear at the bound stops (analysis.Futile).
			if maxWin := max(stepDur, spec.MaxWindow.Duration); 2*p.Elapsed >= maxWin {
				grow := min(maxWin.Seconds()/p.Elapsed.Seconds(), float64(*spec.MaxRequests)/float64(max(fin, 1)))
				futile = provisionalFutile(p, ss.rec.Samples(), time.Now(), sla, grow)
			}
			return futile
		}
		if fin < exploreFinished || len(p.TTFT) < exploreTTFTs && p.Elapsed < stepDur {
			return false
		}
		pl, broken := provisionalPlain(p, ss.rec.Samples(), time.Now(), sla)
		if !pl && p.Elapsed < stepDur {
			return false
		}
		if d.CertifyNow(pl, broken) {
			certifying = true
			return false
		}
		plain = pl
		return true
	}
	var res *load.Result
	var err error
	switch {
	case r.Load != nil:
		res, err = r.Load(ctx, t, cfg)
	default:
		if r.sess == nil {
			if r.sess, err = load.NewSession(ctx, cfg); err != nil {
				ss.finish()
				return nil, err
			}
		}
		res, err = r.sess.Step(ctx, cfg)
	}
	ss.finish()
	live.done()
	if err != nil {
		r.endSession()
		return nil, err
	}
	if res.Interrupted {
		r.endSession()
		return nil, nil
	}
	s := BuildStep(res, ss.rec.Samples(), t, sc, spec, conc, d.Phase)
	s.Role, s.Aim, s.Settle = results.RoleExplore, pred, res.Settle
	if certifying {
		s.Role = results.RoleCertify
		if s.Confidence != nil && !s.Confidence.Clear {
			s.Confidence.Futile = futile
		}
	} else if s.Confidence != nil {
		s.Confidence.Plain = plain
	}
	withPrompt(s, prompt)
	if probe != nil && ours {
		s.Client = probe.Stop()
	}
	r.disturb(s, ss.rec.Samples(), ours)
	r.stamp(s, ss, started, cfg.Grace)
	s.Held = heldOf(s, heldFrom, ss.drainWait, gpus)
	r.lastEnd, r.sessFlush = s.EndedAt, flushAfter(s)
	return s, nil
}

// stepConfig is a step's load.Config from the plan, whatever its arrivals:
// the warmup (at least one request lifetime, bounded by the request
// timeout), the window's bounds, the tail's grace, the scenario's lengths
// and the SLA (the effective one) that a request stalls by.
func (r *Runner) stepConfig(t v1alpha1.Target, sc v1alpha1.Scenario, prompt *client.Prompt) load.Config {
	spec := r.Plan.Spec
	sla := spec.EffectiveSLA()
	return load.Config{
		Client: r.client(t), Prompt: prompt,
		Warmup: spec.Warmup.Duration, SteadyWarmup: true, MaxWarmup: spec.Warmup.Duration + spec.RequestTimeout.Duration,
		Duration: spec.StepDuration.Duration, MinRequests: *spec.MinRequests, MaxWindow: spec.MaxWindow.Duration,
		Grace: spec.RequestTimeout.Duration, RequestTimeout: spec.RequestTimeout.Duration,
		InputTokens: sc.InputTokens, OutputTokens: sc.OutputTokens, Lengths: lengthsOf(sc), Records: r.records[[2]string{t.Name, sc.Name}],
		Counter: &r.counter, SLA: sla,
		StallAfter: sla.TTFT.Degraded.Duration,
	}
}

// lengthsOf is what draws a scenario's request lengths in the load: the
// scenario itself when its lengths vary (nil: every request nominal).
func lengthsOf(sc v1alpha1.Scenario) *v1alpha1.Scenario {
	if !sc.Varies() || sc.Dataset != nil {
		return nil
	}
	return &sc
}

// flushAfter says whether a step's queue must empty before a step with
// fewer users: it broke and its server did not hold a steady state (the
// queue still growing, a warmup or window cut short) or requests failed
// or stalled (their retries and stragglers would load the next step).
// A closed loop's queue is bounded by its users: a broken step whose
// server held steady hands fewer users a server already at its steady
// state once the retired users' requests are aborted and the requests
// sent before the change have finished (load.Session's settle rule), so
// its state, aged for several request lifetimes, is kept. The server
// preempting is the exception: a preemption restarts requests together,
// and a closed loop of requests of one length never mixes the phases it
// lined up again, so fewer users kept from a step that preempted carry
// them into a level where nothing would line them up (INT4 C in
// time-to-answer: KV cache max at 9 users 93 to 100 % a step below the
// levels that preempted, 87 to 97 % when 9 came from below, the at-SLA
// answer 7 instead of 8 or 9). Below such a step the users start afresh,
// desynchronised, as the ground truth starts each level.
func flushAfter(s *results.Step) bool {
	if s.Server != nil && s.Server.Preemptions > 0 {
		return true
	}
	return s.Broken && (!s.Steady.Reached || s.Requests.Errored > 0)
}

// heldOf is how long a step held its target, from heldFrom (the end of the
// pair's previous step when the users ran on, else the step's start) to its
// end, in parts.
func heldOf(s *results.Step, heldFrom time.Time, drain time.Duration, gpus float64) *results.Held {
	h := &results.Held{
		Seconds:       s.EndedAt.Sub(heldFrom).Seconds(),
		DrainSeconds:  drain.Seconds(),
		WindowSeconds: s.Window.DurationSeconds,
		TailSeconds:   s.EndedAt.Sub(s.Window.End).Seconds(),
	}
	h.WarmupSeconds = max(0, h.Seconds-h.DrainSeconds-h.WindowSeconds-h.TailSeconds)
	h.GPUMinutes = h.Seconds / 60 * gpus
	return h
}

// provisionalPlain judges an open exploring window: is its verdict plain,
// and is it broken?
func provisionalPlain(p load.Progress, samples []scrape.Sample, now time.Time, sla v1alpha1.SLA) (plain, broken bool) {
	s := &results.Step{Requests: results.Counts{Successful: p.Successful, Errored: p.Errored}}
	var waiting []float64
	if len(samples) > 0 {
		waiting = scrape.WaitingSeries(samples, p.WindowStart, now)
	}
	return analysis.Plain(s, p.TTFT, waiting, sla)
}

// stepScrape is a step's /metrics side: the bounded wait for the server to
// drain the previous step, then the samples recorded through the step.
type stepScrape struct {
	scr       *scrape.Scraper // nil: the target has no /metrics
	interval  time.Duration
	rec       scrape.Recorder
	drainWait time.Duration
	drained   bool
	// checked: the samples serverChanged has read; changed: what it saw.
	checked int
	changed bool
	stop    context.CancelFunc
	done    chan struct{}
}

// startScrape waits (bounded) for the target to drain when drain is set,
// then records its /metrics until finish. It returns nil when ctx ended
// during the wait.
func (r *Runner) startScrape(ctx context.Context, t v1alpha1.Target, drain bool) *stepScrape {
	spec := r.Plan.Spec
	// Once a second, more often for steps shorter than a minute so that
	// a certifying window of stepDuration holds twice the samples the
	// queue rule's interval needs (analysis.MinBatchSamples) and an
	// exploring one its samples in a sixth of it; never more than 20 a
	// second.
	ss := &stepScrape{done: make(chan struct{}), interval: min(time.Second, max(50*time.Millisecond, spec.StepDuration.Duration/(2*analysis.MinBatchSamples)))}
	if r.ScrapeInterval > 0 {
		ss.interval = r.ScrapeInterval
	}
	if t.MetricsURL != "" {
		ss.scr = scrape.NewPinned(t.MetricsURL, t.Model, r.APIKey, r.metricsPin(t))
		ss.scr.Interval = ss.interval
		// Requests cut at the previous step's end were aborted; a server
		// that still works on them (or on other clients' requests) would
		// load this step, so wait for it to be idle, within a bound.
		if drain {
			ss.drainWait, ss.drained = ss.scr.WaitIdle(ctx, min(spec.RequestTimeout.Duration, 2*time.Minute), min(ss.scr.Interval, 100*time.Millisecond))
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	sctx, stop := context.WithCancel(ctx)
	ss.stop = stop
	if ss.scr != nil {
		go func() { defer close(ss.done); ss.scr.RunInto(sctx, &ss.rec) }()
	} else {
		close(ss.done)
	}
	return ss
}

// serverChanged says whether the samples so far show the server restart or
// /metrics lost (scrape.Events), reading only when new samples came.
func (ss *stepScrape) serverChanged() bool {
	smp := ss.rec.Samples()
	if len(smp) != ss.checked {
		ss.checked, ss.changed = len(smp), len(scrape.Events(smp)) > 0
	}
	return ss.changed
}

// finish stops the recording and waits for the last scrape.
func (ss *stepScrape) finish() { ss.stop(); <-ss.done }

// stamp records on a built step how the server drained, the run, its
// sequence number and its times.
func (r *Runner) stamp(s *results.Step, ss *stepScrape, started time.Time, grace time.Duration) {
	s.Steady.DrainSeconds, s.Steady.Drained = ss.drainWait.Seconds(), ss.drained
	if ss.scr != nil && !ss.drained && s.Settle == nil {
		s.Steady.Reached = false
		s.Steady.Reasons = append([]string{fmt.Sprintf("the server had not drained the previous step after %.1f s", ss.drainWait.Seconds())}, s.Steady.Reasons...)
	}
	s.RunID = r.State.RunID
	s.Seq = len(r.steps) + 1
	s.StartedAt = started.UTC()
	s.EndedAt = time.Now().UTC()
	s.Window.GraceSeconds = grace.Seconds()
}

// provisionalClear judges an open window: would the verdict stand at 95 %?
func provisionalClear(p load.Progress, samples []scrape.Sample, now time.Time, sla v1alpha1.SLA) bool {
	s := &results.Step{Requests: results.Counts{Successful: p.Successful, Errored: p.Errored}}
	var waiting []float64
	if len(samples) > 0 {
		waiting = scrape.WaitingSeries(samples, p.WindowStart, now)
	}
	analysis.Confide(s, p.TTFT, waiting, sla)
	return s.Confidence.Clear
}

// provisionalFutile judges an open certifying window: would its verdict
// stay unclear with grow times its data?
func provisionalFutile(p load.Progress, samples []scrape.Sample, now time.Time, sla v1alpha1.SLA, grow float64) bool {
	s := &results.Step{Requests: results.Counts{Successful: p.Successful, Errored: p.Errored}}
	var waiting []float64
	if len(samples) > 0 {
		waiting = scrape.WaitingSeries(samples, p.WindowStart, now)
	}
	return analysis.Futile(s, p.TTFT, waiting, sla, grow)
}

// BuildStep turns a step's measurements into its record and verdict.
func BuildStep(res *load.Result, samples []scrape.Sample, t v1alpha1.Target, sc v1alpha1.Scenario, spec v1alpha1.PlanSpec, conc int, phase string) *results.Step {
	win := res.WindowEnd.Sub(res.WindowStart).Seconds()
	gpus := max(t.GPUs, 1)
	sla := spec.EffectiveSLA()
	var srv *results.Server
	var waiting []float64
	if len(samples) > 0 {
		srv = scrape.Stats(samples, res.WindowStart, res.WindowEnd)
		if srv != nil {
			waiting = scrape.WaitingSeries(samples, res.WindowStart, res.WindowEnd)
		}
	}
	s := &results.Step{
		SchemaVersion: results.SchemaVersion,
		Target:        t.Name, Model: t.Model, GPUs: gpus, Precision: t.Precision, GPUHourCost: t.GPUHourCost,
		Scenario: sc.Name, InputTokens: sc.InputTokens, OutputTokens: sc.OutputTokens, API: spec.API,
		Concurrency: conc, Phase: phase,
		Window: results.Window{
			Start: res.WindowStart.UTC(), End: res.WindowEnd.UTC(),
			DurationSeconds: win,
		},
		Requests: res.Requests, WarmupRequests: res.Warmup, TailRequests: res.Tail, Censored: res.Censored, Errors: res.Errors,
		Latency: results.Latency{
			TTFT: analysis.Dist(slices.Clone(res.TTFT)), TPOT: analysis.Dist(res.TPOT), ITL: res.ITL.Dist(), E2E: analysis.Dist(res.E2E),
		},
		Tokens: results.Tokens{
			Prompt: analysis.Dist(res.PromptTokens), Output: analysis.Dist(res.OutputTokens),
			CountMismatches: res.TokenCountMismatches, OutputLengthMismatches: res.OutputLengthMismatches, UsageMissing: res.UsageMissing,
		},
		Server: srv,
	}
	if win > 0 {
		s.ConcurrencyAchieved = res.BusySeconds / win
		s.Window.WarmupSeconds = res.WindowStart.Sub(res.Start).Seconds()
	}
	s.Population = populationOf(res, s, sc, spec, conc)
	if fin := res.Requests.Successful + res.Requests.Errored; fin > 0 {
		s.SuccessRate = float64(res.Requests.Successful) / float64(fin)
	}
	if win > 0 {
		out := float64(res.WindowOutputTokens) / win
		s.Throughput = results.Throughput{
			RequestsPerSecond:           float64(res.Requests.Successful) / win,
			OutputTokensPerSecond:       out,
			TotalTokensPerSecond:        out + float64(res.WindowPromptTokens)/win,
			OutputTokensPerSecondPerGPU: out / float64(gpus),
			GoodputRequestsPerSecond:    float64(res.Good) / win,
		}
	}
	if len(res.ServerTTFT) > 0 {
		s.Fidelity = &results.Fidelity{ServerTTFT: analysis.Dist(res.ServerTTFT), TTFTSkew: analysis.Dist(res.TTFTSkew), ITLSkew: res.ITLSkew.Dist()}
	}
	analysis.Evaluate(s, sla)
	analysis.Confide(s, res.TTFT, waiting, sla)
	// Steady state: every user had finished a request before the window,
	// and the window holds enough finished requests.
	st := &s.Steady
	st.Reached, st.Extended = true, res.Extended
	st.LifetimeSeconds = s.Latency.E2E.Mean
	if !res.WarmupSteady {
		st.Reached = false
		st.Reasons = append(st.Reasons, res.WarmupNote)
	}
	if res.WindowNote != "" {
		st.Reached = false
		st.Reasons = append(st.Reasons, res.WindowNote)
	}
	if s.Requests.Successful+s.Requests.Errored == 0 {
		st.Reached = false
		st.Reasons = append(st.Reasons, "no request of the window finished")
	}
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
		verdict = "nothing measured: no request started inside the window"
	} else if s.Broken {
		verdict = "BROKEN (" + s.Rule + ")"
	} else if !s.AtSLA {
		verdict = "below SLA"
	}
	if c := s.Confidence; c != nil && !c.Clear {
		verdict += ", uncertain (" + strings.Join(c.Uncertain, ", ") + ")"
	}
	if !s.Steady.Reached {
		verdict += "; NOT STEADY: " + strings.Join(s.Steady.Reasons, "; ")
	}
	if len(s.Disturbed) > 0 {
		verdict += "; DISTURBED (not evidence, measured again): " + strings.Join(s.Disturbed, "; ")
	} else {
		if f := s.Foreign; f != nil {
			verdict += fmt.Sprintf("; shared with foreign traffic: up to %d requests not ours", f.InFlight)
		}
		if c := s.Client; c != nil && c.Limited {
			verdict += "; client-limited (held anyway): " + strings.Join(c.Reasons, "; ")
		}
	}
	held := ""
	if h := s.Held; h != nil {
		held = fmt.Sprintf(", held %.1f s (%.2f GPU-min)", h.Seconds, h.GPUMinutes)
	}
	return fmt.Sprintf("%s/%s c=%d %s: %.1f s warmup + %.1f s window%s, %d requests (%d ok, %d errors, %d incomplete, %d censored), TTFT p95 %s, %.0f tok/s, %s%s -> %s",
		s.Target, s.Scenario, s.Concurrency, report.StepRole(*s), s.Window.WarmupSeconds, s.Window.DurationSeconds, held,
		s.Requests.Started, s.Requests.Successful, s.Requests.Errored, s.Requests.Incomplete, s.Censored,
		report.TTFTWithCI(*s), s.Throughput.OutputTokensPerSecond, q, populationLine(s), verdict)
}
