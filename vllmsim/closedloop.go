package vllmsim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/rhoai-demo/step07/api/kpi"
	"github.com/rhoai-demo/step07/api/v1alpha1"
)

// ClosedLoop describes desynchronised closed-loop users driving the engine
// in virtual time (SimulateClosedLoop).
//
// Each user is a closed loop: send a request, wait for its last token,
// wait Turnaround, send the next. Every request has PromptTokens of prompt
// and exactly OutputTokens of output (ignore_eos), except each user's
// first: by default users start at a random point of their life, so the
// first request of each has an output length drawn uniformly from
// 1..OutputTokens (seeded by Seed; see Phases). All first requests arrive
// at time 0. Spreading them over an iteration or two as well would add
// nothing: the phase that persists is where a user's completions fall in
// the run of iterations, set by its first output length, while every later
// arrival comes Turnaround after an iteration end whatever the first did.
// With fixed output lengths the users' relative phases persist (a cycle
// lasts the same number of iterations for everyone until the KV cache
// forces preemptions), so the steady state depends on this draw: average
// several seeds (TrueBreakingPoint pools them).
type ClosedLoop struct {
	// Users is the number of closed-loop users (the concurrency).
	Users int
	// PromptTokens and OutputTokens are every request's prompt and exact
	// output length (ignore_eos). Prompts are unique, as the load
	// generator's are: they never hit the prefix cache.
	PromptTokens, OutputTokens int
	// Warmup and Window are virtual time from the start: the statistics
	// cover requests that arrive in [Warmup, Warmup+Window) and gauge
	// samples taken in it. Warmup should cover the start-up transient (a
	// few request lifetimes).
	Warmup, Window time.Duration
	// SampleEvery is how often the waiting/running/KV gauges are sampled,
	// as a scraper of /metrics would. Each sample falls at a seeded random
	// point of its SampleEvery slot, so samples do not lock onto the
	// iteration period (virtual durations are exact; a real scraper drifts).
	SampleEvery time.Duration
	// Turnaround is the client delay between a response's last token and
	// the user's next arrival (the HTTP round trip), e.g. 500µs. It is a
	// property of the client, not of the model: Config.TimeScale does not
	// scale it.
	Turnaround time.Duration
	// Seed draws the users' initial phases and the sample jitter.
	Seed uint64
	// Phases sets the first requests' output lengths (default PhasesRandom).
	Phases Phases
	// Draw, when set, gives request n's prompt and output tokens in place
	// of PromptTokens and OutputTokens (the sweep's own draw:
	// v1alpha1.Scenario.Draw, for spread lengths and mixes); n counts the
	// run's arrivals from Seed<<32. PromptTokens and OutputTokens are then
	// the longest a request may be (checked against the context and KV
	// cache), and the first requests' share of their output applies to
	// the drawn output.
	Draw func(n uint64) (prompt, output int)
}

// Phases is how closed-loop users start.
type Phases uint8

const (
	// PhasesRandom: each user's first output length is uniform in
	// 1..OutputTokens (seeded): users at random points of their life, the
	// product's reference.
	PhasesRandom Phases = iota
	// PhasesEven: user i's first output length is (i+0.5)/Users of
	// OutputTokens, evenly spread. A best case: no two users share a
	// phase, so the KV demand stays flat.
	PhasesEven
	// PhasesTogether: every first request is full length, one
	// synchronised wave (no desynchronisation).
	PhasesTogether
)

// ClosedLoopResult is what a closed-loop run measured. Latencies are in
// virtual seconds (scaled by Config.TimeScale).
type ClosedLoopResult struct {
	Users int
	// Requests is the number of window arrivals that finished.
	Requests int
	// Censored is the number of window arrivals still unfinished when the
	// run ended (Window after the window's end at most).
	Censored int
	// TTFT holds every window arrival's time to first token, in arrival
	// order per run; a censored request without a token counts the time it
	// waited so far (a lower bound).
	TTFT []float64
	// TTFTP95 is the 95th percentile of TTFT, interpolated linearly between
	// the closest ranks (numpy's default).
	TTFTP95 float64
	// TPOTMean is the mean time per output token after the first, over the
	// finished requests with more than one output token.
	TPOTMean float64
	// Samples is the number of gauge samples in the window; WaitingFraction
	// the share of them with waiting > 0, WaitingMax the largest waiting.
	Samples         int
	WaitingFraction float64
	WaitingMax      int
	// MeanWaiting and MeanRunning average the waiting and running gauges
	// over the samples; KVMax is the largest KV cache usage sampled (0..1).
	MeanWaiting, MeanRunning, KVMax float64
	// Preemptions counts preemptions in iterations that began in the window.
	Preemptions int

	// sums for pooling
	tpotSum     float64
	tpotCount   int
	waitingPos  int
	waitingSum  float64
	runningSum  float64
	virtualTime time.Duration
}

