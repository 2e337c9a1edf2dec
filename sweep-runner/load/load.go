package load

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/analysis"
	"github.com/rhoai-demo/step07/sweep-runner/client"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// Config of one step.
type Config struct {
	Client      *client.Client
	Prompt      *client.Prompt
	Concurrency int
	Warmup      time.Duration
	Duration    time.Duration
	// Grace for requests in flight at the window's end (see the package doc).
	Grace          time.Duration
	RequestTimeout time.Duration
	InputTokens    int
	OutputTokens   int
	// Spread varies lengths by +-Spread of the nominal values, deterministic
	// per request number (output exact, input approximate).
	Spread float64
	// Counter numbers requests across a run so every prompt is unique.
	Counter *atomic.Uint64
	// SLA decides which requests count toward goodput.
	SLA v1alpha1.SLA
	// StallAfter: a request cut at the step's end that had streamed and
	// then sent nothing for longer than this is errored (kind stalled), not
	// incomplete, so the success rule sees stuck streams. 0 disables it.
	StallAfter time.Duration
	// Ramp spreads the workers' first requests evenly over this period
	// (capped at the warmup; 0: all start at once). Streams started
	// together stay in phase on a server whose tokens come at a fixed pace,
	// so every token of every stream arrives in the same burst.
	Ramp time.Duration
}

// Result of a step: aggregates and per-request values of window requests.
type Result struct {
	// WindowStart and WindowEnd carry wall and monotonic readings.
	WindowStart, WindowEnd time.Time
	Requests, Warmup       results.Counts
	Errors                 map[string]int
	// BusySeconds: the sum over workers of time spent in a request inside
	// the window; divided by the window it is the concurrency achieved.
	BusySeconds float64
	// Per-request values (seconds or tokens) of window requests.
	TTFT, TPOT, E2E            []float64
	PromptTokens, OutputTokens []float64
	ServerTTFT, TTFTSkew       []float64
	ITL                        *analysis.Histogram
	// ITLSkew: client gap minus server gap (sim_t_ns) between successive
	// content chunks of window requests; empty when the server does not
	// stamp its chunks.
	ITLSkew *SkewHistogram
	// WindowOutputTokens arrived inside the window (any request);
	// WindowPromptTokens are those of the window's requests.
	WindowOutputTokens, WindowPromptTokens int64
	Good                                   int
	TokenCountMismatches                   int
	OutputLengthMismatches                 int
	UsageMissing                           int
	// Interrupted: the caller's context ended the step early; the result is
	// partial and must not be recorded as a finished step.
	Interrupted bool
}

type worker struct {
	req, warm                       results.Counts
	errors                          map[string]int
	busy                            time.Duration
	ttft, tpot, e2e, ptok, otok     []float64
	sttft, skew                     []float64
	winOut, winPrompt               int64
	good, mismatch, lenMis, noUsage int
}

// Run executes one step. It returns an error only for an invalid config;
// failures of requests are counted in the result.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Concurrency < 1 || cfg.Client == nil || cfg.Prompt == nil || cfg.Duration <= 0 || cfg.RequestTimeout <= 0 {
		return nil, errors.New("load: invalid step config")
	}
	if cfg.Counter == nil {
		cfg.Counter = new(atomic.Uint64)
	}
	start := time.Now()
	ws := start.Add(cfg.Warmup)
	we := ws.Add(cfg.Duration)
	stepCtx, cancel := context.WithDeadline(ctx, we.Add(cfg.Grace))
	defer cancel()
	itl := new(analysis.Histogram)
	skew := new(SkewHistogram)
	ws2 := make([]*worker, cfg.Concurrency)
	var wg sync.WaitGroup
	ramp := min(cfg.Ramp, cfg.Warmup)
	for i := range ws2 {
		w := &worker{errors: map[string]int{}}
		ws2[i] = w
		wg.Add(1)
		delay := ramp * time.Duration(i) / time.Duration(len(ws2))
		go func() {
			defer wg.Done()
			if delay > 0 {
				t := time.NewTimer(delay)
				select {
				case <-t.C:
				case <-stepCtx.Done():
					t.Stop()
					return
				}
			}
			w.loop(stepCtx, &cfg, ws, we, itl, skew)
		}()
	}
	wg.Wait()
	res := &Result{WindowStart: ws, WindowEnd: we, Errors: map[string]int{}, ITL: itl, ITLSkew: skew, Interrupted: ctx.Err() != nil}
	for _, w := range ws2 {
		add(&res.Requests, w.req)
		add(&res.Warmup, w.warm)
		for k, v := range w.errors {
			res.Errors[k] += v
		}
		res.BusySeconds += w.busy.Seconds()
		res.TTFT = append(res.TTFT, w.ttft...)
		res.TPOT = append(res.TPOT, w.tpot...)
		res.E2E = append(res.E2E, w.e2e...)
		res.PromptTokens = append(res.PromptTokens, w.ptok...)
		res.OutputTokens = append(res.OutputTokens, w.otok...)
		res.ServerTTFT = append(res.ServerTTFT, w.sttft...)
		res.TTFTSkew = append(res.TTFTSkew, w.skew...)
		res.WindowOutputTokens += w.winOut
		res.WindowPromptTokens += w.winPrompt
		res.Good += w.good
		res.TokenCountMismatches += w.mismatch
		res.OutputLengthMismatches += w.lenMis
		res.UsageMissing += w.noUsage
	}
	return res, nil
}

