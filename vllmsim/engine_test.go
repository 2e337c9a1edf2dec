package vllmsim

import (
	"math"
	"strings"
	"testing"
	"time"
)

// vclock drives an engine in virtual time: no sleeping.
type vclock struct {
	e   *engine
	now time.Time
	ids uint64
}

func newVClock(cfg Config) *vclock {
	return &vclock{e: newEngine(cfg, nil), now: time.Unix(1000, 0)}
}

func (v *vclock) submit(prompt, out int) *seq {
	v.ids++
	s := &seq{id: v.ids, prompt: prompt, target: out, stopReason: ReasonLength, arrival: v.now}
	v.e.add(s)
	return s
}

// step runs one iteration; false when the engine is idle.
func (v *vclock) step() (iteration, bool) {
	it, ok := v.e.begin(v.now)
	if !ok {
		return it, false
	}
	v.now = v.now.Add(it.Duration)
	v.e.end(v.now)
	return it, true
}

func engineCfg() Config {
	c := DefaultConfig()
	c.PrefixCaching = false
	return c
}

// Closed loop: 16 clients each resubmit as soon as their request ends.
// With max-num-seqs 8 the batch stays full and the other 8 wait.
func TestClosedLoopSteadyState(t *testing.T) {
	cfg := engineCfg()
	cfg.MaxNumSeqs = 8
	v := newVClock(cfg)
	clients := make([]*seq, 16)
	for i := range clients {
		clients[i] = v.submit(256, 128)
	}
	done := 0
	for i := 0; i < 3000; i++ {
		if _, ok := v.e.begin(v.now); !ok {
			t.Fatal("engine idle with 16 closed-loop clients")
		}
		if r, w := v.e.numRunning(), v.e.numWaiting(); r != 8 || w != 8 {
			t.Fatalf("iteration %d: running %d waiting %d, want 8 and 8", i, r, w)
		}
		v.e.end(v.now.Add(time.Millisecond))
		v.now = v.now.Add(time.Millisecond)
		for j, s := range clients {
			if s.state == stateDone {
				done++
				clients[j] = v.submit(256, 128)
			}
		}
	}
	if done < 100 {
		t.Fatalf("only %d requests completed", done)
	}
}

// A KV cache with room for 6 prompts queues the rest although
// max-num-seqs would allow 64.
func TestSmallKVCacheQueuesBeforeMaxNumSeqs(t *testing.T) {
	cfg := engineCfg()
	cfg.MaxNumSeqs = 64
	cfg.KVCacheTokens = 100 * 16
	v := newVClock(cfg)
	for i := 0; i < 16; i++ {
		v.submit(256, 128) // 16 blocks of prompt each
	}
	if _, ok := v.e.begin(v.now); !ok {
		t.Fatal("nothing scheduled")
	}
	if r, w := v.e.numRunning(), v.e.numWaiting(); r != 6 || w != 10 {
		t.Fatalf("running %d waiting %d, want 6 running (KV-bound) and 10 waiting", r, w)
	}
	if u := v.e.kvUsage(); u < 0.9 {
		t.Fatalf("kv usage %.2f, want the cache nearly full", u)
	}
}

// Three sequences fit at admission but outgrow the cache while decoding:
// the newest is preempted, recomputed later, and all still finish.
func TestPreemptionWhenDecodeOutgrowsCache(t *testing.T) {
	cfg := engineCfg()
	cfg.KVCacheTokens = 64 * 16
	v := newVClock(cfg)
	seqs := []*seq{v.submit(256, 512), v.submit(256, 512), v.submit(256, 512)}
	firstVictim := uint64(0)
	for i := 0; i < 100000; i++ {
		it, ok := v.step()
		if !ok {
			break
		}
		if it.Preempted > 0 && firstVictim == 0 {
			firstVictim = v.e.waiting[0].id
		}
		if v.e.freeBlocks < 0 {
			t.Fatalf("free blocks went negative: %d", v.e.freeBlocks)
		}
	}
	if v.e.preemptions == 0 {
		t.Fatal("no preemption although 3×48 blocks > 64")
	}
	if firstVictim != 3 {
		t.Fatalf("first preempted sequence %d, want the newest (3)", firstVictim)
	}
	for _, s := range seqs {
		if s.state != stateDone || s.generated != 512 {
			t.Fatalf("seq %d: state %d generated %d", s.id, s.state, s.generated)
		}
	}
	if v.e.freeBlocks != v.e.totalBlocks {
		t.Fatalf("blocks leaked: %d free of %d", v.e.freeBlocks, v.e.totalBlocks)
	}
}

