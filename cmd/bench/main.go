package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	out, goBench, simPath   string
	cpuProfile, memProfile  string
	inProcess               bool
	streams, sustain        []int
	warmup, duration, grace time.Duration
	ramp                    time.Duration
	input, output           int
	sustainSkew             time.Duration
	answer                  bool
	runnerPath              string
	shards                  int
	shardStreams            []int
	answerSeqs              int
	answerStep              time.Duration
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad stream count %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var streams, sustain, shardStreams string
	fs.StringVar(&o.out, "out", "bench.json", "write the figures here")
	fs.StringVar(&o.goBench, "go-bench", "", "output of go test -bench -benchmem to include")
	fs.StringVar(&o.simPath, "sim", "", "vllm-sim binary (default: vllm-sim beside this program)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the load steps (go tool pprof)")
	fs.StringVar(&o.memProfile, "memprofile", "", "write a heap profile at the end of each window (the last step's stays)")
	fs.BoolVar(&o.inProcess, "in-process", false, "run the simulator inside this process (smoke tests; CPU figures then include it)")
	fs.StringVar(&streams, "streams", "1,64,512,2048", "fidelity stream counts")
	fs.StringVar(&sustain, "sustain", "4096,8192", "further stream counts tried for the highest sustained and held (stops at the first not held)")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "warmup of each step (connections ramp up)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measurement window of each step")
	fs.DurationVar(&o.ramp, "ramp", time.Second, "spread the streams' first requests over this period (within the warmup; 0: all at once, in phase)")
	fs.DurationVar(&o.grace, "grace", 3*time.Second, "grace for requests in flight at the window's end")
	fs.IntVar(&o.input, "input-tokens", 128, "prompt tokens per request")
	fs.IntVar(&o.output, "output-tokens", 64, "output tokens per request")
	fs.DurationVar(&o.sustainSkew, "sustain-skew", 50*time.Millisecond, "client-added TTFT p99 above which a stream count is not sustained")
	fs.BoolVar(&o.answer, "answer", true, "run the time-to-answer comparison")
	fs.StringVar(&o.runnerPath, "runner", "", "sweep-runner binary for the sharded case's workers (default: sweep-runner beside this program)")
	fs.IntVar(&o.shards, "shards", 2, "shards of the sharded case (this process and shards-1 worker processes)")
	fs.StringVar(&shardStreams, "shard-streams", "512", "stream counts of the sharded case (\"\": none); each is compared with the same count in --streams")
	fs.IntVar(&o.answerSeqs, "answer-seqs", 6, "max-num-seqs of the time-to-answer simulator")
	fs.DurationVar(&o.answerStep, "answer-step", 1500*time.Millisecond, "step duration of the time-to-answer sweeps")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var err error
	if o.streams, err = intList(streams); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	if o.sustain, err = intList(sustain); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	if o.shardStreams, err = intList(shardStreams); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	if o.memProfile != "" {
		runtime.MemProfileRate = 4096
	}
	rep, err := measure(ctx, &o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	printTable(stdout, rep)
	b, err := json.MarshalIndent(rep, "", "  ")
	if err == nil {
		err = os.WriteFile(o.out, append(b, '\n'), 0o644)
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	fmt.Fprintf(stdout, "\nwrote %s\n", o.out)
	return 0
}

// Report is bench.json.
type Report struct {
	Machine Machine `json:"machine"`
	Setup   Setup   `json:"setup"`
	// Fidelity and Sustain are keyed by stream count.
	Fidelity map[string]*Level `json:"fidelity"`
	Sustain  map[string]*Level `json:"sustain,omitempty"`
	// Sharded: the sharded case, keyed by stream count.
	Sharded map[string]*Sharded `json:"sharded,omitempty"`
	// MaxSustainedStreams: the highest stream count sustained, every lower
	// count tried sustained too (0: none).
	MaxSustainedStreams int `json:"max_sustained_streams"`
	// MaxHeldStreams: the highest stream count held (no errored request,
	// concurrency achieved >= 95 %) whatever the pace and skew, every lower
	// count held too; --sustain probes go on while counts are held.
	MaxHeldStreams int `json:"max_held_streams"`
	// Cost per stream count: engine CPU seconds per million output tokens
	// and resident MiB per 1,000 streams.
	CPUSecondsPerMillionOutputTokens map[string]float64 `json:"cpu_seconds_per_million_output_tokens"`
	RSSMiBPer1000Streams             map[string]float64 `json:"rss_mib_per_1000_streams"`
	TimeToAnswer                     *Answer            `json:"time_to_answer,omitempty"`
	GoBenchmarks                     []GoBenchmark      `json:"go_benchmarks,omitempty"`
	Goals                            []Goal             `json:"goals"`
}

// Machine the figures come from; LoadAvg before and after (other work on
// the machine makes the fidelity figures noisy).
type Machine struct {
	CPUs         int        `json:"cpus"`
	GoVersion    string     `json:"go_version"`
	StartedAt    time.Time  `json:"started_at"`
	LoadAvgStart [3]float64 `json:"load_avg_start"`
	LoadAvgEnd   [3]float64 `json:"load_avg_end"`
	WallSeconds  float64    `json:"wall_seconds"`
}

// Setup of the load steps.
type Setup struct {
	Simulator       string  `json:"simulator"`
	Profile         string  `json:"profile"`
	InputTokens     int     `json:"input_tokens"`
	OutputTokens    int     `json:"output_tokens"`
	WarmupSeconds   float64 `json:"warmup_seconds"`
	RampSeconds     float64 `json:"ramp_seconds"`
	DurationSeconds float64 `json:"duration_seconds"`
	// Sustained: the rule a stream count must meet.
	Sustained string `json:"sustained"`
}

// Goal is one of the goals and what was measured.
type Goal struct {
	Goal     string  `json:"goal"`
	Measured float64 `json:"measured"`
	Unit     string  `json:"unit"`
	Met      bool    `json:"met"`
	Note     string  `json:"note,omitempty"`
}

func measure(ctx context.Context, o *options, logw io.Writer) (*Report, error) {
	start := time.Now()
	rep := &Report{
		Machine: Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), StartedAt: start.UTC(), LoadAvgStart: loadAvg()},
		Setup: Setup{
			Simulator: "bin/vllm-sim, a separate process on the same CPUs", Profile: "fixed-latency",
			InputTokens: o.input, OutputTokens: o.output, WarmupSeconds: o.warmup.Seconds(), RampSeconds: o.ramp.Seconds(), DurationSeconds: o.duration.Seconds(),
			Sustained: fmt.Sprintf("no errored request, concurrency achieved >= 95%% of the streams, output tokens/s >= 90%% of the simulator's nominal pace, client-added TTFT p99 <= %v", o.sustainSkew),
		},
		Fidelity: map[string]*Level{}, CPUSecondsPerMillionOutputTokens: map[string]float64{}, RSSMiBPer1000Streams: map[string]float64{},
	}
	if o.inProcess {
		rep.Setup.Simulator = "in process (CPU figures include the simulator)"
	}
	if o.goBench != "" {
		f, err := os.Open(o.goBench)
		if err != nil {
			return nil, err
		}
		rep.GoBenchmarks = parseGoBench(f)
		f.Close()
	}
	if err := fidelity(ctx, o, rep, logw); err != nil {
		return nil, err
	}
	if err := sharded(ctx, o, rep, logw); err != nil {
		return nil, err
	}
	if o.answer {
		a, err := timeToAnswer(ctx, o, logw)
		if err != nil {
			return nil, err
		}
		rep.TimeToAnswer = a
	}
	rep.Machine.LoadAvgEnd = loadAvg()
	rep.Machine.WallSeconds = time.Since(start).Seconds()
	rep.Goals = goals(rep)
	return rep, nil
}

