package load

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/client"
	"github.com/rhoai-demo/step07/sweep-runner/histogram"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// Config of one step.
type Config struct {
	Client      *client.Client
	Prompt      *client.Prompt
	Concurrency int
	// Warmup is the least warmup. With SteadyWarmup the warmup goes on
	// until every user has finished a request (one request lifetime at this
	// concurrency), bounded by MaxWarmup.
	Warmup       time.Duration
	SteadyWarmup bool
	MaxWarmup    time.Duration
	// Duration is the least window. The window closes once it is that long,
	// holds MinRequests finished requests and Decide (when set) agrees;
	// MaxWindow (when longer than Duration) bounds it.
	Duration    time.Duration
	MinRequests int
	MaxWindow   time.Duration
	// Decide is asked, at most every CheckEvery (default 250 ms), whether
	// the window may close; nil: as soon as the minimums hold.
	Decide     func(Progress) bool
	CheckEvery time.Duration
	// Steer, when set, decides the phases in place of the rules above (a
	// sharded step, whose coordinator decides for every shard): it is
	// called on every tick with the step's progress and returns the phase
	// to be in (steer.go).
	Steer func(Snapshot) int
	// Grace bounds the tail: after the window closes the load goes on until
	// every window request has finished or Grace has passed; then every
	// request still running is aborted.
	Grace          time.Duration
	RequestTimeout time.Duration
	InputTokens    int
	OutputTokens   int
	// Spread varies lengths by +-Spread of the nominal values, deterministic
	// per request number (output exact, input approximate).
	Spread float64
	// Desync asks each user's first request for a random share (uniform,
	// deterministic per request number) of the output length, so the users
	// start at random points of a request's life, as a population of
	// independent people would be, instead of in one synchronised wave.
	// (Evenly spaced points would be a best case: perfectly staggered users
	// queue less than independent ones.)
	Desync bool
	// Counter numbers requests across a run so every prompt is unique.
	Counter *atomic.Uint64
	// SLA decides which requests count toward goodput.
	SLA v1alpha1.SLA
	// StallAfter: a request cut at the step's end that had streamed and
	// then sent nothing for longer than this is errored (kind stalled), not
	// incomplete, so the success rule sees stuck streams. 0 disables it.
	StallAfter time.Duration
	// Ramp spreads the workers' first requests evenly over this period
	// (capped at the warmup; 0: all start at once).
	Ramp time.Duration
	// RefuseAfter: this many answers in a row with an HTTP 4xx status other
	// than 429 (bad input, not load), or that break the protocol
	// (faultKinds), stop the step with a *RefusedError. 0 means 8;
	// negative disables it.
	RefuseAfter int
	// Population makes the users people who think between requests and
	// hold conversations (users.go); the zero value is streams.
	Population Population
}

// Progress is what Decide sees of an open window.
type Progress struct {
	// Elapsed since the window opened.
	Elapsed time.Duration
	// WindowStart: when the window opened.
	WindowStart time.Time
	// Finished window requests: successful or errored.
	Successful, Errored int
	// TTFT of the window requests that got a first token, seconds.
	TTFT []float64
}

// RefusedError: the server answered a run of requests with a 4xx status
// other than 429: the scenario is bad input for it (e.g. longer than its
// context), not load. With Kind set, the run was of answers that break the
// client's side of the protocol (kind oversized, overlong or
// malformed_chunk: faultKinds): the server is not one the sweep can
// measure, whatever the load.
type RefusedError struct {
	Status  int
	Message string
	Count   int
	Kind    string
}

func (e *RefusedError) Error() string {
	if e.Kind != "" {
		return fmt.Sprintf("the server's answers broke the protocol on %d requests in a row (%s): %s", e.Count, e.Kind, e.Message)
	}
	return fmt.Sprintf("the server refused %d requests in a row with HTTP %d: %s", e.Count, e.Status, strings.TrimPrefix(e.Message, fmt.Sprintf("HTTP %d: ", e.Status)))
}

