package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/analysis"
	"github.com/rhoai-demo/step07/sweep-runner/client"
	"github.com/rhoai-demo/step07/sweep-runner/load"
	"github.com/rhoai-demo/step07/sweep-runner/results"
	"github.com/rhoai-demo/step07/vllmsim"
)

// Summary of a distribution in milliseconds.
type Summary struct {
	Count int     `json:"count"`
	Min   float64 `json:"min"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

func ms(d results.Distribution) Summary {
	return Summary{Count: d.Count, Min: d.Min * 1e3, Mean: d.Mean * 1e3, P50: d.Percentiles.P50 * 1e3,
		P99: d.Percentiles.P99 * 1e3, P999: d.Percentiles.P999 * 1e3, Max: d.Max * 1e3}
}

// Level is one closed-loop step at Streams concurrent streams.
type Level struct {
	Streams             int            `json:"streams"`
	Requests            results.Counts `json:"requests"`
	Errors              map[string]int `json:"errors"`
	ConcurrencyAchieved float64        `json:"concurrency_achieved"`
	// TTFTSkewMs: client TTFT minus the server's TTFT of the same request.
	TTFTSkewMs Summary `json:"ttft_skew_ms"`
	// ITLSkewMs: client gap minus server gap between the same two chunks.
	ITLSkewMs    Summary `json:"itl_skew_ms"`
	ClientTTFTMs Summary `json:"client_ttft_ms"`
	ServerTTFTMs Summary `json:"server_ttft_ms"`
	ClientITLMs  Summary `json:"client_itl_ms"`
	// NominalTTFTMs: the fixed-latency profile's TTFT for the prompt.
	NominalTTFTMs float64 `json:"nominal_ttft_ms"`
	// OutputTokensPerSecond received in the window, and the simulator's
	// nominal pace for this many streams.
	OutputTokensPerSecond        float64 `json:"output_tokens_per_second"`
	NominalOutputTokensPerSecond float64 `json:"nominal_output_tokens_per_second"`
	// CPU over the window: this process (the engine; with shards, this
	// process and the workers), the simulator process, and the whole
	// machine's busy share (other work included). StepWallSeconds: the
	// whole step, warmup, window and tail.
	WindowSeconds                    float64 `json:"window_seconds"`
	StepWallSeconds                  float64 `json:"step_wall_seconds"`
	LoadCPUSeconds                   float64 `json:"load_cpu_seconds"`
	LoadCPUCores                     float64 `json:"load_cpu_cores"`
	SimCPUCores                      float64 `json:"sim_cpu_cores"`
	MachineBusyPercent               float64 `json:"machine_busy_percent"`
	CPUSecondsPerMillionOutputTokens float64 `json:"cpu_seconds_per_million_output_tokens"`
	// RSS of this process before the step (after a GC returned memory to
	// the OS) and its peak during the window.
	RSSBeforeMiB         float64 `json:"rss_before_mib"`
	RSSPeakMiB           float64 `json:"rss_peak_mib"`
	RSSMiBPer1000Streams float64 `json:"rss_mib_per_1000_streams"`
	// Go runtime memory at the window's end: heap in use, goroutine stacks
	// and what the runtime holds from the OS, MiB.
	HeapInuseMiB  float64    `json:"heap_inuse_mib"`
	StackInuseMiB float64    `json:"stack_inuse_mib"`
	GoSysMiB      float64    `json:"go_sys_mib"`
	Goroutines    int        `json:"goroutines"`
	LoadAvg       [3]float64 `json:"load_avg"`
	// Held: no errored request and concurrency achieved >= 95 % (the
	// engine kept every stream open and busy, whatever the pace).
	Held      bool   `json:"held"`
	Sustained bool   `json:"sustained"`
	Verdict   string `json:"verdict,omitempty"`
}

// byStreams lists a map keyed by stream count in increasing counts.
func byStreams[T any](m map[string]T, streams func(T) int) []T {
	return slices.SortedFunc(maps.Values(m), func(a, b T) int { return cmp.Compare(streams(a), streams(b)) })
}

// fixedLatencySim starts the fidelity steps' simulator (fixed-latency
// profile) and calibrates their prompt on it.
func fixedLatencySim(ctx context.Context, o *options) (*sim, *client.Prompt, error) {
	s, err := startSim(ctx, o, "fixed-latency", "--profile", "fixed-latency")
	if err != nil {
		return nil, nil, err
	}
	cal := client.New(s.URL, client.Options{})
	prompt, err := cal.Calibrate(ctx, "completions", s.Model, o.input)
	cal.CloseIdle()
	if err != nil {
		s.stop()
		return nil, nil, err
	}
	return s, prompt, nil
}

func fidelity(ctx context.Context, o *options, rep *Report, logw io.Writer) error {
	s, prompt, err := fixedLatencySim(ctx, o)
	if err != nil {
		return err
	}
	defer s.stop()
	prof, _ := vllmsim.Profile("fixed-latency")
	counter := new(atomic.Uint64)
	sustained, held := true, true
	step := func(n int) (*Level, error) {
		fmt.Fprintf(logw, "bench: %d streams ...\n", n)
		l, err := runLevel(ctx, o, s, prompt, prof, counter, n, nil)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(logw, "bench: %d streams: TTFT skew p50 %.3f p99 %.3f max %.3f ms, ITL skew p99 %.3f ms, %s\n",
			n, l.TTFTSkewMs.P50, l.TTFTSkewMs.P99, l.TTFTSkewMs.Max, l.ITLSkewMs.P99, verdictText(l))
		key := strconv.Itoa(n)
		rep.CPUSecondsPerMillionOutputTokens[key] = l.CPUSecondsPerMillionOutputTokens
		if n >= 256 { // below, the RSS noise (about 1 MiB) dominates
			rep.RSSMiBPer1000Streams[key] = l.RSSMiBPer1000Streams
		}
		if sustained && l.Sustained {
			rep.MaxSustainedStreams = max(rep.MaxSustainedStreams, n)
		} else {
			sustained = false
		}
		if held && l.Held {
			rep.MaxHeldStreams = max(rep.MaxHeldStreams, n)
		} else {
			held = false
		}
		return l, nil
	}
	for _, n := range o.streams {
		l, err := step(n)
		if err != nil {
			return err
		}
		rep.Fidelity[strconv.Itoa(n)] = l
	}
	for _, n := range o.sustain {
		if !held {
			break
		}
		l, err := step(n)
		if err != nil {
			return err
		}
		if rep.Sustain == nil {
			rep.Sustain = map[string]*Level{}
		}
		rep.Sustain[strconv.Itoa(n)] = l
	}
	return nil
}

func verdictText(l *Level) string {
	if l.Sustained {
		return "sustained"
	}
	return "not sustained: " + l.Verdict
}

type snap struct {
	t           time.Time
	self, sim   float64
	workers     float64
	busy, total float64
}

func take(s *sim, sh *shardedRun) snap {
	b, t := machineCPU()
	sn := snap{t: time.Now(), self: selfCPU(), sim: s.cpuSeconds(), busy: b, total: t}
	if sh != nil {
		sn.workers = sh.workerCPU()
	}
	return sn
}

// runLevel runs one closed-loop step at n streams: in this process, or
// over shards (sh not nil: this process coordinates and runs its share,
// worker processes the rest; the engine's CPU is then all of theirs).
func runLevel(ctx context.Context, o *options, s *sim, prompt *client.Prompt, prof vllmsim.Config, counter *atomic.Uint64, n int, sh *shardedRun) (*Level, error) {
	c := client.New(s.URL, client.Options{MaxConns: n})
	defer c.CloseIdle()
	var sla v1alpha1.SLA
	sla.Default()
	runtime.GC()
	debug.FreeOSMemory()
	// Resident memory: this process's, and the workers' with shards.
	rss := rssMiB
	if sh != nil {
		rss = func() float64 { return rssMiB() + sh.workerRSS() }
	}
	before := rss()
	t0 := time.Now()
	// Sample CPU at the window's edges and RSS through the window.
	var a, b snap
	var mem runtime.MemStats
	var goroutines int
	peak := before
	var wg sync.WaitGroup
	wg.Add(1)
	sctx, cancel := context.WithCancel(ctx)
	go func() {
		defer wg.Done()
		sleepUntil(sctx, t0.Add(o.warmup))
		a = take(s, sh)
		end := t0.Add(o.warmup + o.duration)
		for time.Now().Before(end) && sctx.Err() == nil {
			sleepUntil(sctx, minTime(end, time.Now().Add(250*time.Millisecond)))
			peak = max(peak, rss())
		}
		b = take(s, sh)
		runtime.ReadMemStats(&mem)
		goroutines = runtime.NumGoroutine()
		if o.memProfile != "" {
			writeHeapProfile(o.memProfile)
		}
	}()
	cfg := load.Config{
		Client: c, Prompt: prompt, Concurrency: n,
		Warmup: o.warmup, Duration: o.duration, Grace: o.grace, RequestTimeout: 30 * time.Second,
		InputTokens: o.input, OutputTokens: o.output, Counter: counter, SLA: sla, Ramp: o.ramp,
	}
	stepStart := time.Now()
	var res *load.Result
	var err error
	if sh != nil {
		res, err = sh.run(ctx, s, cfg)
	} else {
		res, err = load.Run(ctx, cfg)
	}
	stepWall := time.Since(stepStart)
	cancel()
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if res.Interrupted {
		return nil, ctx.Err()
	}
	win := res.WindowEnd.Sub(res.WindowStart).Seconds()
	w := b.t.Sub(a.t).Seconds()
	nominalTTFT := prof.IterFixed + time.Duration(prompt.Tokens)*prof.PerPrefillToken
	perReq := nominalTTFT + time.Duration(o.output-1)*prof.IterFixed
	l := &Level{
		Streams: n, Requests: res.Requests, Errors: res.Errors, ConcurrencyAchieved: res.BusySeconds / win,
		TTFTSkewMs: ms(analysis.Dist(res.TTFTSkew)), ITLSkewMs: ms(res.ITLSkew.Dist()),
		ClientTTFTMs: ms(analysis.Dist(res.TTFT)), ServerTTFTMs: ms(analysis.Dist(res.ServerTTFT)), ClientITLMs: ms(res.ITL.Dist()),
		NominalTTFTMs:                float64(nominalTTFT) / 1e6,
		OutputTokensPerSecond:        float64(res.WindowOutputTokens) / win,
		NominalOutputTokensPerSecond: float64(n) * float64(o.output) / perReq.Seconds(),
		WindowSeconds:                w,
		StepWallSeconds:              stepWall.Seconds(),
		LoadCPUSeconds:               b.self - a.self + b.workers - a.workers,
		RSSBeforeMiB:                 before, RSSPeakMiB: peak,
		RSSMiBPer1000Streams: (peak - before) / float64(n) * 1000,
		LoadAvg:              loadAvg(),
		HeapInuseMiB:         float64(mem.HeapInuse) / (1 << 20),
		StackInuseMiB:        float64(mem.StackInuse) / (1 << 20),
		GoSysMiB:             float64(mem.Sys) / (1 << 20),
		Goroutines:           goroutines,
	}
	if w > 0 {
		l.LoadCPUCores = l.LoadCPUSeconds / w
		l.SimCPUCores = (b.sim - a.sim) / w
	}
	if b.total > a.total {
		l.MachineBusyPercent = 100 * (b.busy - a.busy) / (b.total - a.total)
	}
	if tok := l.OutputTokensPerSecond * w; tok > 0 {
		l.CPUSecondsPerMillionOutputTokens = l.LoadCPUSeconds / tok * 1e6
	}
	l.Sustained, l.Verdict = sustainedRule(l, o.sustainSkew)
	l.Held = l.Requests.Errored == 0 && l.ConcurrencyAchieved >= 0.95*float64(n)
	return l, nil
}

// sustainedRule: a stream count is sustained when no request failed, the
// engine kept (nearly) every stream busy, tokens arrived at (nearly) the
// simulator's nominal pace, and the client added little to TTFT.
func sustainedRule(l *Level, maxSkew time.Duration) (bool, string) {
	switch {
	case l.Requests.Errored > 0:
		return false, fmt.Sprintf("%d errored requests %v", l.Requests.Errored, l.Errors)
	case l.ConcurrencyAchieved < 0.95*float64(l.Streams):
		return false, fmt.Sprintf("concurrency achieved %.0f of %d", l.ConcurrencyAchieved, l.Streams)
	case l.OutputTokensPerSecond < 0.9*l.NominalOutputTokensPerSecond:
		return false, fmt.Sprintf("%.0f output tokens/s, below 90%% of the nominal %.0f", l.OutputTokensPerSecond, l.NominalOutputTokensPerSecond)
	case l.TTFTSkewMs.Count == 0:
		return false, "no TTFT measured"
	case l.TTFTSkewMs.P99 > float64(maxSkew)/1e6:
		return false, fmt.Sprintf("client-added TTFT p99 %.1f ms above %v", l.TTFTSkewMs.P99, maxSkew)
	}
	return true, ""
}

func sleepUntil(ctx context.Context, t time.Time) {
	d := time.Until(t)
	if d <= 0 {
		return
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
	case <-ctx.Done():
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func writeHeapProfile(path string) {
	f, err := os.Create(path)
	if err != nil {
		return
	}
	defer f.Close()
	_ = pprof.Lookup("heap").WriteTo(f, 0)
}