func TestIterationTimeFollowsFormula(t *testing.T) {
	cfg := engineCfg()
	cfg.IterFixed = 10 * time.Millisecond
	cfg.PerPrefillToken = 100 * time.Microsecond
	cfg.PerDecodeSeq = time.Millisecond
	cfg.MaxBatchedTokens = 2048
	v := newVClock(cfg)
	a, b := v.submit(100, 3), v.submit(100, 3)
	it, _ := v.step()
	if it.PrefillTokens != 200 || it.DecodeSeqs != 0 || it.Duration != 30*time.Millisecond {
		t.Fatalf("first iteration %+v, want 200 prefill tokens lasting 10ms+200×0.1ms", it)
	}
	if a.generated != 1 || b.generated != 1 {
		t.Fatal("prefill did not sample the first token")
	}
	if ttft := a.firstTok.Sub(a.arrival); ttft != 30*time.Millisecond {
		t.Fatalf("TTFT %v, want 30ms from arrival", ttft)
	}
	c := v.submit(50, 1)
	it, _ = v.step()
	if it.PrefillTokens != 50 || it.DecodeSeqs != 2 || it.Duration != 17*time.Millisecond {
		t.Fatalf("second iteration %+v, want 50 prefill + 2 decodes = 10+5+2 ms", it)
	}
	if c.state != stateDone {
		t.Fatal("one-token request did not finish after its prefill")
	}
	// A 5000-token prompt is prefilled in chunks of the 2048-token budget.
	v = newVClock(cfg)
	long := v.submit(5000, 2)
	var chunks []int
	for long.generated == 0 {
		it, _ := v.step()
		chunks = append(chunks, it.PrefillTokens)
	}
	if len(chunks) != 3 || chunks[0] != 2048 || chunks[1] != 2048 || chunks[2] != 904 {
		t.Fatalf("prefill chunks %v, want [2048 2048 904]", chunks)
	}
}

func TestCancelFreesBlocks(t *testing.T) {
	v := newVClock(engineCfg())
	a, b := v.submit(256, 100), v.submit(256, 100)
	v.step()
	v.e.cancel(a)
	v.e.cancel(b)
	if _, ok := v.e.begin(v.now); ok {
		t.Fatal("cancelled requests still scheduled")
	}
	if a.state != stateDone || a.reason != ReasonAbort || v.e.freeBlocks != v.e.totalBlocks {
		t.Fatalf("state %d reason %q free %d/%d", a.state, a.reason, v.e.freeBlocks, v.e.totalBlocks)
	}
}

func TestPrefixCacheSkipsCachedPrefill(t *testing.T) {
	cfg := DefaultConfig()
	v := newVClock(cfg)
	ids := Tokenize(longText(300))
	first := v.submit(len(ids), 2)
	first.blockHashes = blockHashes(ids, cfg.BlockSize)
	it, _ := v.step()
	if it.PrefillTokens != len(ids) {
		t.Fatalf("cold prompt prefilled %d tokens, want %d", it.PrefillTokens, len(ids))
	}
	second := v.submit(len(ids), 2)
	second.blockHashes = first.blockHashes
	it, _ = v.step()
	want := len(ids) - len(ids)/16*16
	if it.PrefillTokens != max(want, 1) {
		t.Fatalf("warm prompt prefilled %d tokens, want only the partial block (%d)", it.PrefillTokens, want)
	}
}

func TestFixedLatencyIgnoresLoad(t *testing.T) {
	cfg, _ := Profile("fixed-latency")
	v := newVClock(cfg)
	var seqs []*seq
	for i := 0; i < 1000; i++ {
		seqs = append(seqs, v.submit(100, 5))
		// staggered arrivals: run the engine up to the next one
		next := v.now.Add(137 * time.Microsecond)
		for {
			it, ok := v.e.begin(v.now)
			if !ok || v.now.Add(it.Duration).After(next) {
				break
			}
			v.now = v.now.Add(it.Duration)
			v.e.end(v.now)
		}
		v.now = next
	}
	for i := 0; i < 100000; i++ {
		if _, ok := v.step(); !ok {
			break
		}
	}
	ttft := cfg.IterFixed + 100*cfg.PerPrefillToken
	itl := cfg.IterFixed + cfg.PerDecodeSeq
	for _, s := range seqs {
		if s.state != stateDone || s.generated != 5 {
			t.Fatalf("seq %d not done: %d tokens", s.id, s.generated)
		}
		if got := s.firstTok.Sub(s.arrival); got != ttft {
			t.Fatalf("seq %d TTFT %v, want %v", s.id, got, ttft)
		}
		if got := s.lastTok.Sub(s.firstTok); got != 4*itl {
			t.Fatalf("seq %d decode time %v, want 4×%v", s.id, got, itl)
		}
	}
}

