package sweep

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"time"

	"github.com/rhoai-demo/step07/api/kpi"
	sm "github.com/rhoai-demo/step07/api/sweepmetrics"
	"github.com/rhoai-demo/step07/api/v1alpha1"
	vm "github.com/rhoai-demo/step07/api/vllmmetrics"
	"github.com/rhoai-demo/step07/sweep-runner/remotewrite"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// PowerSource gives the mean total power of a model's GPUs over a window
// (ok false: no data). power.Querier implements it.
type PowerSource interface {
	MeanWatts(ctx context.Context, model string, start, end time.Time) (watts float64, ok bool, err error)
}

// measurePower fills the step's power from r.Power; missing data or an
// unreachable Prometheus leaves it empty and is logged once per run.
func (r *Runner) measurePower(ctx context.Context, t v1alpha1.Target, s *results.Step) {
	if r.Power == nil || s.Requests.Started == 0 {
		return
	}
	qctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	w, ok, err := r.Power.MeanWatts(qctx, t.Model, s.Window.Start, s.Window.End)
	switch {
	case err != nil:
		r.warnOnce("power", "GPU power not measured (steps keep no power_watts): %v", err)
	case !ok:
		r.warnOnce("power-"+t.Name, "GPU power of target %s not found in Prometheus (%s of pods matching %s-predictor…): power_watts left empty", t.Name, vm.DCGMPowerUsage, t.Model)
	default:
		s.PowerWatts = &w
	}
}

func (r *Runner) warnOnce(key, format string, args ...any) {
	if r.warned == nil {
		r.warned = map[string]bool{}
	}
	if r.warned[key] {
		return
	}
	r.warned[key] = true
	w := r.Warn
	if w == nil {
		w = r.Log
	}
	if w != nil {
		fmt.Fprintf(w, "warning: "+format+"\n", args...)
	}
}

// deliver sends samples (after what is pending in the run directory); a
// failure never fails the sweep: the samples stay on disk for the next try.
func (r *Runner) deliver(ctx context.Context, samples []remotewrite.Sample) {
	if r.RemoteWrite == nil || len(samples) == 0 {
		return
	}
	if err := r.RemoteWrite.Deliver(context.WithoutCancel(ctx), r.dir, samples); err != nil {
		r.warnOnce("remote-write", "remote write failed, results kept for later (--resume or the next run in this --out): %v", err)
	}
}

// FlushPending resends the samples kept in the pending file of every run
// directory beside this one (and of this one): results a previous run could
// not send.
func (r *Runner) FlushPending(ctx context.Context) {
	if r.RemoteWrite == nil || r.RunDir == "" {
		return
	}
	dirs, _ := results.DirsHolding(filepath.Dir(r.RunDir), remotewrite.PendingFile)
	for _, dir := range dirs {
		// Unlocked: a run directory beside this one may be another
		// sweep-runner's, whose lock is not taken over.
		if err := r.RemoteWrite.Deliver(ctx, results.At(dir), nil); err != nil {
			r.warnOnce("remote-write-pending", "resending kept results of %s failed (kept again): %v", filepath.Base(dir), err)
			continue
		}
		if r.Log != nil {
			fmt.Fprintf(r.Log, "resent the results %s kept for remote write\n", filepath.Base(dir))
		}
	}
}

func labels(runID string, s *results.Step) map[string]string {
	l := map[string]string{sm.LabelModel: s.Target, sm.LabelScenario: s.Scenario, sm.LabelRunID: runID}
	if s.Precision != "" {
		l[sm.LabelPrecision] = s.Precision
	}
	return l
}