// clUser is one closed-loop user: its request in flight (nil between the
// last token and the next arrival) and whether that request arrived in the
// window.
type clUser struct {
	cur      *seq
	inWindow bool
}

type clArrival struct {
	at   time.Time
	user int
}

// SimulateClosedLoop runs cl against an engine built from cfg (as New
// would build it, TimeScale applied, without metrics) in virtual time. It
// is pure: no clock, no goroutines; the same cfg and cl give the same result.
//
// Events follow the real server loop (Server.loop). An iteration begins;
// requests that arrive while it runs join the waiting queue and are
// admitted at the next begin; at its end the finished requests leave, their
// users' next requests are due Turnaround later, every arrival due by then
// is queued and the next iteration begins at once. An idle engine waits for
// the next arrival. In fixed-latency mode an arrival wakes the engine at
// once, as in the server. A gauge sample at time t sees every event up to
// and including t, as a scrape between the engine's steps does.
//
// After the window the run goes on, with every user still sending, until
// every window arrival has finished or Window more has passed.
func SimulateClosedLoop(cfg Config, cl ClosedLoop) (ClosedLoopResult, error) {
	if err := cfg.Validate(); err != nil {
		return ClosedLoopResult{}, err
	}
	switch {
	case cl.Users < 1:
		return ClosedLoopResult{}, errors.New("closed loop: users must be positive")
	case cl.PromptTokens < 1 || cl.OutputTokens < 1:
		return ClosedLoopResult{}, errors.New("closed loop: prompt and output tokens must be positive")
	case cl.Warmup < 0 || cl.Window <= 0 || cl.Turnaround < 0:
		return ClosedLoopResult{}, errors.New("closed loop: need warmup >= 0, window > 0, turnaround >= 0")
	case cl.SampleEvery <= 0 || cl.SampleEvery > cl.Window:
		return ClosedLoopResult{}, errors.New("closed loop: sample period must be within (0, window]")
	case cl.Phases > PhasesTogether:
		return ClosedLoopResult{}, fmt.Errorf("closed loop: unknown phases %d", cl.Phases)
	case cl.PromptTokens+cl.OutputTokens > cfg.MaxModelLen:
		return ClosedLoopResult{}, fmt.Errorf("closed loop: %d prompt + %d output tokens exceed max-model-len %d", cl.PromptTokens, cl.OutputTokens, cfg.MaxModelLen)
	}
	e := newEngine(cfg, nil)
	if !e.fits(cl.PromptTokens, cl.OutputTokens) {
		return ClosedLoopResult{}, fmt.Errorf("closed loop: a request of %d tokens does not fit the KV cache of %d tokens", cl.PromptTokens+cl.OutputTokens, cfg.KVCacheTokens)
	}
	if c := e.cfg; !c.FixedLatency && c.IterFixed+c.PerDecodeSeq <= 0 {
		return ClosedLoopResult{}, errors.New("closed loop: a decode iteration must take time (iter-fixed + per-decode-seq, scaled, is 0)")
	}

	rng := rand.New(rand.NewPCG(cl.Seed, 0x636c6f736564))
	start := time.Unix(0, 0)
	winStart := start.Add(cl.Warmup)
	winEnd := winStart.Add(cl.Window)
	stopAt := winEnd.Add(cl.Window)
	res := ClosedLoopResult{Users: cl.Users}

	users := make([]clUser, cl.Users)
	var queue []clArrival // due arrivals, in time order (finish times only grow)
	outstanding := 0      // window arrivals not finished
	drawn := cl.Seed << 32
	arrive := func(a clArrival, first bool) {
		prompt, full := cl.PromptTokens, cl.OutputTokens
		if cl.Draw != nil {
			drawn++
			prompt, full = cl.Draw(drawn)
			prompt, full = min(max(prompt, 1), cl.PromptTokens), min(max(full, 1), cl.OutputTokens)
		}
		target := full
		if first {
			switch cl.Phases {
			case PhasesEven:
				target = max(1, (full*(2*a.user+1)+cl.Users)/(2*cl.Users))
			case PhasesTogether:
			default:
				target = 1 + rng.IntN(full)
			}
		}
		s := &seq{id: uint64(a.user), prompt: prompt, target: target, stopReason: ReasonLength, arrival: a.at}
		in := !a.at.Before(winStart) && a.at.Before(winEnd)
		users[a.user] = clUser{cur: s, inWindow: in}
		if in {
			outstanding++
		}
		e.add(s)
	}
	for u := range users {
		arrive(clArrival{start, u}, true)
	}

	nSamples := int(cl.Window / cl.SampleEvery)
	k := 0
	sampleAt := func() time.Time {
		return winStart.Add(time.Duration((float64(k) + rng.Float64()) * float64(cl.SampleEvery)))
	}
	nextSample := sampleAt()
	sample := func() {
		w, r, kv := e.numWaiting(), e.numRunning(), e.kvUsage()
		res.Samples++
		if w > 0 {
			res.waitingPos++
		}
		res.WaitingMax = max(res.WaitingMax, w)
		res.waitingSum += float64(w)
		res.runningSum += float64(r)
		res.KVMax = max(res.KVMax, kv)
		k++
		if k < nSamples {
			nextSample = sampleAt()
		}
	}
	// advance processes the arrivals and samples before limit, in time order.
	advance := func(limit time.Time) {
		for {
			arr := len(queue) > 0 && queue[0].at.Before(limit)
			smp := k < nSamples && nextSample.Before(limit)
			switch {
			case arr && (!smp || !nextSample.Before(queue[0].at)):
				arrive(queue[0], false)
				queue = queue[1:]
			case smp:
				sample()
			default:
				return
			}
		}
	}
	finish := func(s *seq, now time.Time) {
		u := &users[s.id]
		if u.inWindow {
			outstanding--
			res.Requests++
			res.TTFT = append(res.TTFT, s.firstTok.Sub(s.arrival).Seconds())
			if s.generated > 1 {
				res.tpotSum += s.lastTok.Sub(s.firstTok).Seconds() / float64(s.generated-1)
				res.tpotCount++
			}
		}
		*u = clUser{}
		queue = append(queue, clArrival{now.Add(cl.Turnaround), int(s.id)})
	}

	var batch []*seq
	now := start
	inIter := false
	for {
		if inIter {
			if e.cfg.FixedLatency {
				batch = append(batch[:0], e.fixed...)
			} else {
				batch = append(batch[:0], e.running...)
			}
			e.end(now)
			for _, s := range batch {
				if s.state == stateDone {
					finish(s, now)
				}
			}
		}
		// Arrivals due by now join before the begin (those before now already
		// have); samples at now come after it.
		for len(queue) > 0 && !queue[0].at.After(now) {
			arrive(queue[0], false)
			queue = queue[1:]
		}
		if !now.Before(winEnd) && (outstanding == 0 || !now.Before(stopAt)) {
			break
		}
		p0 := e.preemptions
		it, ok := e.begin(now)
		if !now.Before(winStart) && now.Before(winEnd) {
			res.Preemptions += e.preemptions - p0
		}
		var next time.Time
		inIter = ok
		switch {
		case ok:
			next = now.Add(it.Duration)
			if e.cfg.FixedLatency && len(queue) > 0 && queue[0].at.Before(next) {
				next = queue[0].at // an arrival wakes the fixed-latency loop
			}
		case len(queue) > 0:
			next = queue[0].at
		default:
			return ClosedLoopResult{}, errors.New("closed loop: engine idle with no arrival due (internal error)")
		}
		if !next.After(now) && !inIter {
			return ClosedLoopResult{}, errors.New("closed loop: time does not advance (internal error)")
		}
		advance(next)
		now = next
	}
	for i := range users {
		u := &users[i]
		if u.cur == nil || !u.inWindow {
			continue
		}
		res.Censored++
		if u.cur.generated > 0 {
			res.TTFT = append(res.TTFT, u.cur.firstTok.Sub(u.cur.arrival).Seconds())
		} else {
			res.TTFT = append(res.TTFT, now.Sub(u.cur.arrival).Seconds())
		}
	}
	res.virtualTime = now.Sub(start)
	res.finish()
	return res, nil
}