func goals(rep *Report) []Goal {
	var gs []Goal
	load := fmt.Sprintf("load average %.2f at the start, %.2f at the end on %d CPUs", rep.Machine.LoadAvgStart[0], rep.Machine.LoadAvgEnd[0], rep.Machine.CPUs)
	for _, g := range []struct {
		streams int
		maxMs   float64
	}{{512, 1}, {2048, 5}} {
		l := rep.Fidelity[strconv.Itoa(g.streams)]
		if l == nil {
			continue
		}
		gs = append(gs, Goal{
			Goal:     fmt.Sprintf("client-added TTFT p99 <= %g ms at %d streams", g.maxMs, g.streams),
			Measured: l.TTFTSkewMs.P99, Unit: "ms", Met: l.TTFTSkewMs.Count > 0 && l.TTFTSkewMs.P99 <= g.maxMs,
			Note: fmt.Sprintf("simulator %.2f cores, engine %.2f cores, machine %.0f%% busy; %s", l.SimCPUCores, l.LoadCPUCores, l.MachineBusyPercent, load),
		})
	}
	for _, n := range []int{512, 2048} {
		if l := rep.Fidelity[strconv.Itoa(n)]; l != nil {
			gs = append(gs, Goal{
				Goal:     fmt.Sprintf("engine CPU <= 5 s per million output tokens at %d streams", n),
				Measured: l.CPUSecondsPerMillionOutputTokens, Unit: "CPU s/Mtok", Met: l.CPUSecondsPerMillionOutputTokens > 0 && l.CPUSecondsPerMillionOutputTokens <= 5,
				Note: fmt.Sprintf("engine %.2f cores, simulator %.2f cores; %s", l.LoadCPUCores, l.SimCPUCores, load),
			})
		}
	}
	gs = append(gs, Goal{Goal: ">= 2048 concurrent streams sustained", Measured: float64(rep.MaxSustainedStreams), Unit: "streams", Met: rep.MaxSustainedStreams >= 2048,
		Note: fmt.Sprintf("%s; held without errors: %d streams", rep.Setup.Sustained, rep.MaxHeldStreams)})
	for _, b := range rep.GoBenchmarks {
		if v, ok := b.Metrics["ms/tree"]; ok && strings.HasPrefix(b.Name, "BenchmarkGenerateTree") {
			gs = append(gs, Goal{Goal: "whole-tree generation < 20 ms", Measured: v, Unit: "ms", Met: v < 20})
		}
		if v, ok := b.Metrics["allocs/chunk"]; ok && strings.HasPrefix(b.Name, "BenchmarkSSEChunk") {
			gs = append(gs, Goal{Goal: "no allocation per chunk in steady state (" + strings.TrimPrefix(b.Name, "Benchmark") + ")", Measured: v, Unit: "allocs/chunk", Met: v == 0})
		}
	}
	return gs
}

