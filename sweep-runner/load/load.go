package load

import (
	"context"
	"fmt"
	"slices"
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
	// WarmLifetimes, with SteadyWarmup, is the least age of the users
	// (since their clean start: a fresh session or load.Run) in request
	// lifetimes (the mean end-to-end latency of the requests finished
	// since this step began) before the window opens; 0 or less: one.
	// A server whose KV cache is full keeps drifting for several
	// lifetimes after a desynchronised start (requests that waited
	// together finish together), so a verdict the answer rests on waits
	// for the age the engine's ground truth warms up for
	// (vllmsim.TruthOptions.WarmupLifetimes).
	WarmLifetimes float64
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
	// Abandon, when set and true, closes the window at once, whatever its
	// minimums: the step will be measured again (its server restarted), so
	// the rest of its window would be paid for and thrown away.
	Abandon func() bool
	// Deadline, when set, ends the warmup and closes the window whatever
	// their minimums (the run's budget runs out then); the tail still
	// lets the window's requests finish.
	Deadline time.Time
	// Watch, when set, is shown the step's progress at most every
	// CheckEvery through the warmup, the window and the tail (a live
	// progress line).
	Watch func(Progress)
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
	// Lengths, when set, draws each request's lengths around the nominal
	// ones (a spread, a distribution or a mix: v1alpha1.Scenario.Draw),
	// deterministic per request number: the output exact, the prompt's
	// words scaled from the calibrated prompt.
	Lengths *v1alpha1.Scenario `json:",omitempty"`
	// Records, when set, replace the synthetic prompts: request n replays
	// the record pick(n) chooses (seeded: two runs send the same
	// sequence), asking for its output tokens (a dataset).
	Records []Record `json:",omitempty"`
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

// Progress is what Decide (and Watch) see of a step.
type Progress struct {
	// Phase: "warmup", "window" or "tail" (Decide: always the window).
	Phase string
	// Elapsed since the phase began.
	Elapsed time.Duration
	// WindowStart: when the window opened.
	WindowStart time.Time
	// Finished window requests: successful or errored; InFlight: window
	// requests still running (a session's step; 0 for others).
	Successful, Errored, InFlight int
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
	// Settle: a step that kept the previous step's users (Session.Step):
	// the change and how the server settled; nil for a fresh start.
	Settle *results.Settle
}

// Phases of a request, by its start.
const (
	phaseWarmup int32 = iota
	phaseWindow
	phaseTail
)

// state is one step's: what the workers share with the controller.
type state struct {
	cfg   *Config
	base  time.Time
	phase atomic.Int32
	// users[i] is open-loop worker i's slot, written by that worker alone;
	// a closed loop's users are its session's workers (sess).
	users []userSlot
	sess  *Session
	// firstDone counts users added in this step that finished their first
	// request.
	firstDone atomic.Int64
	// e2eSum (ns) and e2eN: the requests that succeeded since the step
	// began, whichever step they started in, but a user's first (a random
	// share of a request): a request lifetime now.
	e2eSum, e2eN atomic.Int64
	// ready, when set, says whether the warmup may end (a step that kept
	// the previous step's users: Session.Step), and why not.
	ready func() (bool, string)

	mu      sync.Mutex
	records []outcome
	winOK   int
	winErr  int
	winTTFT []float64
	// closed: the step ended; carried holds the phases of its requests
	// still in flight then (counted incomplete; their outcomes are not
	// recorded). forward: the state between two steps hands its late
	// outcomes to the next step.
	closed  bool
	carried []int32
	forward *state
	// lastWatch: when Watch was last called.
	lastWatch time.Time

	refuseRun atomic.Int64
	faultRun  atomic.Int64 // faultKinds in a row
	refused   atomic.Pointer[RefusedError]
	abort     context.CancelFunc

	itl, skew *histogram.Histogram
}

// oldEnough says whether the users are cfg.WarmLifetimes request
// lifetimes old (a step with SteadyWarmup), and why not.
func (st *state) oldEnough(cfg *Config) (bool, string) {
	if !cfg.SteadyWarmup || cfg.WarmLifetimes <= 1 {
		return true, ""
	}
	n := st.e2eN.Load()
	if n == 0 {
		return false, "no request finished yet (a request lifetime unknown)"
	}
	life := time.Duration(st.e2eSum.Load() / n)
	need := time.Duration(cfg.WarmLifetimes * float64(life))
	if age := time.Since(st.sess.born); age < need {
		return false, fmt.Sprintf("users %s old, %g request lifetimes of %s are %s", age.Round(time.Millisecond), cfg.WarmLifetimes, life.Round(time.Millisecond), need.Round(time.Millisecond))
	}
	return true, ""
}

// control runs a closed loop's step (Run, Session.Step): the measuring
// loop (measure) with the users as its arrivals, or a steered step.
func (st *state) control(ctx context.Context, res *Result) (ws, we time.Time, tok0, tok1 int64) {
	if st.cfg.Steer != nil {
		return st.steered(ctx, res)
	}
	return st.measure(ctx, closedArrivals{st}, res)
}

// arrivals is what the measuring loop (measure) asks of how requests
// arrive: closed-loop users (closedArrivals) or open-loop rates
// (openState). Everything else of a step (warmup, window, tail, their
// bounds and notes, the window's tally) is measure's, written once.
type arrivals interface {
	// warmed says whether the warmup may end, el after the step began,
	// and why not.
	warmed(el time.Duration) (bool, string)
	// bounded says whether the window must close now whatever its
	// minimums (the open loop's client bound), and why when they did not
	// hold (fin requests finished).
	bounded(el time.Duration, fin int) (bool, string)
	// inFlight is what the window's requests still in flight say of TTFT
	// and how many there are (Decide sees them).
	inFlight(now time.Time) ([]float64, int)
	// closed is told when the window closed (at we, or interrupted).
	closed(we time.Time)
	// busy says whether a window request still runs and was not silent
	// for longer than StallAfter (the tail waits for those).
	busy(now time.Time) bool
}

// measure is the one measuring loop: the warmup until the arrivals say the
// server has settled, the window until it holds Duration and MinRequests
// and Decide agrees (the Gate decides both, with their bounds), then the
// tail until the window's requests have finished (bounded by Grace). It
// returns the window's edges and the token counter at each.
func (st *state) measure(ctx context.Context, a arrivals, res *Result) (ws, we time.Time, tok0, tok1 int64) {
	cfg := st.cfg
	tick := min(50*time.Millisecond, max(cfg.Duration/20, time.Millisecond))
	g := NewGate(cfg, res)
	for st.phase.Load() == phaseWarmup {
		el := time.Since(st.base)
		ready, why := a.warmed(el)
		if g.Warmed(el, ready, why) {
			break
		}
		st.watch(phaseWarmup, st.base, time.Time{})
		if !Pause(ctx, tick) {
			return st.base, st.base, 0, 0
		}
	}
	ws = time.Now()
	if st.phase.Load() == phaseWindow {
		ws = st.base
	}
	tok0 = st.tokensSoFar()
	st.phase.Store(phaseWindow)
	for {
		if !Pause(ctx, tick) {
			we = time.Now()
			a.closed(we)
			return ws, we, tok0, st.tokensSoFar()
		}
		st.watch(phaseWindow, ws, ws)
		now := time.Now()
		st.mu.Lock()
		fin := st.winOK + st.winErr
		st.mu.Unlock()
		progress := func() Progress {
			st.mu.Lock()
			p := Progress{Phase: "window", Elapsed: now.Sub(ws), WindowStart: ws, Successful: st.winOK, Errored: st.winErr, TTFT: append([]float64(nil), st.winTTFT...)}
			st.mu.Unlock()
			var more []float64
			more, p.InFlight = a.inFlight(now)
			p.TTFT = append(p.TTFT, more...)
			return p
		}
		if g.Closes(now, now.Sub(ws), fin, a.bounded, progress) {
			break
		}
	}
	we = time.Now()
	tok1 = st.tokensSoFar()
	st.phase.Store(phaseTail)
	a.closed(we)
	st.tail(ctx, a, we, tick)
	return ws, we, tok0, tok1
}

// A Gate decides when a step's warmup and window end, from what the step
// measured so far, and writes the bounds' notes into its Result: the
// measuring loop (measure) asks it of its own requests, the shard
// coordinator of all its shards' together, so both judge a step alike.
type Gate struct {
	cfg       *Config
	res       *Result
	lastCheck time.Time
}

// NewGate is the gate of a step run with cfg, noting into res.
func NewGate(cfg *Config, res *Result) *Gate {
	res.WarmupSteady = true
	return &Gate{cfg: cfg, res: res}
}

// Warmed says whether the warmup ends, el after the step began: when the
// arrivals are ready, or capped by MaxWarmup or the Deadline (then the
// warmup is not steady, and why not is noted).
func (g *Gate) Warmed(el time.Duration, ready bool, why string) bool {
	cfg, res := g.cfg, g.res
	if ready {
		return true
	}
	if maxWarm := max(cfg.Warmup, cfg.MaxWarmup); el >= maxWarm {
		res.WarmupSteady = false
		res.WarmupNote = fmt.Sprintf("warmup capped at %s: %s", maxWarm.Round(time.Millisecond), why)
		return true
	}
	if past(cfg.Deadline) {
		res.WarmupSteady, res.WarmupNote = false, budgetCut("warmup", el, why)
		return true
	}
	return false
}

// Closes says whether the window closes, el after it opened with fin
// finished requests: at MaxWindow or the Deadline; when bounded (the
// arrivals' bound) once it holds Duration; else once it holds Duration and
// MinRequests and Decide (asked at most every CheckEvery, with progress)
// agrees.
func (g *Gate) Closes(now time.Time, el time.Duration, fin int, bounded func(time.Duration, int) (bool, string), progress func() Progress) bool {
	cfg, res := g.cfg, g.res
	maxWin := max(cfg.Duration, cfg.MaxWindow)
	switch {
	case cfg.Abandon != nil && cfg.Abandon():
		res.WindowNote = fmt.Sprintf("window abandoned after %s: the server changed during it (see the step's events)", el.Round(time.Millisecond))
		return true
	case el >= maxWin:
		if fin < cfg.MinRequests {
			res.WindowNote = fmt.Sprintf("window capped at %s with %d finished requests (want %d)", maxWin.Round(time.Millisecond), fin, cfg.MinRequests)
		}
		return true
	case past(cfg.Deadline):
		if el < cfg.Duration || fin < cfg.MinRequests {
			res.WindowNote = budgetCut("window", el, fmt.Sprintf("%d finished requests", fin))
		}
		return true
	case el < cfg.Duration:
		return false
	}
	if stop, why := bounded(el, fin); stop {
		res.WindowNote = why
		return true
	}
	if fin < cfg.MinRequests {
		return false
	}
	if cfg.Decide == nil {
		return true
	}
	if now.Sub(g.lastCheck) < cfg.CheckEvery {
		return false
	}
	g.lastCheck = now
	if cfg.Decide(progress()) {
		return true
	}
	res.Extended = true
	return false
}

// tail waits out a step's tail after its window closed at we: the load
// goes on until the window's requests have finished, bounded by Grace. A
// window request silent for longer than StallAfter is not waited for:
// without a first token its TTFT already exceeds the degraded threshold (it
// enters as that lower bound), and a stream that went silent counts as
// stalled; waiting longer changes no verdict.
func (st *state) tail(ctx context.Context, a arrivals, we time.Time, tick time.Duration) {
	deadline := we.Add(st.cfg.Grace)
	for time.Now().Before(deadline) {
		st.watch(phaseTail, we, time.Time{})
		if !a.busy(time.Now()) || !Pause(ctx, tick) {
			return
		}
	}
}

// closedArrivals are a closed loop's users as the measuring loop's
// arrivals.
type closedArrivals struct{ st *state }

// warmed: a step that kept the previous step's users waits for them to
// settle (state.ready); a fresh one for its least Warmup and, with
// SteadyWarmup, a finished request per user; both for the users' age
// (WarmLifetimes).
func (c closedArrivals) warmed(el time.Duration) (bool, string) {
	st, cfg := c.st, c.st.cfg
	switch {
	case st.ready != nil:
		if ok, why := st.ready(); !ok {
			return false, why
		}
	case el < cfg.Warmup:
		return false, fmt.Sprintf("the least warmup (%s) not over", cfg.Warmup)
	case cfg.SteadyWarmup && st.firstDone.Load() < int64(cfg.Concurrency):
		return false, fmt.Sprintf("%d of %d users had not finished a request", cfg.Concurrency-int(st.firstDone.Load()), cfg.Concurrency)
	}
	return st.oldEnough(cfg)
}

func (closedArrivals) bounded(time.Duration, int) (bool, string) { return false, "" }

func (c closedArrivals) inFlight(now time.Time) ([]float64, int) { return c.st.inflightTTFT(now) }

func (closedArrivals) closed(time.Time) {}

// busy: a window request of the session's users (every closed-loop step
// is a Session's, load.Run's a one-step one) is still running and not
// silent.
func (c closedArrivals) busy(now time.Time) bool {
	st, stall := c.st, int64(c.st.cfg.StallAfter)
	for _, w := range st.sess.workers() {
		w.mu.Lock()
		mine := w.st == st && w.phase == phaseWindow
		w.mu.Unlock()
		if mine && (stall <= 0 || now.UnixNano()-w.slot.activity.Load() <= stall) {
			return true
		}
	}
	return false
}

// Phases as Progress names them.
var phaseNames = [...]string{phaseWarmup: "warmup", phaseWindow: "window", phaseTail: "tail"}

// watch shows Watch the step's progress in phase (begun at since; the
// window opened at ws), at most every CheckEvery.
func (st *state) watch(phase int32, since, ws time.Time) {
	cfg := st.cfg
	now := time.Now()
	if cfg.Watch == nil || now.Sub(st.lastWatch) < cfg.CheckEvery {
		return
	}
	st.lastWatch = now
	p := Progress{Phase: phaseNames[phase], Elapsed: now.Sub(since), WindowStart: ws}
	if phase != phaseWarmup {
		st.mu.Lock()
		p.Successful, p.Errored, p.TTFT = st.winOK, st.winErr, slices.Clone(st.winTTFT)
		st.mu.Unlock()
	}
	cfg.Watch(p)
}

// userSlot is what one worker publishes to the controller. Each worker
// writes its own slot on every token (Tokens, Activity), so the slots are
// padded to a cache line: a counter shared by all workers, or slots side by
// side, would bounce one line between the cores on the per-token path.
type userSlot struct {
	// inflight: the phase of the running request +1 (0: none); the open
	// loop's (a session's workers keep their request under their mutex).
	inflight atomic.Int32
	// activity: when it started or last received a token (UnixNano).
	activity atomic.Int64
	// tokens: content chunks received, any phase.
	tokens atomic.Int64
	// first: when the request in flight got its first token (UnixNano; 0:
	// not yet).
	first atomic.Int64
	_     [32]byte
}

// tokensSoFar sums the workers' token counters.
func (st *state) tokensSoFar() int64 {
	var n int64
	for i := range st.users {
		n += st.users[i].tokens.Load()
	}
	if st.sess != nil {
		for _, w := range st.sess.workers() {
			n += w.slot.tokens.Load()
		}
	}
	return n
}

// inflightTTFT is what the window's requests still in flight already say
// of TTFT (the session's users'), and how many there are: the
// TTFT of those that got
// their first token, and, for those still waiting longer than StallAfter
// (the degraded threshold), their wait so far, a lower bound that already
// exceeds it. Those waiting less are left out until they know more. Decide
// sees these with the finished requests' TTFTs, so a window's TTFT
// verdict does not wait a request lifetime for requests to finish; the
// step's statistics are those of the finished requests after the tail.
func (st *state) inflightTTFT(now time.Time) (out []float64, inflight int) {
	for _, w := range st.sess.workers() {
		w.mu.Lock()
		mine, start := w.st == st && w.phase == phaseWindow, w.startNs
		w.mu.Unlock()
		if !mine {
			continue
		}
		inflight++
		if f := w.slot.first.Load(); f > start {
			out = append(out, float64(f-start)/1e9)
		} else if wait := now.UnixNano() - start; st.cfg.StallAfter > 0 && wait > int64(st.cfg.StallAfter) {
			out = append(out, float64(wait)/1e9)
		}
	}
	return out, inflight
}

// add keeps an outcome for the tally and counts the window's finished
// requests for the controller (Progress).
func (st *state) add(o outcome) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.addLocked(o)
}

func (st *state) addLocked(o outcome) {
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
	for _, ph := range st.carried {
		t.carry(ph)
	}
	t.close(tokens)
}

// budgetCut is the note of a warmup or window the run's budget (Deadline)
// cut after el, with what it had reached.
func budgetCut(what string, el time.Duration, reached string) string {
	return fmt.Sprintf("%s cut after %s by the run's budget: %s", what, el.Round(time.Millisecond), reached)
}

// past reports whether a deadline is set and has passed.
func past(deadline time.Time) bool { return !deadline.IsZero() && !time.Now().Before(deadline) }

// Pause waits d or until ctx ends; false when ctx ended (the shard
// coordinator paces its phases with it too).
func Pause(ctx context.Context, d time.Duration) bool {
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