// finish computes the derived fields from the sums.
func (r *ClosedLoopResult) finish() {
	r.TTFTP95 = percentile(r.TTFT, 0.95)
	r.TPOTMean, r.WaitingFraction, r.MeanWaiting, r.MeanRunning = 0, 0, 0, 0
	if r.tpotCount > 0 {
		r.TPOTMean = r.tpotSum / float64(r.tpotCount)
	}
	if r.Samples > 0 {
		n := float64(r.Samples)
		r.WaitingFraction = float64(r.waitingPos) / n
		r.MeanWaiting = r.waitingSum / n
		r.MeanRunning = r.runningSum / n
	}
}

// PoolClosedLoop merges runs at the same user count (different seeds) as
// if they were one measurement: TTFTs and gauge samples are pooled, so the
// percentile and the fractions are over all of them.
func PoolClosedLoop(runs ...ClosedLoopResult) ClosedLoopResult {
	var p ClosedLoopResult
	for _, r := range runs {
		p.Users = r.Users
		p.Requests += r.Requests
		p.Censored += r.Censored
		p.TTFT = append(p.TTFT, r.TTFT...)
		p.Samples += r.Samples
		p.WaitingMax = max(p.WaitingMax, r.WaitingMax)
		p.KVMax = max(p.KVMax, r.KVMax)
		p.Preemptions += r.Preemptions
		p.tpotSum += r.tpotSum
		p.tpotCount += r.tpotCount
		p.waitingPos += r.waitingPos
		p.waitingSum += r.waitingSum
		p.runningSum += r.runningSum
		p.virtualTime += r.virtualTime
	}
	p.finish()
	return p
}

