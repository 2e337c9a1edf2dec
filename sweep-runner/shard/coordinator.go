package shard

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/load"
)

// Pool is the coordinator's workers: shards 1..N-1.
type Pool interface {
	// Addrs of the workers (host:port), shard 1 first.
	Addrs() []string
	// Ready returns once every worker answers (restarting those that died,
	// where the pool can), or an error naming the shard that does not.
	Ready(ctx context.Context) error
}

// ShardError is a step that failed because of a worker.
type ShardError struct {
	Shard int
	Addr  string
	Err   error
}

func (e *ShardError) Error() string {
	return fmt.Sprintf("shard %d (%s): %v", e.Shard, e.Addr, e.Err)
}

func (e *ShardError) Unwrap() error { return e.Err }

// counterStride separates the shards' request numbers: shard i numbers
// from the step's base + i·stride.
const counterStride = 1 << 40

// startLead: the common start is this long after the step requests leave,
// so that every shard has its request before its users start.
const startLead = 150 * time.Millisecond

// Coordinator runs closed-loop steps over its own share and its pool's
// workers (sweep.Runner.Load).
type Coordinator struct {
	Pool Pool
	// Log receives the faults and retries (nil: quiet).
	Log  io.Writer
	HTTP *http.Client
	seq  atomic.Int64
}

func (c *Coordinator) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format+"\n", args...)
	}
}

// Run runs one step over every shard and merges their results. A step
// failed by a worker is run again once, from scratch, once the pool is
// ready; a second failure is returned.
func (c *Coordinator) Run(ctx context.Context, t v1alpha1.Target, cfg load.Config) (*load.Result, error) {
	res, err := c.attempt(ctx, t, cfg)
	var se *ShardError
	if !errors.As(err, &se) || ctx.Err() != nil {
		return res, err
	}
	c.logf("shard fault at concurrency %d: %v; the step is run again", cfg.Concurrency, err)
	res, err = c.attempt(ctx, t, cfg)
	if errors.As(err, &se) {
		return nil, fmt.Errorf("step at concurrency %d failed twice (finished steps are kept; continue with --resume): %w", cfg.Concurrency, err)
	}
	return res, err
}

// shares splits n users over k shards, the first ones taking the remainder.
func shares(n, k int) []int {
	s := make([]int, k)
	for i := range s {
		s[i] = n / k
		if i < n%k {
			s[i]++
		}
	}
	return s
}

