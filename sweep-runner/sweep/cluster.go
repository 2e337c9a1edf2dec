package sweep

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/results"
	"github.com/rhoai-demo/step07/sweep-runner/scrape"
)

// What a shared cluster does to a step (results/cluster.go): the server
// busy with someone else's requests before the sweep starts, a restart or
// lost /metrics during a step, requests that are not ours, and a client too
// starved to send on time. A step the server changed under, or that broke
// while sharing the server or with a starved client, is kept, with why
// (Step.Disturbed), and is not evidence for a breaking point
// (analysis.Evidence): the search measures its level again, at most
// analysis.MaxRemeasures times.

// IdleFor is how long the target must hold no request (running and
// waiting both 0 in every /metrics sample) before the first step: long
// enough to see a client that keeps requests going with short pauses
// between them, short enough to cost nothing when the model is idle.
const IdleFor = 2 * time.Second

// idleEvery is the /metrics sample interval of the idle check.
const idleEvery = 250 * time.Millisecond

// InUseError: the target served requests that were not ours before the
// first step, for longer than the plan's readyTimeout (exit 1).
type InUseError struct {
	Target           string
	Running, Waiting float64
	Waited           time.Duration
}

func (e *InUseError) Error() string {
	return fmt.Sprintf("target %s: the model is in use by someone else (other clients' requests, not ours: %.0f running, %.0f waiting, still after %.0f s): "+
		"a sweep would share the batch and KV cache with them, measure less than the server holds and slow their requests. "+
		"Sweep it when it is idle, or pass --allow-busy (spec.allowBusy) to sweep it anyway, its steps marked as sharing the server",
		e.Target, e.Running, e.Waiting, e.Waited.Seconds())
}

// waitIdle waits, within the plan's readyTimeout (at least one IdleFor),
// for t to hold no request for IdleFor; a target without /metrics, or a
// plan that allows a busy model, is not checked.
func (r *Runner) waitIdle(ctx context.Context, t v1alpha1.Target) error {
	if t.MetricsURL == "" || r.Plan.Spec.AllowBusy {
		return nil
	}
	scr := scrape.NewPinned(t.MetricsURL, t.Model, r.APIKey, r.metricsPin(t))
	start := time.Now()
	limit := max(r.Plan.Spec.ReadyTimeout.Duration, IdleFor)
	var idleSince time.Time
	var last scrape.Sample
	logged := false
	for {
		s, err := scr.Once(ctx)
		switch {
		case err != nil || !s.OK:
			// /metrics unreadable: nothing to judge by (the steps say so).
			return nil
		case s.Running == 0 && s.Waiting == 0:
			if idleSince.IsZero() {
				idleSince = s.T
			}
			if s.T.Sub(idleSince) >= IdleFor {
				return nil
			}
		default:
			idleSince, last = time.Time{}, s
			if !logged {
				r.logf("target %s is in use by someone else (%.0f running, %.0f waiting); waiting up to %s for it to be idle", t.Name, s.Running, s.Waiting, limit)
				logged = true
			}
		}
		if time.Since(start) > limit && idleSince.IsZero() {
			return &InUseError{Target: t.Name, Running: last.Running, Waiting: last.Waiting, Waited: time.Since(start)}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(idleEvery):
		}
	}
}

// disturb reads what the cluster did to a built step from its samples and
// the client's self-check, and says on the step why it is not evidence.
func (r *Runner) disturb(s *results.Step, samples []scrape.Sample, ours bool) {
	s.Events = append(s.Events, scrape.Events(samples)...)
	if h := scrape.Hidden(samples); h > 1 && ours {
		// Said, not set aside: measuring again through the same address
		// would mix the same servers (measure fills the rest of Replicas).
		s.Replicas = &results.Replicas{Hidden: h}
	}
	if ours {
		if f := scrape.Foreign(samples); f != nil {
			f.Allowed = r.Plan.Spec.AllowBusy
			s.Foreign = f
		}
	}
	for _, e := range s.Events {
		s.Disturbed = append(s.Disturbed, e.Detail)
	}
	// Foreign traffic and a starved client can only make a step look worse
	// than the server is: a step that held despite them is evidence that
	// the server holds; one that broke is not evidence that it breaks.
	if f := s.Foreign; f != nil && !f.Allowed && s.Broken {
		s.Disturbed = append(s.Disturbed, fmt.Sprintf("foreign traffic: the server held up to %d requests that were not ours (%d more finished than we sent)", f.InFlight, f.Requests))
	}
	if c := s.Client; c != nil && c.Limited && s.Broken {
		s.Disturbed = append(s.Disturbed, "client-limited: "+strings.Join(c.Reasons, "; "))
	}
}

// restarted says whether a step saw its server restart or lose /metrics:
// the next step waits for it to be ready and starts afresh.
func restarted(s *results.Step) bool {
	for _, e := range s.Events {
		if e.Kind == results.EventRestart || e.Kind == results.EventMetricsLost {
			return true
		}
	}
	return false
}

// afterRestart waits, within the plan's readyTimeout (at least a minute:
// a restart is under way), for a target whose server restarted during a
// step to serve its model again, and ends the users kept between steps.
func (r *Runner) afterRestart(ctx context.Context, t v1alpha1.Target) {
	r.endSession()
	deadline := time.Now().Add(max(r.Plan.Spec.ReadyTimeout.Duration, time.Minute))
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if err := r.client(t).CheckModel(ctx, t.Model); err == nil {
			r.logf("target %s serves %s again after a restart; the step is measured again", t.Name, t.Model)
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