// Result of a step: aggregates and per-request values of window requests.
type Result struct {
	// Start of the step; WindowStart and WindowEnd carry wall and
	// monotonic readings.
	Start, WindowStart, WindowEnd time.Time
	Requests, Warmup, Tail        results.Counts
	// Censored: window requests cut when the step ended.
	Censored int
	Errors   map[string]int
	// BusySeconds: the sum over workers of time spent in a request inside
	// the window; divided by the window it is the concurrency achieved.
	BusySeconds float64
	// Per-request values (seconds or tokens) of window requests. TTFT holds
	// the censored waits of window requests that never got a first token;
	// TPOT the partial TPOT of requests cut after two or more tokens.
	TTFT, TPOT, E2E            []float64
	PromptTokens, OutputTokens []float64
	ServerTTFT, TTFTSkew       []float64
	// ITL: the window requests' inter-token gaps; ITLSkew: their skew
	// against the server's stamps (client gap minus server gap, signed).
	ITL, ITLSkew *histogram.Histogram
	// WindowOutputTokens arrived inside the window (any request);
	// WindowPromptTokens are those of the window's requests.
	WindowOutputTokens, WindowPromptTokens int64
	Good                                   int
	TokenCountMismatches                   int
	OutputLengthMismatches                 int
	UsageMissing                           int
	// WarmupSteady: every user had finished a request when the window
	// opened; WarmupNote says otherwise. WindowNote says why the window
	// closed before its minimums held (the MaxWindow bound); Extended: it
	// was kept open past them because Decide wanted more data.
	WarmupSteady bool
	WarmupNote   string
	WindowNote   string
	Extended     bool
	// Interrupted: the caller's context ended the step early; the result is
	// partial and must not be recorded as a finished step.
	Interrupted bool
	// Pop: think times and turns of the window's requests (users.go).
	Pop PopResult
}

// Phases of a request, by its start.
const (
	phaseWarmup int32 = iota
	phaseWindow
	phaseTail
)

// state is what the workers share with the controller.
type state struct {
	cfg     *Config
	base    time.Time
	phase   atomic.Int32
	started atomic.Int64 // requests started (any phase)
	// users[i] is worker i's slot, written by that worker alone.
	users []userSlot
	// firstDone counts workers that finished their first request.
	firstDone atomic.Int64
	// seed of the users' start draws: the request counter at the start.
	seed uint64

	mu      sync.Mutex
	records []outcome
	winOK   int
	winErr  int
	winTTFT []float64

	refuseRun atomic.Int64
	faultRun  atomic.Int64 // faultKinds in a row
	refused   atomic.Pointer[RefusedError]
	abort     context.CancelFunc

	itl, skew *histogram.Histogram
}

// Run executes one step. It returns an error for an invalid config and a
// *RefusedError when the server refuses the scenario; failures of requests
// are counted in the result.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Concurrency < 1 || cfg.Client == nil || cfg.Prompt == nil || cfg.Duration <= 0 || cfg.RequestTimeout <= 0 {
		return nil, errors.New("load: invalid step config")
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
	// The step's requests end with stepCtx: cancelling it aborts them
	// (their connections are closed, so the server stops working on them).
	stepCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	st := &state{cfg: &cfg, base: time.Now(), seed: cfg.Counter.Load(), users: make([]userSlot, cfg.Concurrency),
		abort: cancel, itl: new(histogram.Histogram), skew: new(histogram.Histogram)}
	if cfg.Warmup <= 0 && !cfg.SteadyWarmup {
		st.phase.Store(phaseWindow) // no warmup: the first requests are the window's
	}
	var wg sync.WaitGroup
	ramp := min(cfg.Ramp, cfg.Warmup)
	for i := 0; i < cfg.Concurrency; i++ {
		wg.Add(1)
		delay := ramp * time.Duration(i) / time.Duration(cfg.Concurrency)
		go func() {
			defer wg.Done()
			if delay > 0 && !pause(stepCtx, delay) {
				return
			}
			st.loop(stepCtx, i)
		}()
	}
	res := &Result{Errors: map[string]int{}, ITL: st.itl, ITLSkew: st.skew}
	ws, we, tok0, tok1 := st.control(stepCtx, res)
	cancel()
	wg.Wait()
	res.Interrupted = ctx.Err() != nil
	if e := st.refused.Load(); e != nil && !res.Interrupted {
		return nil, e
	}
	res.Start, res.WindowStart, res.WindowEnd = st.base, ws, we
	st.aggregate(res, ws, we, tok1-tok0)
	return res, nil
}

