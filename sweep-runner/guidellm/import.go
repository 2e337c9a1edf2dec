package guidellm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/analysis"
	"github.com/rhoai-demo/step07/sweep-runner/report"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// ImportFile is the provenance record an import writes into the run
// directory: the reports read and where the server gauges came from.
const ImportFile = "guidellm-import.json"

// PlaceholderURL stands in plan.yaml for a target whose report names no
// http(s) endpoint (the plan needs one; nothing connects to it).
const PlaceholderURL = "http://guidellm-target.invalid"

// Target overrides what a report says about its target (--target). Zero
// fields keep the report's value.
type Target struct {
	Name, Model, Precision string
	GPUs                   int
	GPUHourCost            float64
}

// Options of Import.
type Options struct {
	// Targets: one per report (in order), or one for every report.
	Targets []Target
	// Prometheus, when set, fills the server gauges of the benchmarks that
	// carry none (every GuideLLM benchmark; our own exports carry theirs).
	Prometheus *Prometheus
	// Version of sweep-runner, for run.json.
	Version string
	// Warn receives warnings (nil: discarded).
	Warn io.Writer
	// Now is the clock naming the run directory (default time.Now).
	Now func() time.Time
}

// Imported is a run built from GuideLLM reports, ready to be written as a
// run directory.
type Imported struct {
	Plan  *v1alpha1.SweepPlan
	Run   results.Run
	Steps []results.Step
	// Provenance is what ImportFile records.
	Provenance Provenance
}

// Provenance records where an imported run came from.
type Provenance struct {
	Sources []Source `json:"sources"`
	// ServerMetrics says where the queue and KV cache gauges came from.
	ServerMetrics string `json:"server_metrics"`
	// Unknown lists the steps (target/scenario/concurrency) whose queue
	// rule and KV cache KPI are unknown.
	Unknown []string `json:"unknown_server_metrics,omitempty"`
	Notes   []string `json:"notes"`
}

// Source is one report read.
type Source struct {
	File            string `json:"file"`
	ReportVersion   int    `json:"report_version"`
	GuideLLMVersion string `json:"guidellm_version,omitempty"`
	Model           string `json:"model,omitempty"`
	Target          string `json:"target,omitempty"`
	Benchmarks      int    `json:"benchmarks"`
}

// importNotes state what an imported run does not know.
var importNotes = []string{
	"steady state: not judged (GuideLLM records none); every imported step says \"" + NotJudged + "\"",
	"warmup, tail and censored request counts, the grace after the window and goodput have no GuideLLM counterpart: left 0",
	"TPOT is GuideLLM's inter_token_latency_ms ((latency - TTFT) / (output tokens - 1), weighted by tokens); ITL is the same per-request mean gap (GuideLLM keeps no per-chunk gaps)",
	"TTFT, latency, token counts and throughput are GuideLLM's successful distributions; errors are not classified by kind",
}

