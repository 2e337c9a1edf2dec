package sweep

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/load"
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

// IdleFor is how long no request of someone else's may have started
// (the requests the server holds beyond ours rising between two /metrics
// samples) before the first step, the server holding none of theirs at the
// end. A client that keeps sending, even with pauses, starts requests more
// often than that and is seen; requests that are only finishing (a proxy's
// leftovers of our own checks) do not hold the sweep up longer than they
// run. Someone whose requests are further apart is caught by the
// comparison of every step's samples with our own requests
// (scrape.Foreign), and such a step that broke is measured again.
const IdleFor = time.Second

// idleEvery is the /metrics sample interval of the idle check.
const idleEvery = 50 * time.Millisecond

// LingerFor is how long a request of ours cut short by the checks (the
// probe, aborted once answered; a request a proxy or the network dropped)
// may still be held by the server: the idle check waits at least that
// long, plus IdleFor, before it calls the model busy.
const LingerFor = 10 * time.Second

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

// idleWatch samples a target's /metrics from the start of its checks:
// requests the server holds beyond the client's own (its calibration and
// probe requests are counted in client.Client.Load) are someone else's.
// The checks take seconds of their own, so the idle time they overlap is
// not waited for again.
type idleWatch struct {
	r     *Runner
	t     v1alpha1.Target
	stop  context.CancelFunc
	done  chan struct{}
	start time.Time
	// mu guards what the sampler saw: when foreign requests last rose
	// (from the start: a first sample's are taken as new), whether the
	// last sample held any, its gauges, and whether /metrics ever
	// answered.
	mu               sync.Mutex
	lastRise         time.Time
	extra            float64
	running, waiting float64
	answered, failed bool
}

// watchIdle starts sampling t's /metrics (nil when there is nothing to
// check: no /metrics, or a plan that allows a busy model).
func (r *Runner) watchIdle(ctx context.Context, t v1alpha1.Target) *idleWatch {
	if t.MetricsURL == "" || r.Plan.Spec.AllowBusy {
		return nil
	}
	scr := scrape.NewPinned(t.MetricsURL, t.Model, r.APIKey, r.metricsPin(t))
	c := r.client(t)
	wctx, stop := context.WithCancel(ctx)
	w := &idleWatch{r: r, t: t, stop: stop, done: make(chan struct{}), start: time.Now()}
	w.lastRise = w.start
	go func() {
		defer close(w.done)
		for {
			s, err := scr.Once(wctx)
			ours, _ := c.Load()
			w.mu.Lock()
			if err != nil || !s.OK {
				w.failed = !w.answered
			} else {
				extra := max(0, s.Running+s.Waiting-float64(ours))
				if extra > w.extra {
					w.lastRise = s.T
				}
				w.extra, w.running, w.waiting = extra, s.Running, s.Waiting
				w.answered, w.failed = true, false
			}
			w.mu.Unlock()
			if !load.Pause(wctx, idleEvery) {
				return
			}
		}
	}()
	return w
}

// close stops the sampler and waits for it to end.
func (w *idleWatch) close() { w.stop(); <-w.done }

// wait returns once no foreign request has started for IdleFor (counted
// from the start of the watch) and the server holds none, or an
// InUseError when that has not happened after the plan's readyTimeout (at
// least IdleFor + LingerFor); a target whose /metrics never answered is
// not judged (its steps say so).
func (w *idleWatch) wait(ctx context.Context) error {
	defer w.close()
	limit := max(w.r.Plan.Spec.ReadyTimeout.Duration, IdleFor+LingerFor)
	logged := false
	for {
		w.mu.Lock()
		rise, extra, answered := w.lastRise, w.extra, w.answered
		failed, running, waiting := w.failed, w.running, w.waiting
		w.mu.Unlock()
		now := time.Now()
		switch {
		case failed:
			return nil
		case answered && extra == 0 && now.Sub(rise) >= IdleFor:
			return nil
		case now.Sub(w.start) > limit:
			return &InUseError{Target: w.t.Name, Running: running, Waiting: waiting, Waited: now.Sub(w.start)}
		}
		if !logged && rise != w.start {
			w.r.logf("target %s is in use by someone else (%.0f running, %.0f waiting); waiting up to %s for it to be idle", w.t.Name, running, waiting, limit)
			logged = true
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