func add(a *results.Counts, b results.Counts) {
	a.Started += b.Started
	a.Successful += b.Successful
	a.Errored += b.Errored
	a.Incomplete += b.Incomplete
}

func (w *worker) loop(ctx context.Context, cfg *Config, ws, we time.Time, itl *analysis.Histogram, skew *SkewHistogram) {
	s := cfg.Client.NewStream()
	var r client.Result
	var backoff time.Duration
	win := client.Window{Start: ws, End: we}
	for ctx.Err() == nil {
		now := time.Now()
		if !now.Before(we) {
			return
		}
		n := cfg.Counter.Add(1)
		out, words := cfg.OutputTokens, cfg.Prompt.Words
		if cfg.Spread > 0 {
			u := unit(n)
			out = max(1, int(float64(cfg.OutputTokens)*(1+cfg.Spread*u)+0.5))
			words = cfg.Prompt.WordsFor(int(float64(cfg.InputTokens)*(1+cfg.Spread*unit(n^0x9e3779b97f4a7c15))+0.5), cfg.InputTokens)
		}
		body := cfg.Prompt.AppendBody(make([]byte, 0, 256+8*words), n, words, out)
		inWindow := !now.Before(ws)
		var obs client.Observer
		s.ITLSkew = nil
		if inWindow {
			obs = itl
			s.ITLSkew = skew
		}
		s.Do(ctx, cfg.RequestTimeout, cfg.Prompt.Path(), body, win, obs, &r)
		if r.End.IsZero() {
			r.End = time.Now()
		}
		w.busy += overlap(r.Start, r.End, ws, we)
		w.winOut += int64(r.WindowChunks)
		if r.HasUsage && r.CompletionTokens != r.Chunks && !r.End.Before(ws) && r.End.Before(we) {
			w.winOut += int64(r.CompletionTokens - r.Chunks) // chunks holding several tokens
		}
		if r.Incomplete && cfg.StallAfter > 0 && !r.LastToken.IsZero() && r.End.Sub(r.LastToken) > cfg.StallAfter {
			r.Incomplete, r.ErrKind = false, results.ErrStalled
		}
		c := &w.warm
		if inWindow {
			c = &w.req
		}
		c.Started++
		switch {
		case r.Incomplete:
			c.Incomplete++
		case r.ErrKind != "":
			c.Errored++
			if inWindow {
				w.errors[r.ErrKind]++
			}
		default:
			c.Successful++
		}
		// A server that refuses connections (down, restarting) is retried
		// after a pause growing from 10 ms to 1 s, not in a busy loop that
		// would start thousands of requests a second and bury the step's
		// statistics in refusals.
		if r.ErrKind == results.ErrConnect {
			backoff = min(max(2*backoff, 10*time.Millisecond), time.Second)
			pause(ctx, backoff)
		} else {
			backoff = 0
		}
		if !inWindow {
			continue
		}
		prompt := r.PromptTokens
		if !r.HasUsage {
			prompt = cfg.Prompt.Tokens
		}
		if r.ErrKind == "" && !r.Incomplete || r.Incomplete && r.Chunks > 0 {
			w.winPrompt += int64(prompt)
		}
		if !r.FirstToken.IsZero() && r.ErrKind == "" {
			ttft := r.TTFT()
			w.ttft = append(w.ttft, ttft.Seconds())
			if r.HasServerTTFT {
				w.sttft = append(w.sttft, r.ServerTTFT.Seconds())
				w.skew = append(w.skew, (ttft - r.ServerTTFT).Seconds())
			}
		}
		if r.ErrKind != "" || r.Incomplete {
			continue
		}
		e2e := r.End.Sub(r.Start)
		ntok := r.OutputTokens()
		var tpot time.Duration
		if ntok > 1 && !r.FirstToken.IsZero() {
			tpot = (e2e - r.TTFT()) / time.Duration(ntok-1)
		}
		w.e2e = append(w.e2e, e2e.Seconds())
		w.tpot = append(w.tpot, tpot.Seconds())
		w.ptok = append(w.ptok, float64(prompt))
		w.otok = append(w.otok, float64(ntok))
		if !r.HasUsage {
			w.noUsage++
		} else if r.CompletionTokens != r.Chunks {
			w.mismatch++
		}
		if ntok != out {
			w.lenMis++
		}
		if !r.FirstToken.IsZero() && analysis.GoodRequest(r.TTFT(), tpot, cfg.SLA) {
			w.good++
		}
	}
}

// pause waits d or until ctx ends.
func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
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
