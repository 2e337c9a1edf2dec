package vllmsim

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// tenMs is a config whose every iteration lasts exactly 10 ms, so the
// event order of the closed loop can be checked by hand.
func tenMs() Config {
	c := DefaultConfig()
	c.IterFixed = 10 * time.Millisecond
	c.PerPrefillToken = 0
	c.PerDecodeSeq = 0
	return c
}

func mustLoop(t *testing.T, cfg Config, cl ClosedLoop) ClosedLoopResult {
	t.Helper()
	r, err := SimulateClosedLoop(cfg, cl)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Two users whose requests (4 tokens) alternate: a request ends, the next
// arrives 0.5 ms into the following iteration, waits the other 9.5 ms and
// gets its first token one iteration after admission. Every cycle lasts 5
// iterations of which each user waits in one: waiting > 0 for 2 × 9.5 ms
// of every 50 ms.
func TestClosedLoopArrivalMidIterationWaitsForNextBegin(t *testing.T) {
	r := mustLoop(t, tenMs(), ClosedLoop{Users: 2, PromptTokens: 256, OutputTokens: 4, Phases: PhasesEven,
		Warmup: time.Second, Window: 10 * time.Second, SampleEvery: time.Millisecond, Turnaround: 500 * time.Microsecond})
	if r.Requests < 390 || r.Censored != 0 {
		t.Fatalf("%d requests finished, %d censored: want about 400 and none", r.Requests, r.Censored)
	}
	for i, v := range r.TTFT {
		if math.Abs(v-0.0195) > 1e-9 {
			t.Fatalf("TTFT[%d] = %v s, want 19.5 ms (9.5 ms queued + one 10 ms prefill iteration)", i, v)
		}
	}
	if math.Abs(r.TPOTMean-0.010) > 1e-9 {
		t.Fatalf("TPOT %v, want 10 ms", r.TPOTMean)
	}
	if math.Abs(r.WaitingFraction-0.38) > 0.015 || r.WaitingMax != 1 || math.Abs(r.MeanRunning-1.6) > 0.015 {
		t.Fatalf("waiting fraction %.3f (max %d), mean running %.3f: want 0.38, 1 and 1.6", r.WaitingFraction, r.WaitingMax, r.MeanRunning)
	}
}

// Synchronised users finish together; the engine is then idle and begins
// at their arrival: no queueing, TTFT is one iteration. With no
// turnaround the arrival joins the begin at the same instant.
func TestClosedLoopIdleEngineJumpsToArrival(t *testing.T) {
	for _, turn := range []time.Duration{500 * time.Microsecond, 0} {
		r := mustLoop(t, tenMs(), ClosedLoop{Users: 2, PromptTokens: 256, OutputTokens: 4, Phases: PhasesTogether,
			Warmup: time.Second, Window: 10 * time.Second, SampleEvery: time.Millisecond, Turnaround: turn})
		for _, v := range r.TTFT {
			if math.Abs(v-0.010) > 1e-9 {
				t.Fatalf("turnaround %v: TTFT %v s, want 10 ms", turn, v)
			}
		}
		cycle := 0.040 + turn.Seconds()
		if r.WaitingMax != 0 || math.Abs(r.MeanRunning-2*0.040/cycle) > 0.01 {
			t.Fatalf("turnaround %v: waiting max %d, mean running %.3f: want 0 and %.3f", turn, r.WaitingMax, r.MeanRunning, 2*0.040/cycle)
		}
	}
}

// In fixed-latency mode every request runs on its own clock: TTFT is
// IterFixed + prompt × PerPrefillToken, then one token per IterFixed.
func TestClosedLoopFixedLatency(t *testing.T) {
	cfg, _ := Profile("fixed-latency")
	r := mustLoop(t, cfg, ClosedLoop{Users: 50, PromptTokens: 100, OutputTokens: 10,
		Warmup: time.Second, Window: 5 * time.Second, SampleEvery: 10 * time.Millisecond, Turnaround: 300 * time.Microsecond, Seed: 3})
	if r.Requests < 1000 {
		t.Fatalf("%d requests", r.Requests)
	}
	for _, v := range r.TTFT {
		if math.Abs(v-0.024) > 1e-9 {
			t.Fatalf("TTFT %v, want 24 ms", v)
		}
	}
	if math.Abs(r.TPOTMean-0.020) > 1e-9 || r.WaitingMax != 0 {
		t.Fatalf("TPOT %v waiting max %d", r.TPOTMean, r.WaitingMax)
	}
}

func TestClosedLoopDeterministic(t *testing.T) {
	cfg, _ := Profile("mistral-int4-tp1")
	cl := ClosedLoop{Users: 30, PromptTokens: 256, OutputTokens: 128, Warmup: 10 * time.Second, Window: 20 * time.Second,
		SampleEvery: 100 * time.Millisecond, Turnaround: 500 * time.Microsecond, Seed: 7}
	a, b := mustLoop(t, cfg, cl), mustLoop(t, cfg, cl)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave different results")
	}
	cl.Seed = 8
	if c := mustLoop(t, cfg, cl); reflect.DeepEqual(a.TTFT, c.TTFT) {
		t.Fatal("another seed gave the same TTFTs: the phases are not drawn from the seed")
	}
	if a.Requests == 0 || a.Samples != 200 {
		t.Fatalf("requests %d samples %d", a.Requests, a.Samples)
	}
}

