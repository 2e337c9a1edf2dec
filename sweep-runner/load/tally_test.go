package load

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/client"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// t0 is the synthetic step's start; at(ms) a time after it.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(ms float64) time.Time { return t0.Add(time.Duration(ms * float64(time.Millisecond))) }

// streamed is a successful request: started at start, first token after
// ttft, then chunks-1 more one gap apart (ms), usage included.
func streamed(start, ttft, gap float64, chunks int) client.Result {
	end := start + ttft + gap*float64(chunks-1)
	return client.Result{Start: at(start), FirstToken: at(start + ttft), LastToken: at(end), End: at(end),
		Chunks: chunks, WindowChunks: chunks, HasUsage: true, PromptTokens: 100, CompletionTokens: chunks, StatusCode: 200}
}

func sla() v1alpha1.SLA {
	return v1alpha1.SLA{
		TTFT:         v1alpha1.DurationThresholds{Acceptable: v1alpha1.Duration{Duration: 500 * time.Millisecond}},
		ReadingSpeed: v1alpha1.FloatThresholds{Acceptable: 20}, // tok/s: TPOT <= 50 ms
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestTally adds up a synthetic step: window [1000, 3000] ms.
func TestTally(t *testing.T) {
	res := &Result{Errors: map[string]int{}}
	tl := tally{res: res, ws: at(1000), we: at(3000), sla: sla()}
	add := func(phase int32, r client.Result, out int) {
		o := outcome{phase: phase, r: r, out: out}
		o.settle(at(3500), 400*time.Millisecond, 90)
		tl.add(&o)
	}
	// Warmup: one success (500..900 ms, outside the window), one error.
	add(phaseWarmup, streamed(500, 100, 30, 11), 11)
	add(phaseWarmup, client.Result{Start: at(600), End: at(700), ErrKind: "http_500", StatusCode: 500}, 10)
	// Window:
	// a) good: TTFT 200 ms, TPOT 30 ms.
	add(phaseWindow, streamed(1000, 200, 30, 11), 11)
	// b) slow first token (TTFT 700 ms): not good; asked 12, got 11.
	add(phaseWindow, streamed(1100, 700, 30, 11), 12)
	// c) slow reading (TPOT 80 ms): not good; no usage (prompt from the
	// calibration, a usage miss).
	c := streamed(1200, 100, 80, 11)
	c.HasUsage, c.PromptTokens, c.CompletionTokens = false, 0, 0
	add(phaseWindow, c, 11)
	// d) usage counts 2 tokens per chunk: a token count mismatch.
	d := streamed(1300, 100, 30, 5)
	d.CompletionTokens = 10
	add(phaseWindow, d, 10)
	// e) timed out without a first token after 2 s: TTFT >= 2 s.
	add(phaseWindow, client.Result{Start: at(1400), End: at(3400), ErrKind: results.ErrTimeout}, 10)
	// f) cut at the end (3500 ms) while streaming, the last of 3 chunks
	// 100 ms before: incomplete, censored, partial TPOT 250 ms.
	f := streamed(2800, 100, 250, 3)
	f.End, f.Incomplete = time.Time{}, true
	add(phaseWindow, f, 10)
	// g) cut after 500 ms of silence: stalled (errored), TTFT kept.
	g := streamed(2000, 100, 30, 3)
	g.End, g.Incomplete = time.Time{}, true
	add(phaseWindow, g, 10)
	// h) cut without a first token: TTFT >= its wait, no prompt tokens.
	add(phaseWindow, client.Result{Start: at(2900), Incomplete: true}, 10)
	// i) connection refused: errored, no TTFT.
	add(phaseWindow, client.Result{Start: at(2950), End: at(2951), ErrKind: results.ErrConnect}, 10)
	// Tail: one success.
	add(phaseTail, streamed(3000, 100, 30, 11), 11)
	tl.close(1000)

	if want := (results.Counts{Started: 2, Successful: 1, Errored: 1}); res.Warmup != want {
		t.Errorf("warmup %+v", res.Warmup)
	}
	if want := (results.Counts{Started: 9, Successful: 4, Errored: 3, Incomplete: 2}); res.Requests != want {
		t.Errorf("window %+v, want %+v", res.Requests, want)
	}
	if want := (results.Counts{Started: 1, Successful: 1}); res.Tail != want {
		t.Errorf("tail %+v", res.Tail)
	}
	if want := map[string]int{results.ErrTimeout: 1, results.ErrStalled: 1, results.ErrConnect: 1}; len(res.Errors) != 3 ||
		res.Errors[results.ErrTimeout] != 1 || res.Errors[results.ErrStalled] != 1 || res.Errors[results.ErrConnect] != 1 {
		t.Errorf("errors %v, want %v", res.Errors, want)
	}
	if res.Censored != 3 { // f, g (stalled), h
		t.Errorf("censored %d", res.Censored)
	}
	// TTFT: a, b, c, d; e (2 s wait); f; g (stalled keeps its TTFT); h (600 ms wait).
	if want := []float64{0.2, 0.7, 0.1, 0.1, 2, 0.1, 0.1, 0.6}; !slicesNear(res.TTFT, want) {
		t.Errorf("TTFT %v, want %v", res.TTFT, want)
	}
	// TPOT: a, b, c, d (e2e - ttft over tokens-1: 120 ms / 9), f and g partial.
	if want := []float64{0.03, 0.03, 0.08, 0.12 / 9, 0.25, 0.03}; !slicesNear(res.TPOT, want) {
		t.Errorf("TPOT %v, want %v", res.TPOT, want)
	}
	if want := []float64{0.5, 1.0, 0.9, 0.22}; !slicesNear(res.E2E, want) {
		t.Errorf("E2E %v, want %v", res.E2E, want)
	}
	if want := []float64{100, 100, 90, 100}; !slices.Equal(res.PromptTokens, want) {
		t.Errorf("prompt tokens %v", res.PromptTokens)
	}
	if want := []float64{11, 11, 11, 10}; !slices.Equal(res.OutputTokens, want) {
		t.Errorf("output tokens %v", res.OutputTokens)
	}
	// Window prompt tokens: the successes and f (cut after tokens).
	if res.WindowPromptTokens != 100+100+90+100+100 {
		t.Errorf("window prompt tokens %d", res.WindowPromptTokens)
	}
	if res.Good != 2 { // a and d
		t.Errorf("good %d", res.Good)
	}
	// c has no usage, d 10 tokens in 5 chunks, b 11 tokens of the 12 asked.
	if res.UsageMissing != 1 || res.TokenCountMismatches != 1 || res.OutputLengthMismatches != 1 {
		t.Errorf("usage missing %d, token mismatches %d, length mismatches %d", res.UsageMissing, res.TokenCountMismatches, res.OutputLengthMismatches)
	}
	// Busy time inside [1000, 3000]: a .5, b 1.0, c .9, d .22, e 1.6, f .2,
	// g 1.0, h .1, i .001; the warmup's and tail's requests lie outside.
	if want := 0.5 + 1.0 + 0.9 + 0.22 + 1.6 + 0.2 + 1.0 + 0.1 + 0.001; !near(res.BusySeconds, want) {
		t.Errorf("busy %v, want %v", res.BusySeconds, want)
	}
	// Successful requests with usage, any phase (warmup, a, b, d, tail):
	// their tokens per chunk scale the window's 1000 chunks.
	usageTok, usageChunks := 11+11+11+10+11.0, 11+11+11+5+11.0
	if want := int64(1000*usageTok/usageChunks + 0.5); res.WindowOutputTokens != want {
		t.Errorf("window output tokens %d, want %d", res.WindowOutputTokens, want)
	}
}

func slicesNear(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !near(a[i], b[i]) {
			return false
		}
	}
	return true
}

// TestSettle: the end stamp, stall reclassification and prompt tokens.
func TestSettle(t *testing.T) {
	now := at(5000)
	for _, tc := range []struct {
		name         string
		r            client.Result
		stallAfter   time.Duration
		wantErr      string
		wantStalled  bool
		wantIncompl  bool
		wantPrompt   int
		wantEndAtNow bool
	}{
		{"success", streamed(0, 100, 30, 5), time.Second, "", false, false, 100, false},
		{"no usage", client.Result{Start: at(0), End: at(10)}, time.Second, "", false, false, 77, false},
		{"cut while streaming", client.Result{Start: at(0), FirstToken: at(100), LastToken: at(4500), Incomplete: true, HasUsage: true, PromptTokens: 5}, time.Second, "", false, true, 5, true},
		{"cut after silence", client.Result{Start: at(0), FirstToken: at(100), LastToken: at(3000), Incomplete: true}, time.Second, results.ErrStalled, true, false, 77, true},
		{"silence, stall check off", client.Result{Start: at(0), FirstToken: at(100), LastToken: at(3000), Incomplete: true}, 0, "", false, true, 77, true},
		{"cut before any token", client.Result{Start: at(0), Incomplete: true}, time.Second, "", false, true, 77, true},
	} {
		o := outcome{r: tc.r}
		o.settle(now, tc.stallAfter, 77)
		if o.r.ErrKind != tc.wantErr || o.stalled != tc.wantStalled || o.r.Incomplete != tc.wantIncompl || o.prompt != tc.wantPrompt ||
			(o.r.End.Equal(now) != tc.wantEndAtNow) {
			t.Errorf("%s: %+v stalled %v prompt %d", tc.name, o.r, o.stalled, o.prompt)
		}
	}
}

func TestNextBackoff(t *testing.T) {
	var b time.Duration
	var got []time.Duration
	for range 9 {
		b = nextBackoff(b, results.ErrConnect)
		got = append(got, b)
	}
	want := []time.Duration{10, 20, 40, 80, 160, 320, 640, 1000, 1000}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("backoffs %v", got)
		}
	}
	if nextBackoff(b, "") != 0 || nextBackoff(b, results.ErrTimeout) != 0 {
		t.Error("backoff not reset")
	}
}

