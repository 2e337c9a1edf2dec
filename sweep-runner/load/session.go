package load

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/client"
	"github.com/rhoai-demo/step07/sweep-runner/histogram"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// A Session keeps a closed loop's users running from one step to the next
// of one target and scenario, so that a step starts from the previous
// step's steady state instead of from a drained, cold server: going from c
// to c' users keeps the c users (their phases included), adds c'-c users
// whose first requests are random shares of a request (Desync), or retires
// users (their requests aborted, as a person closing the tab). The window
// opens once the server has settled: every added user has finished its
// first request and every request in flight was sent after the change (so
// at least the rest of one request lifetime), bounded by MaxWarmup. A step
// that re-measures the same concurrency changes nothing: the previous
// step's tail is its warmup.
//
// Requests belong to the step they started in. A request started in a
// step's tail and still running when the step ends is counted in that
// step (incomplete: carried over) and then runs on, outside every
// statistic, as part of the next step's warmup; requests started between
// two steps are the next step's warmup requests. Close aborts everything
// (a clean boundary: a new scenario, or after a broken step whose queue
// must empty).
type Session struct {
	cfg    Config // the workers' settings: the first step's
	ctx    context.Context
	cancel context.CancelFunc
	cur    atomic.Pointer[state]
	// active workers, in order of arrival; all: every worker ever started
	// (their token counters add up to the tokens received).
	active []*worker
	// retiring: retired users that may not have left yet.
	retiring []*worker
	mu       sync.Mutex // guards all
	all      []*worker
	wg       sync.WaitGroup
	// seed: the request counter when the session started; born: when its
	// first users started (its clean start).
	seed uint64
	born time.Time
}

// worker is one user of a session.
type worker struct {
	idx  int
	slot userSlot
	// ctx ends when the user is retired or the session closes.
	ctx    context.Context
	cancel context.CancelFunc
	gone   atomic.Bool
	// joined: the state of the step the user was added in (its first
	// finished request counts toward that step's settling).
	joined *state
	delay  time.Duration

	mu sync.Mutex
	// The request in flight: the state and phase it started in, when, and
	// how to abort it (nil st: none).
	st      *state
	phase   int32
	startNs int64
	abort   context.CancelFunc
}

// NewSession starts an empty session (no users) whose workers use cfg's
// client, prompt, lengths, population, timeouts and request counter.
func NewSession(ctx context.Context, cfg Config) (*Session, error) {
	if cfg.Client == nil || cfg.Prompt == nil || cfg.RequestTimeout <= 0 {
		return nil, errors.New("load: invalid session config")
	}
	if cfg.Counter == nil {
		cfg.Counter = new(atomic.Uint64)
	}
	if cfg.RefuseAfter == 0 {
		cfg.RefuseAfter = 8
	}
	s := &Session{cfg: cfg, seed: cfg.Counter.Load()}
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.cur.Store(s.newState(&s.cfg))
	return s, nil
}

// Users is the number of users running.
func (s *Session) Users() int { return len(s.active) }

// Close aborts every request and waits for the users to leave.
func (s *Session) Close() {
	s.cancel()
	s.wg.Wait()
}

func (s *Session) newState(cfg *Config) *state {
	return &state{cfg: cfg, sess: s, base: time.Now(), abort: s.cancel,
		itl: new(histogram.Histogram), skew: new(histogram.Histogram)}
}

// Run executes one step with fresh users and aborts what is left when it
// ends: a session of one step. It returns an error for an invalid config
// and a *RefusedError when the server refuses the scenario; failures of
// requests are counted in the result.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	s, err := NewSession(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Step(ctx, cfg)
}

