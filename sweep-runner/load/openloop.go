package load

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/client"
	"github.com/rhoai-demo/step07/sweep-runner/histogram"
	"gonum.org/v1/gonum/stat/distuv"
)

// The open loop: requests arrive at a rate, on a schedule drawn before they
// are sent, whether or not earlier ones finished. A request's latency (TTFT,
// e2e) counts from its scheduled send time, not from when the client got
// round to sending it, so a client that falls behind (scheduler lag, the
// MaxInFlight bound) shows the wait in the latencies instead of hiding the
// queue (coordinated omission).
//
// Requests run on a pool of at most MaxInFlight workers. At its scheduled
// time a request goes to an idle worker, or a new one while fewer than
// MaxInFlight are busy; otherwise it waits in a FIFO queue for the next
// worker to finish (its latency still counting from its schedule), and the
// step records that the client bound was reached: how many requests waited,
// for how long in total the bound was held, and the longest wait. The queue
// holds schedules, not goroutines, so an overloaded step costs the client a
// few bytes a waiting request.
//
// Warmup, window, tail, censoring and refusals are the closed loop's, with
// the warmup's "one request lifetime" read at a rate: the warmup lasts at
// least Warmup and, with SteadyWarmup, until every request scheduled in its
// first Warmup has finished and at least one request has (so it lasts at
// least one request lifetime at this rate, whatever the request length),
// bounded by MaxWarmup. A request belongs to the phase its scheduled time
// falls in. A window request still waiting for a worker when the window
// closes is waited for like one in flight (and not waited for once it has
// waited longer than StallAfter); one never sent is incomplete, and enters
// TTFT with the time it waited, a lower bound. Once the client bound has
// been reached the step is broken whatever else it measures, so it waits
// neither for steady state after Warmup nor for MinRequests after Duration.

// OpenLoop is the arrival process of an open-loop step.
type OpenLoop struct {
	// Rate of arrivals, requests per second (> 0).
	Rate float64
	// Process is v1alpha1.ArrivalPoisson (exponential gaps; the default),
	// v1alpha1.ArrivalConstant (one request every 1/Rate) or
	// v1alpha1.ArrivalGamma (gamma gaps of shape Burstiness, mean 1/Rate:
	// vllm bench serve's --burstiness; below 1 burstier than Poisson).
	Process    string
	Burstiness float64
	// Seed of the Poisson gaps: one seed, one schedule.
	Seed uint64
	// MaxInFlight bounds the requests sent and not yet finished (default
	// v1alpha1.DefaultMaxInFlight).
	MaxInFlight int
}

// OpenResult is an open-loop step's result: the closed loop's Result
// (counts by scheduled time, latencies from the scheduled send time,
// BusySeconds from the actual send) and what the arrivals did.
type OpenResult struct {
	Result
	// Sent: requests sent (left the client) while the window was open;
	// divided by the window it is the achieved rate.
	Sent int
	// SendDelay of the window's requests that were sent: scheduled send
	// time to actual send, seconds (scheduler lag, waits for a worker).
	SendDelay []float64
	// PeakInFlight: the most requests in flight at once.
	PeakInFlight int
	// ArrivalCV: the coefficient of variation (standard deviation over
	// mean) of the gaps between the window's scheduled arrivals: 0 for a
	// constant rate, about 1 for Poisson, above 1 for bursts.
	ArrivalCV float64
	// BoundRequests: requests scheduled before the window closed that had
	// to wait because MaxInFlight were in flight; BoundTime: how long,
	// from the step's start to the window's end, MaxInFlight requests were
	// in flight; BoundMaxWait: the longest wait for a worker of those
	// requests that were sent.
	BoundRequests int
	BoundTime     time.Duration
	BoundMaxWait  time.Duration
}

// schedule draws an open loop's send times, as offsets from the step's
// start: Poisson arrivals have independent exponential gaps of mean 1/rate
// from a seeded generator (the same seed, the same times); constant ones
// are exactly k/rate.
type schedule struct {
	rate    float64
	poisson bool
	rng     *rand.Rand
	// gamma draws the gaps of a gamma process (gonum's, from the same
	// seeded source); nil for Poisson and constant.
	gamma *distuv.Gamma
	k     int64
	at    float64 // seconds, Poisson and gamma
}

func newSchedule(process string, burstiness, rate float64, seed uint64) *schedule {
	s := &schedule{rate: rate, poisson: process != v1alpha1.ArrivalConstant}
	src := rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)
	s.rng = rand.New(src)
	if process == v1alpha1.ArrivalGamma && burstiness > 0 {
		// shape k, rate k x rate: mean 1/rate, CV 1/sqrt(k)
		s.gamma = &distuv.Gamma{Alpha: burstiness, Beta: burstiness * rate, Src: src}
	}
	return s
}