// StepSamples are the series of one finished step (names from
// api/sweepmetrics), labelled model (the target's name), scenario,
// concurrency and run_id, timestamped at the end of the step's window.
func StepSamples(runID string, s *results.Step) []remotewrite.Sample {
	ts := s.Window.End.UnixMilli()
	var out []remotewrite.Sample
	add := func(name string, v float64, extra ...string) {
		l := labels(runID, s)
		l[sm.LabelConcurrency] = strconv.Itoa(s.Concurrency)
		for i := 0; i+1 < len(extra); i += 2 {
			l[extra[i]] = extra[i+1]
		}
		out = append(out, remotewrite.Sample{Name: name, Labels: l, Value: v, TimeMs: ts})
	}
	lat := s.Latency
	for _, d := range []struct {
		name string
		p    results.Percentiles
		n    int
	}{{sm.TTFTSeconds, lat.TTFT.Percentiles, lat.TTFT.Count}, {sm.TPOTSeconds, lat.TPOT.Percentiles, lat.TPOT.Count}, {sm.ITLSeconds, lat.ITL.Percentiles, lat.ITL.Count}} {
		if d.n == 0 {
			continue // nothing measured: no sample rather than a false 0
		}
		for _, q := range sm.Quantiles {
			add(d.name, quantile(d.p, q), sm.LabelQuantile, q)
		}
	}
	add(sm.OutputTokensPerSecond, s.Throughput.OutputTokensPerSecond)
	add(sm.OutputTokensPerSecondPerGPU, s.Throughput.OutputTokensPerSecondPerGPU)
	add(sm.RequestsPerSecond, s.Throughput.RequestsPerSecond)
	if s.Requests.Successful+s.Requests.Errored > 0 {
		add(sm.SuccessRatio, s.SuccessRate)
	}
	if s.Server != nil && s.Server.Samples > 0 {
		add(sm.QueueWaitingMean, s.Server.Waiting.Mean)
		if s.Server.Generation != "" {
			add(sm.KVCacheUsageMax, s.Server.KVCacheUsage.Max)
		}
	}
	if s.PowerWatts != nil {
		add(sm.PowerWatts, *s.PowerWatts)
	}
	for _, k := range kpi.KPIs {
		if v, ok := s.KPIs.Get(k); ok {
			add(sm.KPIValue, v, sm.LabelKPI, k.Key)
		}
		if r, ok := sm.GradeRanks[s.Grades[k.Key]]; ok {
			add(sm.KPIGrade, r, sm.LabelKPI, k.Key)
		}
	}
	broken := 0.0
	if s.Broken {
		broken = 1
	}
	add(sm.StepBroken, broken)
	return out
}

func quantile(p results.Percentiles, q string) float64 {
	switch q {
	case "0.5":
		return p.P50
	case "0.95":
		return p.P95
	case "0.99":
		return p.P99
	}
	// Not reached while every sweepmetrics.Quantiles entry is handled above
	// (TestEveryQuantileHasAPercentile); NaN samples are never sent.
	return math.NaN()
}

// RunSamples are the per-run series of one target and scenario (labels
// model, scenario, run_id) at time at: breaking point (absent when none
// broke), max concurrency at SLA, users and output tok/s per GPU at SLA,
// and the time itself in Unix seconds.
func RunSamples(runID string, res *results.Result, at time.Time) []remotewrite.Sample {
	if len(res.Steps) == 0 {
		return nil
	}
	l := labels(runID, &res.Steps[0])
	ts := at.UnixMilli()
	var out []remotewrite.Sample
	add := func(name string, v float64) {
		out = append(out, remotewrite.Sample{Name: name, Labels: l, Value: v, TimeMs: ts})
	}
	if res.BreakingPoint != nil {
		add(sm.BreakingPointConcurrency, float64(res.BreakingPoint.Concurrency))
	}
	add(sm.MaxConcurrencyAtSLA, float64(res.MaxConcurrencyAtSLA))
	add(sm.UsersPerGPUAtSLA, res.UsersPerGPUAtSLA)
	add(sm.OutputTokensPerSecondPerGPUAtSLA, res.OutputTokensPerSecondPerGPUAtSLA)
	add(sm.RunTimestamp, float64(at.Unix()))
	return out
}

// pairDone sends the per-run series of a target and scenario that has no
// step left to run.
func (r *Runner) pairDone(ctx context.Context, t v1alpha1.Target, sc v1alpha1.Scenario) {
	if r.RemoteWrite == nil {
		return
	}
	sum, err := r.summary()
	if err != nil {
		return
	}
	for i := range sum.Results {
		res := &sum.Results[i]
		if res.Target == t.Name && res.Scenario == sc.Name {
			r.deliver(ctx, RunSamples(r.State.RunID, res, time.Now()))
		}
	}
}