// steadyITL runs workload A closed-loop at concurrency c in virtual time
// and returns the mean inter-token time and the peak KV usage.
func steadyITL(cfg Config, c int) (time.Duration, float64) {
	v := newVClock(cfg)
	clients := make([]*seq, c)
	for i := range clients {
		clients[i] = v.submit(256, 128)
	}
	var sum time.Duration
	var n int
	peak := 0.0
	for i := 0; i < 4000; i++ {
		it, ok := v.step()
		if !ok {
			break
		}
		if i > 1000 {
			sum += it.Duration
			n++
			peak = max(peak, v.e.kvUsage())
		}
		for j, s := range clients {
			if s.state == stateDone {
				clients[j] = v.submit(256, 128)
			}
		}
	}
	return sum / time.Duration(max(n, 1)), peak
}

// The demo's story: INT4 on one GPU keeps 20 tokens/s per user (and KV
// below 90%) up to a lower total concurrency than BF16 on four, but
// serves more users per GPU.
func TestProfilesTellTheStory(t *testing.T) {
	atSLA := func(name string) (int, int) {
		cfg, err := Profile(name)
		if err != nil {
			t.Fatal(err)
		}
		best := 0
		for c := 1; c <= 96; c++ {
			itl, kv := steadyITL(cfg, c)
			if itl > 50*time.Millisecond || kv > 0.9 {
				break
			}
			best = c
		}
		return best, cfg.GPUs
	}
	bf, bfGPUs := atSLA("mistral-bf16-tp4")
	i4, i4GPUs := atSLA("mistral-int4-tp1")
	t.Logf("max concurrency at SLA: bf16 %d on %d GPUs, int4 %d on %d GPUs", bf, bfGPUs, i4, i4GPUs)
	if i4 >= bf {
		t.Fatalf("INT4 saturates at %d, BF16 at %d: want INT4 lower", i4, bf)
	}
	if float64(i4)/float64(i4GPUs) <= float64(bf)/float64(bfGPUs) {
		t.Fatalf("users per GPU: INT4 %.1f, BF16 %.1f: want INT4 higher", float64(i4)/float64(i4GPUs), float64(bf)/float64(bfGPUs))
	}
}

func longText(words int) string {
	b := make([]byte, 0, words*5)
	for i := 0; i < words; i++ {
		b = append(b, outputWord(7, i)...)
	}
	return string(b)
}

// TimeScale multiplies every modelled duration: at 0.1 a request's TTFT
// and per-token time are a tenth of those at 1, in batched mode (with
// prefill, chunking and decode batching) and in fixed-latency mode.
func TestTimeScaleScalesLatencies(t *testing.T) {
	type lat struct{ ttft, perToken time.Duration }
	run := func(cfg Config) []lat {
		v := newVClock(cfg)
		var seqs []*seq
		for i := 0; i < 6; i++ {
			seqs = append(seqs, v.submit(300+700*i, 20+i))
			v.step() // staggered: later arrivals join a running batch
		}
		for i := 0; i < 100000; i++ {
			if _, ok := v.step(); !ok {
				break
			}
		}
		var out []lat
		for _, s := range seqs {
			if s.state != stateDone {
				t.Fatalf("seq %d unfinished", s.id)
			}
			out = append(out, lat{s.firstTok.Sub(s.arrival), s.lastTok.Sub(s.firstTok) / time.Duration(s.generated-1)})
		}
		return out
	}
	near := func(got, want time.Duration) bool { return (got - want).Abs() <= time.Microsecond }
	for _, name := range []string{"mistral-int4-tp1", "mistral-bf16-tp4", "fixed-latency"} {
		cfg, _ := Profile(name)
		cfg.MaxBatchedTokens = 2048 // the 3800-token prompts are chunked
		base := run(cfg)
		cfg.TimeScale = 0.1
		fast := run(cfg)
		for i := range base {
			if !near(fast[i].ttft, base[i].ttft/10) || !near(fast[i].perToken, base[i].perToken/10) {
				t.Errorf("%s seq %d: TTFT %v and per-token %v at scale 0.1, want a tenth of %v and %v",
					name, i+1, fast[i].ttft, fast[i].perToken, base[i].ttft, base[i].perToken)
			}
		}
		if base[0].ttft <= 0 || base[0].perToken <= 0 {
			t.Fatalf("%s: degenerate latencies %+v", name, base[0])
		}
	}
}

func TestTimeScaleValidation(t *testing.T) {
	for _, bad := range []float64{0, -1, 100.5, math.NaN(), math.Inf(1)} {
		cfg := DefaultConfig()
		cfg.TimeScale = bad
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "time-scale") {
			t.Errorf("time scale %v: error %v, want a time-scale error", bad, err)
		}
	}
	for _, good := range []float64{0.001, 0.1, 1, 100} {
		cfg := DefaultConfig()
		cfg.TimeScale = good
		if err := cfg.Validate(); err != nil {
			t.Errorf("time scale %v rejected: %v", good, err)
		}
	}
	if c, _ := Profile("mistral-int4-tp1"); c.TimeScale != 1 {
		t.Fatalf("profile time scale %v, want 1", c.TimeScale)
	}
}