// Step runs one step at cfg.Concurrency users (the session's first step
// starts them all; a later one adds or retires users), with cfg's warmup,
// window and tail settings. It returns an error for an invalid config and
// a *RefusedError when the server refuses the scenario (the session is
// then closed). A step interrupted by ctx has Result.Interrupted set and
// leaves the session closed.
func (s *Session) Step(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Concurrency < 1 || cfg.Duration <= 0 || cfg.RequestTimeout <= 0 {
		return nil, errors.New("load: invalid step config")
	}
	if cfg.CheckEvery <= 0 {
		cfg.CheckEvery = 250 * time.Millisecond
	}
	if cfg.RefuseAfter == 0 {
		cfg.RefuseAfter = s.cfg.RefuseAfter
	}
	stop := context.AfterFunc(ctx, s.cancel)
	defer stop()
	prev := s.cur.Load()
	st := s.newState(&cfg)
	from := len(s.active)
	fresh := from == 0
	if cfg.Warmup <= 0 && !cfg.SteadyWarmup && fresh {
		st.phase.Store(phaseWindow) // no warmup: the first requests are the window's
	}
	// Requests started between the steps are this step's warmup.
	s.cur.Store(st)
	prev.mu.Lock()
	st.records = append(st.records, prev.records...)
	prev.records, prev.forward = nil, st
	prev.mu.Unlock()
	// Their requests still in flight are this step's too, so that its end
	// carries them over (endStep) instead of dropping them.
	for _, w := range s.workers() {
		w.mu.Lock()
		if w.st == prev {
			w.st, w.phase = st, phaseWarmup
		}
		w.mu.Unlock()
	}

	change := time.Now()
	if fresh {
		s.born = change
	}
	added, retired := s.resize(st, cfg.Concurrency)
	settle := &results.Settle{From: from, Added: added, Retired: retired}
	if !fresh {
		// Judged, not assumed: settled once every added user finished its
		// first request and every request in flight was sent after the
		// change.
		st.ready = func() (bool, string) {
			waiting := 0
			for _, w := range s.active {
				w.mu.Lock()
				if w.st != nil && w.startNs < change.UnixNano() {
					waiting++
				}
				w.mu.Unlock()
			}
			left := 0
			for _, w := range s.retiring {
				if !w.gone.Load() {
					left++
				}
			}
			if done := st.firstDone.Load(); done >= int64(added) && waiting == 0 && left == 0 {
				return true, ""
			}
			return false, fmt.Sprintf("not settled: %d of %d added users had not finished a request, %d requests sent before the change still running",
				int64(added)-min(st.firstDone.Load(), int64(added)), added, waiting)
		}
	}
	res := &Result{Errors: map[string]int{}, ITL: st.itl, ITLSkew: st.skew}
	ws, we, tok0, tok1 := st.control(s.ctx, res)
	s.endStep(st)
	res.Interrupted = ctx.Err() != nil
	if e := st.refused.Load(); e != nil && !res.Interrupted {
		s.Close()
		return nil, e
	}
	if res.Interrupted {
		s.Close()
	}
	res.Start, res.WindowStart, res.WindowEnd = st.base, ws, we
	if !fresh {
		settle.Seconds = ws.Sub(change).Seconds()
		settle.Settled = res.WarmupSteady
		res.Settle = settle
	}
	st.aggregate(res, ws, we, tok1-tok0)
	return res, nil
}

// resize adds or retires users to reach n: added users start at once, each
// with a random share of a request (Desync); the most recent users are
// retired first, their requests aborted.
func (s *Session) resize(st *state, n int) (added, retired int) {
	s.retiring = s.retiring[:0]
	for len(s.active) > n {
		w := s.active[len(s.active)-1]
		s.active = s.active[:len(s.active)-1]
		w.cancel()
		s.retiring = append(s.retiring, w)
		retired++
	}
	ramp := min(st.cfg.Ramp, st.cfg.Warmup)
	k := n - len(s.active)
	for i := 0; len(s.active) < n; i++ {
		s.mu.Lock()
		w := &worker{idx: len(s.all), joined: st}
		s.all = append(s.all, w)
		s.mu.Unlock()
		w.ctx, w.cancel = context.WithCancel(s.ctx)
		w.delay = ramp * time.Duration(i) / time.Duration(k)
		s.active = append(s.active, w)
		s.wg.Add(1)
		go s.loop(w)
		added++
	}
	return added, retired
}

