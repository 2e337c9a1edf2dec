package sweep

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/analysis"
	"github.com/rhoai-demo/step07/sweep-runner/client"
	"github.com/rhoai-demo/step07/sweep-runner/load"
	"github.com/rhoai-demo/step07/sweep-runner/results"
	"github.com/rhoai-demo/step07/sweep-runner/scrape"
	"github.com/rhoai-demo/step07/sweep-runner/selfcheck"
)

// sweepRates sweeps an open-loop scenario on one target: offered rates
// instead of users (analysis.NextRate: doubling from startRate to maxRate,
// or the explicit rates, then bisection to analysis.RateResolution), each
// step judged by the same SLA grading and breaking rules plus
// client_bound. It returns ErrInterrupted when ctx ended it.
func (r *Runner) sweepRates(ctx context.Context, t v1alpha1.Target, sc v1alpha1.Scenario) error {
	spec := r.Plan.Spec
	var prompt *client.Prompt
	for {
		if ctx.Err() != nil {
			return ErrInterrupted
		}
		rate, phase, more := analysis.NextRate(*sc.Arrival, spec.BisectEnabled(), analysis.RateProbesOf(analysis.Evidence(r.stepsOf(t, sc))))
		if !more {
			r.pairDone(ctx, t, sc)
			return nil
		}
		if r.budgetLeft() <= 0 {
			return ErrBudgetSpent
		}
		run := func(p *client.Prompt) (*results.Step, error) { return r.runRateStep(ctx, t, sc, p, rate, phase) }
		if err := r.measure(ctx, t, sc, &prompt, fmt.Sprintf("rate=%g/s", rate), fmt.Sprintf("%g requests/s", rate), run, RateProgressLine); err != nil {
			return err
		}
	}
}

// rateSeed is the Poisson schedule's seed of a step: deterministic per
// target, scenario and rate, so a step rerun (a resume) draws the same
// send times; 53 bits, so JSON readers that use doubles read it exactly.
func rateSeed(t v1alpha1.Target, sc v1alpha1.Scenario, rate float64) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s\x00%s", t.Name, sc.Name, strconv.FormatFloat(rate, 'g', -1, 64))
	return h.Sum64() >> 11
}

// runRateStep runs one open-loop step at an offered rate; nil, nil when ctx
// interrupted it. As runStep: the server drained first, /metrics scraped
// through the step, a warmup of at least one request lifetime at this rate
// and a window that stays open for a clear verdict (bounded).
func (r *Runner) runRateStep(ctx context.Context, t v1alpha1.Target, sc v1alpha1.Scenario, prompt *client.Prompt, rate float64, phase string) (*results.Step, error) {
	spec := r.Plan.Spec
	sla := spec.EffectiveSLA()
	started := time.Now()
	ss := r.startScrape(ctx, t, true)
	if ss == nil {
		return nil, nil
	}
	if ss.scr != nil {
		ss.scr.Ours = r.client(t).Load
	}
	cfg := r.stepConfig(t, sc, prompt)
	gpus := float64(max(t.GPUs, 1))
	cfg.Deadline = r.deadline(started, gpus)
	cfg.Abandon = ss.serverChanged // a restart: measured again
	cfg.Decide = func(p load.Progress) bool {
		if p.Successful+p.Errored >= *spec.MaxRequests {
			return true
		}
		return provisionalClear(p, ss.rec.Samples(), time.Now(), sla)
	}
	live := r.live(t, sc, fmt.Sprintf("rate=%g/s", rate), spec.StepDuration.Duration)
	var probe *selfcheck.Probe // the client's CPU over the window
	cfg.Watch = func(p load.Progress) {
		if probe == nil && !p.WindowStart.IsZero() {
			probe = selfcheck.Start()
		}
		live.show(p, ss.rec.Samples(), sla, true, &spec)
	}
	a := sc.Arrival
	ol := load.OpenLoop{Rate: rate, Process: a.Process, Burstiness: a.Burstiness, Seed: rateSeed(t, sc, rate), MaxInFlight: a.MaxInFlight}
	res, err := load.RunOpen(ctx, cfg, ol)
	ss.finish()
	live.done()
	if err != nil {
		return nil, err
	}
	if res.Interrupted {
		return nil, nil
	}
	s := BuildRateStep(res, ss.rec.Samples(), t, sc, spec, ol, phase)
	if probe != nil {
		s.Client = probe.Stop()
	}
	r.disturb(s, ss.rec.Samples(), true)
	r.stamp(s, ss, started, cfg.Grace)
	s.Held = heldOf(s, started, ss.drainWait, gpus)
	return s, nil
}

// BuildRateStep turns an open-loop step's measurements into its record and
// verdict: BuildStep's, with the arrivals (offered and achieved rate, send
// delay, the client bound), the measured mean in flight in the concurrency
// fields, and the rule client_bound when maxInFlight was reached.
func BuildRateStep(res *load.OpenResult, samples []scrape.Sample, t v1alpha1.Target, sc v1alpha1.Scenario, spec v1alpha1.PlanSpec, ol load.OpenLoop, phase string) *results.Step {
	s := BuildStep(&res.Result, samples, t, sc, spec, 0, phase)
	s.Concurrency = int(math.Round(s.ConcurrencyAchieved))
	o := &results.OpenLoop{Process: ol.Process, Burstiness: ol.Burstiness, OfferedRate: ol.Rate, Seed: ol.Seed, MaxInFlight: ol.MaxInFlight,
		PeakInFlight: res.PeakInFlight, SendDelay: analysis.Dist(res.SendDelay), ArrivalCV: res.ArrivalCV}
	if o.MaxInFlight == 0 {
		o.MaxInFlight = v1alpha1.DefaultMaxInFlight
	}
	if win := s.Window.DurationSeconds; win > 0 {
		o.AchievedRate = float64(res.Sent) / win
	}
	if res.BoundRequests > 0 {
		o.ClientBound = &results.ClientBound{Requests: res.BoundRequests, Seconds: res.BoundTime.Seconds(), MaxWaitSeconds: res.BoundMaxWait.Seconds()}
		// The client, not the server, set the pace: broken, whatever the
		// other rules say, and certainly so.
		s.Rules = append(s.Rules, results.RuleClientBound)
		s.Broken, s.AtSLA, s.Rule = true, false, s.Rules[0]
		if s.Confidence != nil {
			s.Confidence.Clear = true
		}
	}
	s.OpenLoop = o
	return s
}

// RateProgressLine is an open-loop step's line on stderr: ProgressLine's,
// with the offered and achieved rates and the client bound.
func RateProgressLine(s *results.Step) string {
	line := ProgressLine(s)
	o := s.OpenLoop
	if o == nil {
		return line
	}
	extra := fmt.Sprintf(" [%s %g req/s offered, %.3g achieved, arrival CV %.2f, %.1f in flight (peak %d), send delay p95 %.0f ms",
		o.Process, o.OfferedRate, o.AchievedRate, o.ArrivalCV, s.ConcurrencyAchieved, o.PeakInFlight, o.SendDelay.Percentiles.P95*1000)
	if b := o.ClientBound; b != nil {
		extra += fmt.Sprintf("; CLIENT BOUND: maxInFlight %d reached, %d requests waited (up to %.0f ms)", o.MaxInFlight, b.Requests, b.MaxWaitSeconds*1000)
	}
	return line + extra + "]"
}