// TestLengths: nominal lengths, the spread around them and the desynchronised
// first request, all deterministic per request number.
func TestLengths(t *testing.T) {
	cfg := &Config{OutputTokens: 100, InputTokens: 200, Prompt: &client.Prompt{Words: 150, Tokens: 200}}
	if out, words := cfg.lengths(7, true); out != 100 || words != 150 {
		t.Errorf("nominal: %d %d", out, words)
	}
	cfg.Lengths = &v1alpha1.Scenario{InputTokens: 200, OutputTokens: 100, Spread: 0.2}
	seen := map[int]bool{}
	for n := uint64(1); n < 200; n++ {
		out, _ := cfg.lengths(n, false)
		if out < 80 || out > 120 {
			t.Fatalf("n=%d: out %d beyond +-20 %%", n, out)
		}
		seen[out] = true
		if o2, _ := cfg.lengths(n, false); o2 != out {
			t.Fatal("not deterministic")
		}
	}
	if len(seen) < 10 {
		t.Errorf("spread gave only %d lengths", len(seen))
	}
	cfg.Lengths, cfg.Desync = nil, true
	short := 0
	for n := uint64(1); n < 200; n++ {
		out, _ := cfg.lengths(n, true)
		if out < 1 || out > 100 {
			t.Fatalf("desync: %d", out)
		}
		if out < 50 {
			short++
		}
		if o, _ := cfg.lengths(n, false); o != 100 {
			t.Fatal("desync beyond the first request")
		}
	}
	if short < 60 || short > 140 {
		t.Errorf("desync: %d of 199 first requests below half the length", short)
	}
}