// endStep ends step st after its tail: window requests still running
// (silent for longer than StallAfter, not waited for) are aborted and
// their outcomes collected; then the next step's state takes over, and
// st's requests still in flight are counted there as carried over.
func (s *Session) endStep(st *state) {
	abortIf := func(f func(w *worker) bool) int {
		n := 0
		for _, w := range s.workers() {
			w.mu.Lock()
			if w.st == st && f(w) {
				if w.phase == phaseWindow && w.abort != nil {
					w.abort()
				}
				n++
			}
			w.mu.Unlock()
		}
		return n
	}
	isWindow := func(w *worker) bool { return w.phase == phaseWindow }
	if abortIf(isWindow) > 0 {
		// An aborted request returns at once; its outcome is recorded.
		deadline := time.Now().Add(2 * time.Second)
		for abortIf(isWindow) > 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
	next := s.newState(&s.cfg)
	s.cur.Store(next)
	st.mu.Lock()
	defer st.mu.Unlock()
	st.closed = true
	for _, w := range s.workers() {
		w.mu.Lock()
		if w.st == st {
			st.carried = append(st.carried, w.phase)
		}
		w.mu.Unlock()
	}
}

func (s *Session) workers() []*worker {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*worker(nil), s.all...)
}

// loop is one user: it builds a request, sends it, settles the outcome and
// hands it to the step it started in, then starts the next, until it is
// retired or the session closes.
func (s *Session) loop(w *worker) {
	defer s.wg.Done()
	defer w.gone.Store(true)
	cfg := &s.cfg
	if w.delay > 0 && !Pause(w.ctx, w.delay) {
		return
	}
	str := cfg.Client.NewStream()
	str.Tokens, str.Activity, str.First = &w.slot.tokens, &w.slot.activity, &w.slot.first
	us := cfg.newUser(w.idx, s.seed, str)
	if !us.arrive(w.ctx) {
		return
	}
	var backoff time.Duration
	first := true
	for w.ctx.Err() == nil {
		n := cfg.Counter.Add(1)
		out, words := cfg.lengths(n, first)
		body, turn := us.body(cfg, n, words, out)
		rctx, abort := context.WithCancel(w.ctx)
		// The step is read under w.mu: endStep switches steps before it
		// scans the workers under it, so a request is either the new
		// step's or seen (and carried over) by the old one's end.
		w.mu.Lock()
		st := s.cur.Load()
		ph := st.phase.Load()
		w.st, w.phase, w.startNs, w.abort = st, ph, time.Now().UnixNano(), abort
		w.mu.Unlock()
		var obs client.Observer
		str.ITLSkew = nil
		if ph == phaseWindow {
			obs = st.itl
			str.ITLSkew = st.skew
		}
		o := outcome{phase: ph, out: out}
		o.pop.turn = turn
		str.Do(rctx, cfg.RequestTimeout, cfg.Prompt.Path(), body, client.Window{}, obs, &o.r)
		abort()
		o.settle(time.Now(), st.cfg.StallAfter, cfg.Prompt.Tokens)
		us.after(&o, str, n, words, out)
		if first && !o.r.Incomplete {
			w.joined.firstDone.Add(1)
		}
		if !first && o.r.ErrKind == "" && !o.r.Incomplete { // a first request is a random share of one
			now := s.cur.Load()
			now.e2eSum.Add(int64(o.r.End.Sub(o.r.Start)))
			now.e2eN.Add(1)
		}
		first = false
		st.addFrom(o, w)
		st.checkRefusal(&o.r)
		if backoff = nextBackoff(backoff, o.r.ErrKind); backoff > 0 {
			Pause(w.ctx, backoff)
		}
		if !us.think(w.ctx, o.pop.think) {
			return
		}
	}
}

// addFrom records a session worker's outcome in the step it started in,
// and marks the worker idle in the same critical section, so that a step
// ending concurrently counts the request once: finished here, or carried
// over (a closed step drops it). A step's state that handed over to the
// next step (the state between two steps) forwards it there.
func (st *state) addFrom(o outcome, w *worker) {
	st.mu.Lock()
	if fw := st.forward; fw != nil {
		st.mu.Unlock()
		o.phase = phaseWarmup
		fw.addFrom(o, w)
		return
	}
	if !st.closed {
		st.addLocked(o)
	}
	w.mu.Lock()
	w.st, w.abort = nil, nil
	w.mu.Unlock()
	st.mu.Unlock()
}