// next is the offset of the next arrival.
func (s *schedule) next() time.Duration {
	if s.gamma != nil {
		s.at += s.gamma.Rand()
		return time.Duration(s.at * 1e9)
	}
	if s.poisson {
		s.at += s.rng.ExpFloat64() / s.rate
		return time.Duration(s.at * 1e9)
	}
	d := time.Duration(float64(s.k) / s.rate * 1e9)
	s.k++
	return d
}

// arrival is a scheduled request.
type arrival struct {
	sched time.Time
	n     uint64
	phase int32 // by the controller's phase when it was dispatched
	// early: scheduled within the warmup's first Warmup (see SteadyWarmup);
	// queued: it waited for a worker.
	early, queued bool
}

type openState struct {
	*state
	ol      OpenLoop
	streams []*client.Stream
	// sched[i] and tok0[i]: the scheduled time (UnixNano) of the request
	// on slot i and the slot's token count when it was sent, so the tail
	// reads a request without a first token as silent since its schedule.
	sched, tok0 []atomic.Int64
	wg          sync.WaitGroup

	pool     sync.Mutex
	queue    []arrival // FIFO of arrivals waiting for a worker, from head
	head     int
	free     []int // idle slots
	inflight int
	peak     int
	// boundSince: when in flight reached MaxInFlight; boundTime: the time
	// spent there before (closed intervals); boundReq, boundWait: requests
	// that waited (before the window closed) and the longest wait.
	boundSince time.Time
	boundTime  time.Duration
	boundReq   int
	boundWait  time.Duration
	boundHit   atomic.Bool
	// sends: scheduled and actual send times of the requests sent.
	sends [][2]time.Time

	// early: requests scheduled within Warmup that have not finished;
	// pastWarm: the schedule has gone past Warmup; anyDone: a request
	// has finished.
	early    atomic.Int64
	pastWarm atomic.Bool
	anyDone  atomic.Bool
}

// RunOpen executes one open-loop step: cfg as for Run (Concurrency, Desync
// and Ramp do not apply), ol the arrivals. It returns an error for an
// invalid config and a *RefusedError when the server refuses the scenario.
func RunOpen(ctx context.Context, cfg Config, ol OpenLoop) (*OpenResult, error) {
	if !(ol.Rate > 0) || cfg.Client == nil || cfg.Prompt == nil || cfg.Duration <= 0 || cfg.RequestTimeout <= 0 || ol.MaxInFlight < 0 {
		return nil, errors.New("load: invalid open-loop step config")
	}
	if ol.MaxInFlight == 0 {
		ol.MaxInFlight = v1alpha1.DefaultMaxInFlight
	}
	if cfg.Counter == nil {
		cfg.Counter = new(atomic.Uint64)
	}
	if cfg.CheckEvery <= 0 {
		cfg.CheckEvery = 250 * time.Millisecond
	}
	if cfg.RefuseAfter == 0 {
		cfg.RefuseAfter = 8
	}
	stepCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	st := &state{cfg: &cfg, base: time.Now(), users: make([]userSlot, ol.MaxInFlight),
		abort: cancel, itl: new(histogram.Histogram), skew: new(histogram.Histogram)}
	if cfg.Warmup <= 0 && !cfg.SteadyWarmup {
		st.phase.Store(phaseWindow)
	}
	op := &openState{state: st, ol: ol, streams: make([]*client.Stream, ol.MaxInFlight), free: make([]int, ol.MaxInFlight),
		sched: make([]atomic.Int64, ol.MaxInFlight), tok0: make([]atomic.Int64, ol.MaxInFlight)}
	for i := range op.free {
		op.free[i] = ol.MaxInFlight - 1 - i
	}
	op.wg.Add(1)
	go op.schedule(stepCtx)
	res := &OpenResult{Result: Result{Errors: map[string]int{}, ITL: st.itl, ITLSkew: st.skew}}
	ws, we, tok0, tok1 := st.measure(stepCtx, openArrivals{op, res}, &res.Result)
	cancel()
	op.wg.Wait()
	res.Interrupted = ctx.Err() != nil
	if e := st.refused.Load(); e != nil && !res.Interrupted {
		return nil, e
	}
	res.Start, res.WindowStart, res.WindowEnd = st.base, ws, we
	// Phases by scheduled time: the dispatcher's phase can be a scheduling
	// lag late.
	for i := range st.records {
		st.records[i].phase = phaseAt(st.records[i].r.Start, ws, we)
	}
	st.aggregate(&res.Result, ws, we, tok1-tok0)
	for _, s := range op.sends {
		if !s[1].Before(ws) && s[1].Before(we) {
			res.Sent++
		}
		if phaseAt(s[0], ws, we) == phaseWindow {
			res.SendDelay = append(res.SendDelay, s[1].Sub(s[0]).Seconds())
		}
	}
	res.ArrivalCV = arrivalCV(op.sends, ws, we)
	res.PeakInFlight = op.peak
	res.BoundMaxWait = op.boundWait // window requests sent in the tail included
	return res, nil
}