// percentile interpolates linearly between the closest ranks (numpy's
// default); 0 for no values.
func percentile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	h := q * float64(len(s)-1)
	lo := int(math.Floor(h))
	if lo+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
}

// Broken returns the breaking rules (kpi.Rules) a level breaks against
// sla, an SLA at time scale 1 that timeScale scales as a time-scaled plan's
// (v1alpha1.SweepSettings.EffectiveSLA). No request fails in virtual time
// (censored ones are still running), so success is 100 %.
func Broken(r ClosedLoopResult, sla v1alpha1.SLA, timeScale float64) []string {
	eff := v1alpha1.SweepSettings{SLA: sla, TimeScale: timeScale}.EffectiveSLA()
	return kpi.Broken(eff, func(rule string) (float64, bool) {
		switch rule {
		case kpi.RuleTTFT:
			return r.TTFTP95, len(r.TTFT) > 0
		case kpi.RuleQueue:
			return r.WaitingFraction, r.Samples > 0
		case kpi.RuleSuccess:
			return 1, r.Requests > 0
		}
		return 0, false
	})
}

// DefaultSLA is the product's default SLA (v1alpha1.SLA.Default): the
// breaking rules the ground truth applies unless told otherwise.
func DefaultSLA() v1alpha1.SLA {
	var sla v1alpha1.SLA
	sla.Default()
	return sla
}

// TruthOptions tune TrueBreakingPoint; zero fields take the defaults.
type TruthOptions struct {
	// Seeds is how many initial-phase draws are pooled per user count
	// (default 4); Seed is the first (seeds Seed, Seed+1, ...).
	Seeds int
	Seed  uint64
	// Turnaround is the client's round trip between a response's end and
	// the next request (default 500µs; not scaled by TimeScale).
	Turnaround time.Duration
	// WarmupLifetimes and WindowLifetimes size the warmup and the window in
	// request lifetimes at the user count being run (an estimate from the
	// iteration costs: see lifetime), defaults 3 and 12. Window, when set,
	// fixes the window in virtual time instead (the warmup stays in lifetimes).
	WarmupLifetimes, WindowLifetimes float64
	Window                           time.Duration
	// SamplesPerLifetime sets the gauge sample period (default 50 a lifetime).
	SamplesPerLifetime int
	// Phases is how the users start (default PhasesRandom).
	Phases Phases
	// Draw gives each request's lengths (ClosedLoop.Draw); prompt and
	// output are then the longest, and Mean the mean lengths the
	// lifetime estimate sizes the warmup and the window by.
	Draw func(n uint64) (prompt, output int)
	Mean [2]int
}

// BreakingPoint is the lowest user count that breaks and the rules it
// breaks; Users is 0 when no count up to the maximum breaks.
type BreakingPoint struct {
	Users int
	Rule  string
	Rules []string
}