// attempt runs the step once.
func (c *Coordinator) attempt(ctx context.Context, t v1alpha1.Target, cfg load.Config) (*load.Result, error) {
	if err := c.Pool.Ready(ctx); err != nil {
		return nil, err
	}
	addrs := c.Pool.Addrs()
	n := 1 + len(addrs)
	share := shares(cfg.Concurrency, n)
	id := fmt.Sprintf("%d-%d", time.Now().UnixNano(), c.seq.Add(1))
	if cfg.Counter == nil {
		cfg.Counter = new(atomic.Uint64)
	}
	base := cfg.Counter.Load()
	start := time.Now().Add(startLead)
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ctl := newControl(&cfg, start)
	results := make([]*load.Result, n)
	var wg sync.WaitGroup
	var refused atomic.Pointer[load.RefusedError]
	for i := 1; i < n; i++ {
		if share[i] == 0 {
			continue
		}
		wc := cfg
		wc.Concurrency = share[i]
		req := StepRequest{ID: id, Shard: i, TargetURL: t.URL, Prompt: *cfg.Prompt, Start: start, Counter: base + uint64(i)*counterStride, Config: wireConfig{Config: wc}}
		wg.Go(func() {
			res, ref, err := c.remote(sctx, addrs[i-1], req, func(s load.Snapshot) { ctl.update(i, s) })
			switch {
			case ref != nil:
				refused.CompareAndSwap(nil, ref)
				cancel(ref)
			case err != nil:
				cancel(&ShardError{Shard: i, Addr: addrs[i-1], Err: err})
			default:
				results[i] = res
			}
		})
	}
	ctl.broadcast = func(ph int) {
		for i := 1; i < n; i++ {
			if share[i] > 0 {
				go c.tell(sctx, addrs[i-1], PhaseRequest{ID: id, Phase: ph})
			}
		}
	}
	local := cfg
	local.Concurrency, local.Decide = share[0], nil
	local.Steer = func(s load.Snapshot) int { ctl.update(0, s); return ctl.phase() }
	var localErr error
	wg.Go(func() {
		if !load.Pause(sctx, time.Until(start)) {
			return
		}
		results[0], localErr = load.Run(sctx, local)
		if localErr != nil {
			cancel(localErr)
		}
	})
	go ctl.run(sctx)
	wg.Wait()
	used := uint64(0)
	for i, r := range results[1:] {
		if r != nil {
			u := uint64(r.Warmup.Started + r.Requests.Started + r.Tail.Started)
			used = max(used, u+uint64(i+1)*counterStride)
		}
	}
	for cur := cfg.Counter.Load(); base+used > cur && !cfg.Counter.CompareAndSwap(cur, base+used); cur = cfg.Counter.Load() {
	}
	if ctx.Err() != nil {
		return &load.Result{Interrupted: true}, nil
	}
	if r := refused.Load(); r != nil {
		return nil, r
	}
	if localErr != nil {
		return nil, localErr
	}
	if err := context.Cause(sctx); err != nil && !errors.Is(err, context.Canceled) {
		return nil, err
	}
	res := results[0]
	for _, r := range results[1:] {
		if r != nil {
			res.Merge(r)
		}
	}
	ctl.finish(res)
	return res, nil
}

// tell sends a worker a phase change, retried while the worker does not
// know the step yet (its request still on the way) or the post fails; a
// worker that is gone fails its stream, and so the step.
func (c *Coordinator) tell(ctx context.Context, addr string, p PhaseRequest) {
	for range 50 {
		if c.post(ctx, addr, "/phase", p) == nil || !load.Pause(ctx, 50*time.Millisecond) {
			return
		}
	}
}

// post sends a small JSON request to a worker.
func (c *Coordinator) post(ctx context.Context, addr, path string, body any) error {
	b, _ := json.Marshal(body)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	resp, err := c.client().Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: HTTP %d", path, resp.StatusCode)
	}
	return nil
}

func (c *Coordinator) client() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// remote runs a share on a worker: it reads the progress lines into
// progress until the result.
func (c *Coordinator) remote(ctx context.Context, addr string, sr StepRequest, progress func(load.Snapshot)) (*load.Result, *load.RefusedError, error) {
	b, err := json.Marshal(sr)
	if err != nil {
		return nil, nil, err
	}
	// A worker silent for longer than any of its phases can be (the tail
	// is bounded by Grace) is gone without its connection closing.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	silence := max(sr.Config.Grace, sr.Config.RequestTimeout) + time.Until(sr.Start) + 30*time.Second
	watchdog := time.AfterFunc(silence, cancel)
	defer watchdog.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/step", bytes.NewReader(b))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client().Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("worker unreachable: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, nil, fmt.Errorf("worker answered HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(msg))
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 256<<20)
	for sc.Scan() {
		watchdog.Reset(silence)
		var m Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return nil, nil, fmt.Errorf("worker sent a bad line: %w", err)
		}
		switch {
		case m.Progress != nil:
			progress(*m.Progress)
		case m.Result != nil:
			return m.Result, nil, nil
		case m.Refused != nil:
			return nil, m.Refused, nil
		case m.Error != "":
			return nil, nil, fmt.Errorf("worker failed the step: %s", m.Error)
		}
	}
	err = sc.Err()
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return nil, nil, fmt.Errorf("worker died or was cut off mid-step (no result): %w", err)
}