func TestClosedLoopRejectsBadInput(t *testing.T) {
	cfg, _ := Profile("mistral-int4-tp1")
	ok := ClosedLoop{Users: 2, PromptTokens: 256, OutputTokens: 128, Window: time.Second, SampleEvery: time.Millisecond}
	if _, err := SimulateClosedLoop(cfg, ok); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*ClosedLoop, *Config){
		"no users":         func(c *ClosedLoop, _ *Config) { c.Users = 0 },
		"no output":        func(c *ClosedLoop, _ *Config) { c.OutputTokens = 0 },
		"no window":        func(c *ClosedLoop, _ *Config) { c.Window = 0 },
		"sample > window":  func(c *ClosedLoop, _ *Config) { c.SampleEvery = 2 * time.Second },
		"negative warmup":  func(c *ClosedLoop, _ *Config) { c.Warmup = -1 },
		"beyond KV cache":  func(c *ClosedLoop, _ *Config) { c.PromptTokens = 10200 },
		"unknown phases":   func(c *ClosedLoop, _ *Config) { c.Phases = 9 },
		"bad config":       func(_ *ClosedLoop, cfg *Config) { cfg.TimeScale = 0 },
		"beyond model len": func(c *ClosedLoop, cfg *Config) { cfg.MaxModelLen = 300 },
	} {
		c, g := ok, cfg
		change(&c, &g)
		if _, err := SimulateClosedLoop(g, c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// At TimeScale 0.1 with the client's turnaround scaled too, everything is
// the same model ten times faster: the same breaking point, a tenth of the
// TTFT.
func TestClosedLoopTimeScaleKeepsBreakingPoint(t *testing.T) {
	cfg := checkConfig()
	slow, slowLevels, err := TrueBreakingPoint(cfg, 256, 1024, 32, DefaultSLA(), TruthOptions{Seeds: 2})
	if err != nil {
		t.Fatal(err)
	}
	cfg.TimeScale = 0.1
	fast, fastLevels, err := TrueBreakingPoint(cfg, 256, 1024, 32, DefaultSLA(), TruthOptions{Seeds: 2, Turnaround: 50 * time.Microsecond})
	if err != nil {
		t.Fatal(err)
	}
	if slow.Users == 0 || slow.Users != fast.Users || slow.Rule != fast.Rule {
		t.Fatalf("breaking point %+v at scale 1, %+v at scale 0.1", slow, fast)
	}
	s, f := slowLevels[len(slowLevels)-1], fastLevels[len(fastLevels)-1]
	if math.Abs(f.TTFTP95-s.TTFTP95/10) > 1e-3*s.TTFTP95 || math.Abs(f.WaitingFraction-s.WaitingFraction) > 0.02 {
		t.Fatalf("at %d users: TTFT p95 %.4f vs %.4f, waiting fraction %.3f vs %.3f", slow.Users, f.TTFTP95, s.TTFTP95, f.WaitingFraction, s.WaitingFraction)
	}
}

func levelRow(l ClosedLoopResult) string {
	return fmt.Sprintf("u=%d TTFT p95 %.3fs TPOT %.1fms waiting>0 %.0f%% (mean %.2f, max %d) running %.1f KV max %.0f%% preempt %d req %d+%d",
		l.Users, l.TTFTP95, l.TPOTMean*1000, 100*l.WaitingFraction, l.MeanWaiting, l.WaitingMax, l.MeanRunning, 100*l.KVMax, l.Preemptions, l.Requests, l.Censored)
}

// TestGroundTruthBreakingPoints computes, in virtual time, the breaking
// point a sweep should find for each profile and scenario: random-phase
// closed-loop users, 4 phase draws pooled per user count, the product's
// rules. It asserts only what must hold physically.
func TestGroundTruthBreakingPoints(t *testing.T) {
	scenarios := []struct {
		name        string
		prompt, out int
	}{{"A", 256, 128}, {"B", 4096, 256}, {"C", 256, 1024}}
	bps := map[string]int{}
	start := time.Now()
	for _, prof := range []string{"mistral-bf16-tp4", "mistral-int4-tp1"} {
		cfg, err := Profile(prof)
		if err != nil {
			t.Fatal(err)
		}
		for _, sc := range scenarios {
			bp, levels, err := TrueBreakingPoint(cfg, sc.prompt, sc.out, 128, DefaultSLA(), TruthOptions{})
			if err != nil {
				t.Fatal(err)
			}
			key := prof + " " + sc.name
			last := levels[len(levels)-1]
			if bp.Users == 0 {
				bps[key] = 129
				t.Logf("%-20s %4d/%-4d breaking point >128\n    at 128: %s", key, sc.prompt, sc.out, levelRow(last))
			} else {
				bps[key] = bp.Users
				prev := "(none)"
				if len(levels) > 1 {
					prev = levelRow(levels[len(levels)-2])
				}
				t.Logf("%-20s %4d/%-4d breaking point %d (%s)\n    bp-1: %s\n    bp:   %s", key, sc.prompt, sc.out, bp.Users, strings.Join(bp.Rules, ", "), prev, levelRow(last))
			}
			// The queue grows with the load: more waiting at the last
			// count run than at half of it.
			if half := levels[(len(levels)-1)/2]; len(levels) > 1 && last.WaitingFraction <= half.WaitingFraction {
				t.Errorf("%s: waiting fraction %.3f at %d users, %.3f at %d", key, last.WaitingFraction, last.Users, half.WaitingFraction, half.Users)
			}
			if first := levels[0]; first.TTFTP95 > 2 || first.WaitingFraction >= 0.5 {
				t.Errorf("%s: one user alone breaks: %s", key, levelRow(first))
			}
		}
	}
	t.Logf("ground truth for 6 pairs in %v", time.Since(start))
	// INT4 B: the 10240-token cache holds two 4352-token requests, so a
	// third user always waits.
	if bp := bps["mistral-int4-tp1 B"]; bp > 3 {
		t.Errorf("int4 B breaks at %d users, but a third request never fits its KV cache", bp)
	}
	// INT4 C needs up to 80 blocks a request (its cache holds 8 at full
	// length), INT4 A 24: C saturates first.
	if c, a := bps["mistral-int4-tp1 C"], bps["mistral-int4-tp1 A"]; c >= a {
		t.Errorf("int4 C breaks at %d, A at %d: want C lower", c, a)
	}
	// Four GPUs with 26x the KV cache outlast one.
	for _, sc := range scenarios {
		if bf, i4 := bps["mistral-bf16-tp4 "+sc.name], bps["mistral-int4-tp1 "+sc.name]; bf <= i4 {
			t.Errorf("scenario %s: bf16 breaks at %d, int4 at %d", sc.name, bf, i4)
		}
	}
}

// checkConfig is the configuration of the external measurement below.
func checkConfig() Config {
	cfg, _ := Profile("mistral-int4-tp1")
	cfg.IterFixed = 2 * time.Millisecond
	cfg.PerDecodeSeq = 300 * time.Microsecond
	cfg.PerPrefillToken = 10 * time.Microsecond
	cfg.KVCacheTokens = 10240
	return cfg
}

// An external measurement (over HTTP, desynchronised closed-loop users,
// 60 s windows) reported waiting > 0 in 46 %, 58 %, 72 % and 97 % of the
// samples at 10, 11, 12 and 15 users of scenario C on checkConfig, so a
// queue-rule breaking point near 11. This driver does not reproduce that:
// with random phases the queue stays nearly empty at 10 users (their mean
// KV demand, 10 × 768 tokens, is 75 % of the cache) and the rules trip
// at 14-15. The real-time server over HTTP agrees with the driver, not
// with those figures (TestClosedLoopMatchesRealServer, opt-in), so the
// assertion is on the range the simulator itself supports.
func TestGroundTruthCheckConfig(t *testing.T) {
	cfg := checkConfig()
	external := map[int]float64{10: 0.46, 11: 0.58, 12: 0.72, 15: 0.97}
	for _, ph := range []struct {
		name string
		p    Phases
	}{{"random", PhasesRandom}, {"even", PhasesEven}, {"together", PhasesTogether}} {
		var row []string
		for _, u := range []int{10, 11, 12, 13, 14, 15} {
			var runs []ClosedLoopResult
			for seed := range uint64(8) {
				runs = append(runs, mustLoop(t, cfg, ClosedLoop{Users: u, PromptTokens: 256, OutputTokens: 1024, Phases: ph.p,
					Warmup: 20 * time.Second, Window: 60 * time.Second, SampleEvery: time.Second, Turnaround: 500 * time.Microsecond, Seed: seed}))
			}
			p := PoolClosedLoop(runs...)
			ext := ""
			if v, ok := external[u]; ok {
				ext = fmt.Sprintf(" (ext %.0f%%)", 100*v)
			}
			row = append(row, fmt.Sprintf("%d: %.0f%%%s p95 %.2fs", u, 100*p.WaitingFraction, ext, p.TTFTP95))
		}
		t.Logf("waiting > 0, 60 s windows, 8 seeds, %s phases: %s", ph.name, strings.Join(row, "; "))
	}
	bp, levels, err := TrueBreakingPoint(cfg, 256, 1024, 128, DefaultSLA(), TruthOptions{})
	if err != nil {
		t.Fatal(err)
	}
	queueAt := 0
	for _, l := range levels {
		if l.WaitingFraction >= 0.5 && queueAt == 0 {
			queueAt = l.Users
		}
	}
	t.Logf("breaking point %d (%s); bp-1: %s; bp: %s", bp.Users, strings.Join(bp.Rules, ", "), levelRow(levels[len(levels)-2]), levelRow(levels[len(levels)-1]))
	if bp.Users < 12 || bp.Users > 16 {
		t.Fatalf("breaking point %d, want 12..16 (mean KV demand reaches the cache at 13.3 users)", bp.Users)
	}
	if l := levels[9]; l.WaitingFraction > 0.15 {
		t.Errorf("10 users: %s: want the queue mostly empty (no KV pressure)", levelRow(l))
	}
}

// TestClosedLoopMatchesRealServer (VLLMSIM_REALTIME=1, about 75 s) runs
// the real server over HTTP in real time with the same closed loop and
// compares the waiting fraction with the virtual-time driver's.
func TestClosedLoopMatchesRealServer(t *testing.T) {
	if os.Getenv("VLLMSIM_REALTIME") == "" {
		t.Skip("set VLLMSIM_REALTIME=1 to compare with the real-time server (about 75 s)")
	}
	cfg := checkConfig()
	cfg.Model = "m1"
	cfg.PrefixCaching = false // identical prompts must not hit
	const warmup, window = 10 * time.Second, 60 * time.Second
	prompt := strings.Repeat(" word", 255) // 256 tokens with BOS
	var wg sync.WaitGroup
	for _, users := range []int{10, 12, 15} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := New(cfg)
			if err != nil {
				t.Error(err)
				return
			}
			ts := httptest.NewServer(s.Handler())
			defer func() { ts.Close(); s.Close() }()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: users}}
			rng := rand.New(rand.NewPCG(uint64(users), 1))
			stop := make(chan struct{})
			var uw sync.WaitGroup
			for range users {
				n := 1 + rng.IntN(1024) // a random point of the user's life
				uw.Add(1)
				go func() {
					defer uw.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						body := fmt.Sprintf(`{"model":"m1","prompt":%q,"max_tokens":%d,"min_tokens":%d,"ignore_eos":true}`, prompt, n, n)
						resp, err := client.Post(ts.URL+"/v1/completions", "application/json", strings.NewReader(body))
						if err != nil {
							return
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						n = 1024
					}
				}()
			}
			time.Sleep(warmup)
			samples, pos := 0, 0
			tick := time.NewTicker(37 * time.Millisecond)
			for end := time.Now().Add(window); time.Now().Before(end); {
				<-tick.C
				samples++
				if s.waiting() > 0 {
					pos++
				}
			}
			tick.Stop()
			close(stop)
			real := float64(pos) / float64(samples)
			var runs []ClosedLoopResult
			for seed := range uint64(8) {
				r, err := SimulateClosedLoop(cfg, ClosedLoop{Users: users, PromptTokens: 256, OutputTokens: 1024, Warmup: warmup, Window: window,
					SampleEvery: time.Second, Turnaround: 500 * time.Microsecond, Seed: seed})
				if err != nil {
					t.Error(err)
					return
				}
				runs = append(runs, r)
			}
			virtual := PoolClosedLoop(runs...).WaitingFraction
			t.Logf("%d users: waiting > 0 in %.1f%% of real-time samples, %.1f%% in virtual time", users, 100*real, 100*virtual)
			if math.Abs(real-virtual) > 0.15 {
				t.Errorf("%d users: real %.3f vs virtual %.3f", users, real, virtual)
			}
			uw.Wait()
		}()
	}
	wg.Wait()
}