func printTable(w io.Writer, rep *Report) {
	fmt.Fprintf(w, "\nload engine against vllm-sim (%s, %s), %d in / %d out tokens, %gs window; load average %.2f -> %.2f on %d CPUs\n",
		rep.Setup.Profile, rep.Setup.Simulator, rep.Setup.InputTokens, rep.Setup.OutputTokens, rep.Setup.DurationSeconds,
		rep.Machine.LoadAvgStart[0], rep.Machine.LoadAvgEnd[0], rep.Machine.CPUs)
	fmt.Fprintf(w, "%8s %8s %6s %7s | %28s | %28s | %9s %9s %9s %8s %8s %s\n", "streams", "requests", "errors", "conc",
		"TTFT skew ms p50/p99/max", "ITL skew ms p50/p99/max", "tok/s", "cpu s/Mtok", "MiB/1k st", "eng cpu", "sim cpu", "sustained")
	row := func(l *Level) {
		errs := 0
		for _, n := range l.Errors {
			errs += n
		}
		s := "yes"
		if !l.Sustained {
			s = "no: " + l.Verdict
		}
		fmt.Fprintf(w, "%8d %8d %6d %7.1f | %8.3f %8.3f %10.3f | %8.3f %8.3f %10.3f | %9.0f %9.1f %9.1f %8.2f %8.2f %s\n",
			l.Streams, l.Requests.Started, errs, l.ConcurrencyAchieved,
			l.TTFTSkewMs.P50, l.TTFTSkewMs.P99, l.TTFTSkewMs.Max, l.ITLSkewMs.P50, l.ITLSkewMs.P99, l.ITLSkewMs.Max,
			l.OutputTokensPerSecond, l.CPUSecondsPerMillionOutputTokens, l.RSSMiBPer1000Streams, l.LoadCPUCores, l.SimCPUCores, s)
	}
	for _, m := range []map[string]*Level{rep.Fidelity, rep.Sustain} {
		for _, l := range byStreams(m, func(l *Level) int { return l.Streams }) {
			row(l)
		}
	}
	fmt.Fprintf(w, "highest stream count sustained: %d (%s); held (no errors, >= 95%% busy): %d\n", rep.MaxSustainedStreams, rep.Setup.Sustained, rep.MaxHeldStreams)
	for _, sh := range byStreams(rep.Sharded, func(s *Sharded) int { return s.Streams }) {
		fmt.Fprintf(w, "\n%d streams over %d shards (this process coordinates and runs its share, %d worker process(es) the rest; CPU: all of them), beside one process:\n", sh.Streams, sh.Shards, sh.Shards-1)
		row(sh.Merged)
		if sh.Single != nil {
			row(sh.Single)
		}
		fmt.Fprintf(w, "coordination per step: %d bytes on the wire, %+.2f s wall, %+.1f CPU s per million tokens against one process\n",
			sh.Coordination.WireBytes, sh.Coordination.ExtraWallSeconds, sh.Coordination.ExtraCPUSecondsPerMillionOutputTokens)
	}
	if a := rep.TimeToAnswer; a != nil {
		fmt.Fprintf(w, "\ntime to answer (vllm-sim max-num-seqs %d, %gs steps):\n", a.MaxNumSeqs, a.StepSeconds)
		for _, s := range []*SweepTime{a.Adaptive, a.FixedGrid} {
			if s != nil {
				fmt.Fprintf(w, "  %-40s %5.1f s, %2d steps: %s\n", s.Name, s.WallSeconds, s.Steps, s.Answer)
			}
		}
	}
	if len(rep.GoBenchmarks) > 0 {
		fmt.Fprintln(w, "\nGo benchmarks:")
		for _, b := range rep.GoBenchmarks {
			var ms []string
			for _, u := range []string{"ns/op", "cpu-ns/op", "B/op", "allocs/op", "ns/chunk", "allocs/chunk", "ms/tree"} {
				if v, ok := b.Metrics[u]; ok {
					ms = append(ms, fmt.Sprintf("%g %s", v, u))
				}
			}
			fmt.Fprintf(w, "  %-40s %s\n", strings.TrimPrefix(b.Name, "Benchmark"), strings.Join(ms, "  "))
		}
	}
	fmt.Fprintln(w, "\ngoals:")
	for _, g := range rep.Goals {
		met := "MET"
		if !g.Met {
			met = "MISSED"
		}
		fmt.Fprintf(w, "  %-6s %-60s %g %s\n", met, g.Goal, round3(g.Measured), g.Unit)
	}
}

func round3(v float64) float64 {
	s := strconv.FormatFloat(v, 'f', 3, 64)
	r, _ := strconv.ParseFloat(s, 64)
	return r
}