// control decides a sharded step's phases on the shards' summed progress,
// by the rules load's control applies to one process.
type control struct {
	cfg   *load.Config
	start time.Time
	ph    atomic.Int32

	mu       sync.Mutex
	first    map[int]int
	ok, errd map[int]int
	ttft     []float64
	ws, we   time.Time
	// res holds the Gate's verdicts on the warmup and window (steady,
	// notes, extended), copied into the merged result (finish).
	res       load.Result
	broadcast func(int)
}

func newControl(cfg *load.Config, start time.Time) *control {
	return &control{cfg: cfg, start: start, first: map[int]int{}, ok: map[int]int{}, errd: map[int]int{}, res: load.Result{WarmupSteady: true}, ws: start, we: start}
}

func (c *control) phase() int { return int(c.ph.Load()) }

func (c *control) update(i int, s load.Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.first[i], c.ok[i], c.errd[i] = s.FirstDone, s.Successful, s.Errored
	c.ttft = append(c.ttft, s.TTFT...)
}

func sum(m map[int]int) (n int) {
	for _, v := range m {
		n += v
	}
	return n
}

func (c *control) set(ph int) {
	c.ph.Store(int32(ph))
	if c.broadcast != nil {
		c.broadcast(ph)
	}
}

// run decides the phases until the tail (or the end of ctx), by the
// measuring loop's Gate over the shards' merged snapshots: the warmup ends
// once every user of every shard finished a request (after Warmup), the
// window as a single process's would.
func (c *control) run(ctx context.Context) {
	cfg := *c.cfg
	tick := min(20*time.Millisecond, max(cfg.Duration/50, time.Millisecond))
	if !load.Pause(ctx, time.Until(c.start)) {
		return
	}
	if cfg.CheckEvery <= 0 {
		cfg.CheckEvery = 250 * time.Millisecond
	}
	// The Gate writes c.res under c.mu (finish reads it), and asks Decide
	// under it too: Decide judges the snapshot it is handed, quickly.
	c.mu.Lock()
	g := load.NewGate(&cfg, &c.res)
	c.mu.Unlock()
	if cfg.Warmup > 0 || cfg.SteadyWarmup {
		for {
			el := time.Since(c.start)
			c.mu.Lock()
			done := sum(c.first)
			ready := el >= cfg.Warmup && (!cfg.SteadyWarmup || done >= cfg.Concurrency)
			end := g.Warmed(el, ready, fmt.Sprintf("%d of %d users had not finished a request", cfg.Concurrency-done, cfg.Concurrency))
			c.mu.Unlock()
			if end {
				break
			}
			if !load.Pause(ctx, tick) {
				return
			}
		}
	}
	c.mu.Lock()
	c.ws = time.Now()
	ws := c.ws
	c.mu.Unlock()
	c.set(load.SteerWindow)
	unbounded := func(time.Duration, int) (bool, string) { return false, "" }
	for {
		if !load.Pause(ctx, tick) {
			return
		}
		now := time.Now()
		c.mu.Lock()
		okN, errN := sum(c.ok), sum(c.errd)
		progress := func() load.Progress {
			return load.Progress{Phase: "window", Elapsed: now.Sub(ws), WindowStart: ws, Successful: okN, Errored: errN, TTFT: slices.Clone(c.ttft)}
		}
		end := g.Closes(now, now.Sub(ws), okN+errN, unbounded, progress)
		c.mu.Unlock()
		if end {
			break
		}
	}
	c.mu.Lock()
	c.we = time.Now()
	c.mu.Unlock()
	c.set(load.SteerTail)
}

// finish sets what the coordinator decided on the merged result: the
// common window and the warmup's and window's notes.
func (c *control) finish(res *load.Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	res.Start, res.WindowStart, res.WindowEnd = c.start, c.ws, c.we
	res.WarmupSteady, res.WarmupNote, res.WindowNote, res.Extended = c.res.WarmupSteady, c.res.WarmupNote, c.res.WindowNote, c.res.Extended
}