// control runs the phases: warmup, window, tail. It returns the window's
// edges and the token counter at each.
func (st *state) control(ctx context.Context, res *Result) (ws, we time.Time, tok0, tok1 int64) {
	cfg := st.cfg
	if cfg.Steer != nil {
		return st.steered(ctx, res)
	}
	tick := min(50*time.Millisecond, max(cfg.Duration/20, time.Millisecond))
	// Warmup.
	maxWarm := max(cfg.Warmup, cfg.MaxWarmup)
	res.WarmupSteady = true
	for st.phase.Load() == phaseWarmup {
		el := time.Since(st.base)
		if el >= cfg.Warmup && (!cfg.SteadyWarmup || st.firstDone.Load() >= int64(cfg.Concurrency)) {
			break
		}
		if el >= maxWarm {
			res.WarmupSteady = false
			res.WarmupNote = fmt.Sprintf("warmup capped at %s: %d of %d users had not finished a request", maxWarm.Round(time.Millisecond), cfg.Concurrency-int(st.firstDone.Load()), cfg.Concurrency)
			break
		}
		if !pause(ctx, tick) {
			return st.base, st.base, 0, 0
		}
	}
	ws = time.Now()
	if st.phase.Load() == phaseWindow {
		ws = st.base
	}
	tok0 = st.tokensSoFar()
	st.phase.Store(phaseWindow)
	// Window.
	maxWin := max(cfg.Duration, cfg.MaxWindow)
	var lastCheck time.Time
	for {
		if !pause(ctx, tick) {
			return ws, time.Now(), tok0, st.tokensSoFar()
		}
		now := time.Now()
		el := now.Sub(ws)
		st.mu.Lock()
		fin := st.winOK + st.winErr
		st.mu.Unlock()
		if el >= maxWin {
			if fin < cfg.MinRequests {
				res.WindowNote = fmt.Sprintf("window capped at %s with %d finished requests (want %d)", maxWin.Round(time.Millisecond), fin, cfg.MinRequests)
			}
			break
		}
		if el < cfg.Duration || fin < cfg.MinRequests {
			continue
		}
		if cfg.Decide == nil {
			break
		}
		if now.Sub(lastCheck) < cfg.CheckEvery {
			continue
		}
		lastCheck = now
		st.mu.Lock()
		p := Progress{Elapsed: el, WindowStart: ws, Successful: st.winOK, Errored: st.winErr, TTFT: append([]float64(nil), st.winTTFT...)}
		st.mu.Unlock()
		if cfg.Decide(p) {
			break
		}
		res.Extended = true
	}
	we = time.Now()
	tok1 = st.tokensSoFar()
	st.phase.Store(phaseTail)
	st.waitTail(ctx, we, tick)
	return ws, we, tok0, tok1
}

// waitTail waits out the tail after the window closed at we.
func (st *state) waitTail(ctx context.Context, we time.Time, tick time.Duration) {
	cfg := st.cfg
	// Tail: the load goes on until the window's requests have finished,
	// bounded by Grace. A window request silent for longer than StallAfter
	// is not waited for: without a first token its TTFT already exceeds
	// the degraded threshold (it enters as that lower bound), and a stream
	// that went silent counts as stalled; waiting longer changes no verdict.
	deadline := we.Add(cfg.Grace)
	for time.Now().Before(deadline) {
		busy := false
		now := time.Now().UnixNano()
		for i := range st.users {
			if u := &st.users[i]; u.inflight.Load() == phaseWindow+1 {
				if cfg.StallAfter > 0 && now-u.activity.Load() > int64(cfg.StallAfter) {
					continue
				}
				busy = true
				break
			}
		}
		if !busy || !pause(ctx, tick) {
			break
		}
	}
}

// userSlot is what one worker publishes to the controller. Each worker
// writes its own slot on every token (Tokens, Activity), so the slots are
// padded to a cache line: a counter shared by all workers, or slots side by
// side, would bounce one line between the cores on the per-token path.
type userSlot struct {
	// inflight: the phase of the running request +1 (0: none).
	inflight atomic.Int32
	// activity: when it started or last received a token (UnixNano).
	activity atomic.Int64
	// tokens: content chunks received, any phase.
	tokens atomic.Int64
	_      [40]byte
}

// tokensSoFar sums the workers' token counters.
func (st *state) tokensSoFar() int64 {
	var n int64
	for i := range st.users {
		n += st.users[i].tokens.Load()
	}
	return n
}