// Import maps the reports' benchmarks to steps of one run and judges them
// with the SLA table (the report's, when it is our own export, else the
// default one).
func Import(ctx context.Context, reps []*Report, opts Options) (*Imported, error) {
	if len(reps) == 0 {
		return nil, fmt.Errorf("no report to import")
	}
	if n := len(opts.Targets); n > 1 && n != len(reps) {
		return nil, fmt.Errorf("%d --target for %d reports: give one for every report, or one for all", n, len(reps))
	}
	warn := opts.Warn
	if warn == nil {
		warn = io.Discard
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	plan := &v1alpha1.SweepPlan{}
	var runExt *RunExtension
	im := &Imported{Plan: plan}
	targets := map[string]int{}   // name -> index in plan.Spec.Targets
	scenarios := map[string]int{} // name -> index in plan.Spec.Scenarios
	var windows, warmups []float64
	for ri, r := range reps {
		var ov Target
		if len(opts.Targets) == 1 {
			ov = opts.Targets[0]
		} else if len(opts.Targets) > 1 {
			ov = opts.Targets[ri]
		}
		if runExt == nil && r.Extension != nil {
			runExt = r.Extension
		}
		im.Provenance.Sources = append(im.Provenance.Sources, Source{
			File: r.File, ReportVersion: r.Version, GuideLLMVersion: r.GuideLLMVersion,
			Model: r.Model, Target: r.TargetURL, Benchmarks: len(r.Benchmarks),
		})
		for _, b := range r.Benchmarks {
			s := b.Step
			t, sc := targetOf(r, b.Extension, ov), scenarioOf(r, b.Extension)
			if _, ok := targets[t.Name]; !ok {
				targets[t.Name] = len(plan.Spec.Targets)
				plan.Spec.Targets = append(plan.Spec.Targets, t)
			}
			if _, ok := scenarios[sc.Name]; !ok {
				scenarios[sc.Name] = len(plan.Spec.Scenarios)
				plan.Spec.Scenarios = append(plan.Spec.Scenarios, sc)
			}
			s.Target, s.Model, s.GPUs, s.Precision, s.GPUHourCost = t.Name, t.Model, t.GPUs, t.Precision, t.GPUHourCost
			s.Scenario, s.InputTokens, s.OutputTokens = sc.Name, sc.InputTokens, sc.OutputTokens
			s.API = r.API
			if e := b.Extension; e != nil {
				applyExtension(&s, e)
			}
			s.Throughput.OutputTokensPerSecondPerGPU = s.Throughput.OutputTokensPerSecond / float64(max(1, s.GPUs))
			im.Steps = append(im.Steps, s)
			windows = append(windows, s.Window.DurationSeconds)
			warmups = append(warmups, s.Window.WarmupSeconds)
		}
	}

	// The plan as "run": an explicit grid (see importGrid), no bisection,
	// the SLA table of our own export or the default one.
	spec := &plan.Spec
	spec.Concurrency = importGrid(im.Steps)
	spec.Bisect = v1alpha1.Ptr(false)
	spec.StepDuration = v1alpha1.DP(max(time.Second, time.Duration(median(windows)*float64(time.Second)).Round(time.Second)))
	spec.Warmup = v1alpha1.DP(max(0, time.Duration(median(warmups)*float64(time.Second)).Round(time.Second)))
	if runExt != nil {
		spec.SLA, spec.TimeScale = runExt.SLA, runExt.TimeScale
		if runExt.API != "" {
			spec.API = runExt.API
		}
	}
	if spec.API == "" {
		for _, r := range reps {
			if r.API != "" {
				spec.API = r.API
				break
			}
		}
	}
	if err := plan.Default(); err != nil {
		return nil, err
	}
	if err := plan.Validate(); err != nil {
		return nil, fmt.Errorf("the imported run's plan is not valid: %w", err)
	}

	// Server gauges: our own export carries them; Prometheus fills the
	// rest when asked; else the queue rule and the KV cache KPI are unknown.
	sla := spec.EffectiveSLA()
	fromExt, fromProm := 0, 0
	promFailed := false
	for i := range im.Steps {
		s := &im.Steps[i]
		if s.Server != nil {
			fromExt++
			continue
		}
		if opts.Prometheus != nil && !promFailed {
			srv, err := opts.Prometheus.Server(ctx, s.Model, s.Window.Start, s.Window.End)
			switch {
			case err != nil:
				fmt.Fprintf(warn, "warning: server metrics not read from Prometheus, the queue rule and the KV cache KPI stay unknown: %v\n", err)
				promFailed = true
			case srv == nil || srv.Samples == 0:
				fmt.Fprintf(warn, "warning: Prometheus has no %s samples with model_name=%q between %s and %s (target %s, concurrency %d): queue rule and KV cache unknown for that step\n",
					"vllm:num_requests_waiting", s.Model, s.Window.Start.Format(time.RFC3339), s.Window.End.Format(time.RFC3339), s.Target, s.Concurrency)
			default:
				s.Server = srv
				fromProm++
			}
		}
		if s.Server == nil {
			im.Provenance.Unknown = append(im.Provenance.Unknown, fmt.Sprintf("%s/%s c=%d", s.Target, s.Scenario, s.Concurrency))
		}
	}
	switch {
	case len(im.Provenance.Unknown) == 0 && fromProm == 0:
		im.Provenance.ServerMetrics = "from the reports' sweep_runner extension (measured by sweep-runner from /metrics)"
	case len(im.Provenance.Unknown) == 0:
		im.Provenance.ServerMetrics = "from Prometheus range queries over each benchmark's window (" + opts.Prometheus.URL + ")"
	case fromProm+fromExt == 0:
		im.Provenance.ServerMetrics = "none: GuideLLM measures no server gauges and no --prometheus-url was given (or it had no data): the queue rule and the KV cache KPI are unknown"
	default:
		im.Provenance.ServerMetrics = fmt.Sprintf("%d steps from the reports' extension, %d from Prometheus; unknown for the others", fromExt, fromProm)
	}
	if n := len(im.Provenance.Unknown); n > 0 {
		fmt.Fprintf(warn, "note: %d of %d imported steps have no server metrics: the queue rule and the KV cache KPI are unknown for them (give --prometheus-url to read vLLM's gauges from Prometheus)\n", n, len(im.Steps))
	}
	im.Provenance.Notes = importNotes

	// Order by pair and concurrency; Seq follows; then judge.
	order := func(s *results.Step) (int, int) { return targets[s.Target], scenarios[s.Scenario] }
	sort.SliceStable(im.Steps, func(i, j int) bool {
		ti, si := order(&im.Steps[i])
		tj, sj := order(&im.Steps[j])
		if ti != tj {
			return ti < tj
		}
		if si != sj {
			return si < sj
		}
		return im.Steps[i].Concurrency < im.Steps[j].Concurrency
	})
	var first, last time.Time
	seen := map[results.Key]bool{}
	for i := range im.Steps {
		s := &im.Steps[i]
		s.Seq = i + 1
		analysis.Evaluate(s, sla)
		if seen[s.Key()] {
			fmt.Fprintf(warn, "warning: two benchmarks of %s/%s map to concurrency %d; both are kept\n", s.Target, s.Scenario, s.Concurrency)
		}
		seen[s.Key()] = true
		if first.IsZero() || (!s.StartedAt.IsZero() && s.StartedAt.Before(first)) {
			first = s.StartedAt
		}
		if s.EndedAt.After(last) {
			last = s.EndedAt
		}
	}
	files := make([]string, len(reps))
	for i, r := range reps {
		files[i] = r.File
	}
	im.Run = results.Run{
		Status: results.StatusComplete, Version: opts.Version,
		StartedAt: first, UpdatedAt: now().UTC(),
		Message: "imported from GuideLLM report " + strings.Join(files, ", "),
	}
	if !last.IsZero() {
		im.Run.EndedAt = &last
	}
	return im, nil
}

// importGrid is the explicit concurrency grid of an imported run's plan:
// the concurrencies every imported target and scenario has, so that each
// reads complete (an explicit grid is finished when every one of its steps
// ran). Reports whose concurrencies share none (rate benchmarks) get the
// union, and the pairs missing some of it read incomplete.
func importGrid(steps []results.Step) []int {
	pairs := map[[2]string]map[int]bool{}
	union := map[int]bool{}
	for _, s := range steps {
		k := [2]string{s.Target, s.Scenario}
		if pairs[k] == nil {
			pairs[k] = map[int]bool{}
		}
		pairs[k][s.Concurrency] = true
		union[s.Concurrency] = true
	}
	var common, all []int
	for c := range union {
		all = append(all, c)
		in := true
		for _, cs := range pairs {
			in = in && cs[c]
		}
		if in {
			common = append(common, c)
		}
	}
	if len(common) == 0 {
		common = all
	}
	sort.Ints(common)
	return common
}

// targetOf is the target of a benchmark: --target's values, else our own
// export's, else the report's model and endpoint.
func targetOf(r *Report, e *StepExtension, ov Target) v1alpha1.Target {
	var t v1alpha1.Target
	if e != nil {
		t = v1alpha1.Target{Name: e.Target.Name, URL: e.Target.URL, Model: e.Target.Model, GPUs: e.Target.GPUs, Precision: e.Target.Precision, GPUHourCost: e.Target.GPUHourCost}
	}
	pick := func(vals ...string) string {
		for _, v := range vals {
			if v != "" {
				return v
			}
		}
		return ""
	}
	t.Name = pick(ov.Name, t.Name, r.Model, "guidellm")
	t.Model = pick(ov.Model, t.Model, r.Model, t.Name)
	t.Precision = pick(ov.Precision, t.Precision)
	if ov.GPUs > 0 {
		t.GPUs = ov.GPUs
	}
	if t.GPUs < 1 {
		t.GPUs = 1
	}
	if ov.GPUHourCost > 0 {
		t.GPUHourCost = ov.GPUHourCost
	}
	t.URL = pick(t.URL, r.TargetURL)
	if u, err := url.Parse(t.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		t.URL = PlaceholderURL
	}
	return t
}

// scenarioOf is the workload shape of a benchmark: our own export's, else
// the report's nominal token counts ("<in>in-<out>out").
func scenarioOf(r *Report, e *StepExtension) v1alpha1.Scenario {
	if e != nil && e.Scenario.Name != "" {
		sc := e.Scenario.scenario()
		sc.InputTokens, sc.OutputTokens = max(1, sc.InputTokens), max(1, sc.OutputTokens)
		return sc
	}
	sc := r.Spread
	sc.InputTokens, sc.OutputTokens = max(1, r.InputTokens), max(1, r.OutputTokens)
	sc.Name, sc.Description = "guidellm", "imported from GuideLLM"
	if r.InputTokens > 0 && r.OutputTokens > 0 {
		sc.Name = fmt.Sprintf("%din-%dout", sc.InputTokens, sc.OutputTokens)
	}
	return sc
}

// applyExtension restores what our own export carried outside GuideLLM's
// fields: those sweep-runner measured and GuideLLM has no slot for.
func applyExtension(s *results.Step, e *StepExtension) {
	if e.Concurrency > 0 {
		s.Concurrency = e.Concurrency
	}
	if e.Phase != "" {
		s.Phase = e.Phase
	}
	if e.API != "" {
		s.API = e.API
	}
	s.Server = e.Server
	s.Steady = e.Steady
	s.Confidence = e.Confidence
	s.Censored = e.Censored
	s.WarmupRequests, s.TailRequests = e.WarmupRequests, e.TailRequests
	s.Errors = e.Errors
	s.Window.GraceSeconds = e.GraceSeconds
	s.ConcurrencyAchieved = e.ConcurrencyAchieved
	s.Latency.ITL = e.ITLSeconds
	s.Throughput.GoodputRequestsPerSecond = e.GoodputRequestsPerSecond
	s.Tokens.CountMismatches, s.Tokens.OutputLengthMismatches, s.Tokens.UsageMissing = e.CountMismatches, e.OutputLengthMismatches, e.UsageMissing
	s.Fidelity = e.Fidelity
	s.PowerWatts = e.PowerWatts
}

// Write creates a run directory under out (out/<run-id>/, the layout of
// sweep-runner run: plan.yaml, run.json, steps.jsonl) plus ImportFile, and
// writes summary.json and the reports from it with the same code that
// sweep-runner report runs.
func (im *Imported) Write(out string, opts report.Options, now time.Time) (string, *results.Summary, error) {
	// Made and locked like a sweep's, so that no pruning removes it while
	// it is written.
	d, err := results.Create(out, im.Plan, now)
	if err != nil {
		return "", nil, err
	}
	defer d.Close()
	dir := d.Path()
	im.Run.RunID = d.ID()
	if im.Run.StartedAt.IsZero() {
		im.Run.StartedAt = now.UTC()
	}
	if err := d.SaveRun(&im.Run); err != nil {
		return "", nil, err
	}
	var lines []byte
	for i := range im.Steps {
		im.Steps[i].RunID = im.Run.RunID
		b, err := jsonLine(&im.Steps[i])
		if err != nil {
			return "", nil, err
		}
		lines = append(lines, b...)
	}
	if err := d.WriteFile(results.StepsFile, lines); err != nil {
		return "", nil, err
	}
	if err := d.WriteJSON(ImportFile, &im.Provenance); err != nil {
		return "", nil, err
	}
	sum, err := report.RebuildOpts(d, opts)
	if err != nil {
		return dir, nil, err
	}
	return dir, sum, nil
}

func jsonLine(s *results.Step) ([]byte, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode step: %w", err)
	}
	return append(b, '\n'), nil
}