// TrueBreakingPoint is the ground truth a load generator's sweep should
// find: it runs SimulateClosedLoop at every user count from 1 up, pooling
// opts.Seeds phase draws per count, and stops at the first count that
// breaks sla's rules (Broken; or after maxUsers). It returns the breaking point and the
// pooled result of every count run, in order (levels[i] is i+1 users).
func TrueBreakingPoint(cfg Config, prompt, output, maxUsers int, sla v1alpha1.SLA, opts TruthOptions) (BreakingPoint, []ClosedLoopResult, error) {
	if err := cfg.Validate(); err != nil {
		return BreakingPoint{}, nil, err
	}
	if maxUsers < 1 {
		return BreakingPoint{}, nil, errors.New("true breaking point: max users must be positive")
	}
	var levels []ClosedLoopResult
	for u := 1; u <= maxUsers; u++ {
		r, err := RunLevel(cfg, prompt, output, u, opts)
		if err != nil {
			return BreakingPoint{}, levels, err
		}
		levels = append(levels, r)
		if broken := Broken(r, sla, cfg.TimeScale); len(broken) > 0 {
			return BreakingPoint{Users: u, Rule: broken[0], Rules: broken}, levels, nil
		}
	}
	return BreakingPoint{}, levels, nil
}

// RunLevel runs users closed-loop users opts.Seeds times (seeds opts.Seed,
// opts.Seed+1, ...) and pools the runs (PoolClosedLoop).
func RunLevel(cfg Config, prompt, output, users int, opts TruthOptions) (ClosedLoopResult, error) {
	opts = opts.withDefaults()
	life := lifetime(cfg, prompt, output, users)
	if opts.Draw != nil && opts.Mean[0] > 0 && opts.Mean[1] > 0 {
		life = lifetime(cfg, opts.Mean[0], opts.Mean[1], users)
	}
	window := opts.Window
	if window <= 0 {
		window = time.Duration(opts.WindowLifetimes * float64(life))
	}
	cl := ClosedLoop{
		Users: users, PromptTokens: prompt, OutputTokens: output,
		Warmup:      time.Duration(opts.WarmupLifetimes * float64(life)),
		Window:      window,
		SampleEvery: max(1, life/time.Duration(opts.SamplesPerLifetime)),
		Turnaround:  opts.Turnaround,
		Phases:      opts.Phases,
		Draw:        opts.Draw,
	}
	runs := make([]ClosedLoopResult, 0, opts.Seeds)
	for i := range opts.Seeds {
		cl.Seed = opts.Seed + uint64(i)
		r, err := SimulateClosedLoop(cfg, cl)
		if err != nil {
			return ClosedLoopResult{}, err
		}
		runs = append(runs, r)
	}
	return PoolClosedLoop(runs...), nil
}

func (o TruthOptions) withDefaults() TruthOptions {
	if o.Seeds <= 0 {
		o.Seeds = 4
	}
	if o.Turnaround <= 0 {
		o.Turnaround = 500 * time.Microsecond
	}
	if o.WarmupLifetimes <= 0 {
		o.WarmupLifetimes = 3
	}
	if o.WindowLifetimes <= 0 {
		o.WindowLifetimes = 12
	}
	if o.SamplesPerLifetime <= 0 {
		o.SamplesPerLifetime = 50
	}
	return o
}

// lifetime estimates how long one request lives at this user count with
// the batch full (queueing aside): its iterations (prefill chunks, one
// before admission, one per output token) times an iteration with every
// user decoding and the prefill work spread over the lifetime.
func lifetime(cfg Config, prompt, output, users int) time.Duration {
	c := cfg.effective()
	if c.FixedLatency {
		return c.IterFixed + time.Duration(prompt)*c.PerPrefillToken + time.Duration(output)*(c.IterFixed+c.PerDecodeSeq)
	}
	iters := output + 1 + (prompt+c.MaxBatchedTokens-1)/c.MaxBatchedTokens
	batch := min(users, c.MaxNumSeqs)
	prefill := min(c.MaxBatchedTokens, prompt*batch/iters)
	iter := c.IterFixed + time.Duration(batch)*c.PerDecodeSeq + time.Duration(prefill)*c.PerPrefillToken
	return max(time.Duration(iters)*iter, time.Microsecond)
}