// loop is one user: it builds a request, sends it, settles the outcome and
// hands it to the tally (add), then starts the next.
func (st *state) loop(ctx context.Context, idx int) {
	cfg := st.cfg
	s := cfg.Client.NewStream()
	u := &st.users[idx]
	s.Tokens, s.Activity = &u.tokens, &u.activity
	us := cfg.newUser(idx, st.seed, s)
	if !us.arrive(ctx) {
		return
	}
	var backoff time.Duration
	first := true
	for ctx.Err() == nil {
		ph := st.phase.Load()
		n := cfg.Counter.Add(1)
		out, words := cfg.lengths(n, first)
		body, turn := us.body(cfg, n, words, out)
		var obs client.Observer
		s.ITLSkew = nil
		if ph == phaseWindow {
			obs = st.itl
			s.ITLSkew = st.skew
		}
		u.inflight.Store(ph + 1)
		st.started.Add(1)
		o := outcome{phase: ph, out: out}
		o.pop.turn = turn
		s.Do(ctx, cfg.RequestTimeout, cfg.Prompt.Path(), body, client.Window{}, obs, &o.r)
		u.inflight.Store(0)
		o.settle(time.Now(), cfg.StallAfter, cfg.Prompt.Tokens)
		us.after(&o, s, n, words, out)
		if first && !o.r.Incomplete {
			st.firstDone.Add(1)
		}
		first = false
		st.add(o)
		st.checkRefusal(&o.r)
		if backoff = nextBackoff(backoff, o.r.ErrKind); backoff > 0 {
			pause(ctx, backoff)
		}
		if !us.think(ctx, o.pop.think) {
			return
		}
	}
}

// add keeps an outcome for the tally and counts the window's finished
// requests for the controller (Progress).
func (st *state) add(o outcome) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.records = append(st.records, o)
	if o.phase != phaseWindow || o.r.Incomplete {
		return
	}
	if o.r.ErrKind == "" {
		st.winOK++
	} else {
		st.winErr++
	}
	if !o.r.FirstToken.IsZero() {
		st.winTTFT = append(st.winTTFT, o.r.TTFT().Seconds())
	}
}

// faultKinds are the errors on the client's side of the contract: answers
// past the client's limits or that are not the protocol. Load does not
// explain them.
var faultKinds = map[string]bool{results.ErrOversized: true, results.ErrOverlong: true, results.ErrMalformedChunk: true}

// checkRefusal counts 4xx answers (not 429) in a row across the workers,
// and faultKinds in a row; any other outcome resets the count.
func (st *state) checkRefusal(r *client.Result) {
	if st.cfg.RefuseAfter < 0 || r.Incomplete {
		return
	}
	if !faultKinds[r.ErrKind] {
		st.faultRun.Store(0)
	} else if n := st.faultRun.Add(1); n >= int64(st.cfg.RefuseAfter) && st.refused.Load() == nil {
		msg := r.ErrKind
		if r.Err != nil {
			msg = r.Err.Error()
		}
		st.refused.CompareAndSwap(nil, &RefusedError{Kind: r.ErrKind, Message: msg, Count: int(n)})
		st.abort()
	}
	if r.StatusCode >= 400 && r.StatusCode < 500 && r.StatusCode != 429 {
		if n := st.refuseRun.Add(1); n >= int64(st.cfg.RefuseAfter) && st.refused.Load() == nil {
			msg := ""
			if r.Err != nil {
				msg = r.Err.Error()
			}
			st.refused.CompareAndSwap(nil, &RefusedError{Status: r.StatusCode, Message: msg, Count: int(n)})
			st.abort()
		}
		return
	}
	st.refuseRun.Store(0)
}

// aggregate adds the outcomes up into the result; tokens: content chunks
// that arrived inside the window.
func (st *state) aggregate(res *Result, ws, we time.Time, tokens int64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	t := tally{res: res, ws: ws, we: we, sla: st.cfg.SLA}
	for i := range st.records {
		t.add(&st.records[i])
	}
	t.close(tokens)
}

// pause waits d or until ctx ends; false when ctx ended.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// overlap of [a, b] with [ws, we].
func overlap(a, b, ws, we time.Time) time.Duration {
	if a.Before(ws) {
		a = ws
	}
	if b.After(we) {
		b = we
	}
	if b.Before(a) {
		return 0
	}
	return b.Sub(a)
}

// unit maps n to [-1, 1] deterministically (splitmix64).
func unit(n uint64) float64 {
	z := n + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11)/float64(1<<53)*2 - 1
}