// arrivalCV is the coefficient of variation of the gaps between the
// scheduled times of the window's sent requests (0 with fewer than three).
func arrivalCV(sends [][2]time.Time, ws, we time.Time) float64 {
	var at []time.Time
	for _, s := range sends {
		if phaseAt(s[0], ws, we) == phaseWindow {
			at = append(at, s[0])
		}
	}
	if len(at) < 3 {
		return 0
	}
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	var sum, sq float64
	for i := 1; i < len(at); i++ {
		g := at[i].Sub(at[i-1]).Seconds()
		sum += g
		sq += g * g
	}
	n := float64(len(at) - 1)
	mean := sum / n
	if mean <= 0 {
		return 0
	}
	return math.Sqrt(max(0, sq/n-mean*mean)) / mean
}

// phaseAt is the phase of a request scheduled at t.
func phaseAt(t, ws, we time.Time) int32 {
	switch {
	case t.Before(ws):
		return phaseWarmup
	case t.Before(we):
		return phaseWindow
	}
	return phaseTail
}

// schedule dispatches arrivals at their scheduled times until ctx ends. A
// scheduler that falls behind dispatches the overdue arrivals at once, each
// with its own scheduled time.
func (op *openState) schedule(ctx context.Context) {
	defer op.wg.Done()
	sch := newSchedule(op.ol.Process, op.ol.Burstiness, op.ol.Rate, op.ol.Seed)
	for {
		off := sch.next()
		early := off < op.cfg.Warmup
		if !early {
			op.pastWarm.Store(true)
		}
		at := op.base.Add(off)
		if d := time.Until(at); d > 0 {
			if !Pause(ctx, d) {
				return
			}
		} else if ctx.Err() != nil {
			return
		}
		if early {
			op.early.Add(1)
		}
		op.dispatch(ctx, arrival{sched: at, n: op.cfg.Counter.Add(1), phase: op.phase.Load(), early: early})
	}
}

// dispatch hands an arrival to a new worker, or queues it when MaxInFlight
// are in flight (the client bound).
func (op *openState) dispatch(ctx context.Context, a arrival) {
	op.pool.Lock()
	if op.inflight < op.ol.MaxInFlight {
		op.inflight++
		op.peak = max(op.peak, op.inflight)
		if op.inflight == op.ol.MaxInFlight {
			op.boundSince = time.Now()
		}
		slot := op.free[len(op.free)-1]
		op.free = op.free[:len(op.free)-1]
		op.pool.Unlock()
		op.wg.Add(1)
		go op.worker(ctx, slot, a)
		return
	}
	a.queued = true
	op.queue = append(op.queue, a)
	if a.phase != phaseTail {
		op.boundReq++
		op.boundHit.Store(true)
	}
	op.pool.Unlock()
}

// worker runs arrivals on one slot: the one it was started with, then the
// queued ones, oldest first, until the queue is empty.
func (op *openState) worker(ctx context.Context, slot int, a arrival) {
	defer op.wg.Done()
	for {
		op.send(ctx, slot, a)
		op.pool.Lock()
		if op.head < len(op.queue) {
			a = op.queue[op.head]
			op.head++
			if op.head == len(op.queue) {
				op.queue, op.head = op.queue[:0], 0
			}
			op.pool.Unlock()
			continue
		}
		if op.inflight == op.ol.MaxInFlight {
			op.boundTime += time.Since(op.boundSince)
		}
		op.inflight--
		op.free = append(op.free, slot)
		op.pool.Unlock()
		return
	}
}

// send sends one arrival on slot (unless the step has ended: then it is
// incomplete, never sent), settles its outcome with its latency counted
// from the scheduled time and hands it to the tally.
func (op *openState) send(ctx context.Context, slot int, a arrival) {
	cfg := op.cfg
	o := outcome{phase: a.phase, out: cfg.OutputTokens, prompt: cfg.Prompt.Tokens}
	if ctx.Err() != nil {
		now := time.Now()
		o.r = client.Result{Start: a.sched, End: now, Incomplete: true}
		o.sent = now // never in flight
	} else {
		out, words := cfg.lengths(a.n, false)
		body := cfg.body(a.n, words, out)
		u := &op.users[slot]
		s := op.streams[slot]
		if s == nil {
			s = cfg.Client.NewStream()
			s.Tokens, s.Activity = &u.tokens, &u.activity
			op.streams[slot] = s
		}
		var obs client.Observer
		s.ITLSkew = nil
		if a.phase == phaseWindow {
			obs = op.itl
			s.ITLSkew = op.skew
		}
		op.sched[slot].Store(a.sched.UnixNano())
		op.tok0[slot].Store(u.tokens.Load())
		u.inflight.Store(a.phase + 1)
		o.out = out
		s.Do(ctx, cfg.RequestTimeout, cfg.Prompt.Path(), body, client.Window{}, obs, &o.r)
		u.inflight.Store(0)
		o.settle(time.Now(), cfg.StallAfter, cfg.Prompt.Tokens)
		o.sent = o.r.Start
		if o.sent.IsZero() {
			o.sent = o.r.End
		}
		o.r.Start = a.sched
		op.pool.Lock()
		op.sends = append(op.sends, [2]time.Time{a.sched, o.sent})
		if a.queued && a.phase != phaseTail {
			op.boundWait = max(op.boundWait, o.sent.Sub(a.sched))
		}
		op.pool.Unlock()
	}
	if a.early {
		op.early.Add(-1)
	}
	if !o.r.Incomplete {
		op.anyDone.Store(true)
	}
	op.add(o)
	op.checkRefusal(&o.r)
}

// openArrivals are an open loop's rates as the measuring loop's arrivals
// (state.measure); res receives the client bound as it stood when the
// window closed.
type openArrivals struct {
	*openState
	res *OpenResult
}

// warmed: at least Warmup and, with SteadyWarmup, until every request
// scheduled in its first Warmup has finished (at least one request
// lifetime at this rate). A step that reached the client bound is broken
// whatever else it measures: it need not wait for steady state.
func (o openArrivals) warmed(el time.Duration) (bool, string) {
	cfg := o.cfg
	if el >= cfg.Warmup && (!cfg.SteadyWarmup || o.boundHit.Load() || o.pastWarm.Load() && o.early.Load() == 0 && o.anyDone.Load()) {
		return true, ""
	}
	return false, fmt.Sprintf("%d requests scheduled in its first %s had not finished (finished any: %v)", o.early.Load(), cfg.Warmup, o.anyDone.Load())
}

// bounded: the client bound breaks the step whatever else it measures, so
// the window closes at its duration without waiting for requests that
// queue behind the bound.
func (o openArrivals) bounded(el time.Duration, fin int) (bool, string) {
	if !o.boundHit.Load() {
		return false, ""
	}
	if fin < o.cfg.MinRequests {
		return true, fmt.Sprintf("window closed at %s with %d finished requests (want %d): the client bound (maxInFlight %d) was reached", el.Round(time.Millisecond), fin, o.cfg.MinRequests, o.ol.MaxInFlight)
	}
	return true, ""
}

func (openArrivals) inFlight(time.Time) ([]float64, int) { return nil, 0 }

func (o openArrivals) closed(we time.Time) { o.snapshotBound(o.res, we) }

// busy: the arrivals go on until the window's requests, in flight or
// waiting for a worker, have finished (tailBusy).
func (o openArrivals) busy(now time.Time) bool { return o.tailBusy(now) }

// snapshotBound records the client bound as it stood when the window closed.
func (op *openState) snapshotBound(res *OpenResult, we time.Time) {
	op.pool.Lock()
	defer op.pool.Unlock()
	res.BoundRequests = op.boundReq
	res.BoundTime = op.boundTime
	if op.inflight == op.ol.MaxInFlight {
		res.BoundTime += we.Sub(op.boundSince)
	}
}

// tailBusy reports whether a window request is still in flight or waiting
// for a worker, and not silent for longer than StallAfter: since its last
// token, or since its scheduled time when it has none (its TTFT already
// exceeds StallAfter).
func (op *openState) tailBusy(now time.Time) bool {
	stall := op.cfg.StallAfter
	fresh := func(since int64) bool { return stall <= 0 || now.UnixNano()-since <= int64(stall) }
	for i := range op.users {
		u := &op.users[i]
		if u.inflight.Load() != phaseWindow+1 {
			continue
		}
		since := u.activity.Load()
		if u.tokens.Load() == op.tok0[i].Load() {
			since = op.sched[i].Load()
		}
		if fresh(since) {
			return true
		}
	}
	op.pool.Lock()
	defer op.pool.Unlock()
	for _, a := range op.queue[op.head:] {
		if a.phase == phaseWindow && fresh(a.sched.UnixNano()) {
			return true
		}
	}
	return false
}
