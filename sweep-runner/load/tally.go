package load

import (
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/analysis"
	"github.com/rhoai-demo/step07/sweep-runner/client"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// Making requests and adding up their results are separate, as in vegeta's
// attacker and Metrics: a worker (loop) builds a request, sends it and
// settles what came back into an outcome; a tally adds outcomes up into
// the step's Result. Everything here is pure: no clock, no network, no
// shared state, and tested with synthetic results.

// outcome is one finished request.
type outcome struct {
	// phase the request started in.
	phase int32
	r     client.Result
	// prompt tokens (the server's usage, else the prompt's own count) and
	// the output length asked.
	prompt, out int
	// stalled: cut at the step's end after its stream had gone silent for
	// longer than StallAfter, and so errored (kind stalled).
	stalled bool
	// pop: the request's turn and the think time after it (users.go).
	pop popOutcome
	// sent: when an open-loop request left the client (zero in the closed
	// loop, where r.Start is the send). Its latencies count from r.Start,
	// its scheduled send time; it is in flight from sent.
	sent time.Time
}

// settle completes a request's outcome once Do returned: an end stamped
// (now) when the client left none, a request cut at the step's end whose
// stream had streamed and then sent nothing for longer than stallAfter (> 0)
// reclassified from incomplete to errored (kind stalled), and the prompt
// tokens (usage, else promptTokens).
func (o *outcome) settle(now time.Time, stallAfter time.Duration, promptTokens int) {
	r := &o.r
	if r.End.IsZero() {
		r.End = now
	}
	if r.Incomplete && stallAfter > 0 && !r.LastToken.IsZero() && r.End.Sub(r.LastToken) > stallAfter {
		r.Incomplete, r.ErrKind, o.stalled = false, results.ErrStalled, true
	}
	o.prompt = r.PromptTokens
	if !r.HasUsage {
		o.prompt = promptTokens
	}
}

// lengths of request number n: the output tokens asked and the prompt's
// words, drawn by cfg.Lengths deterministically per n and, for a user's
// first request under Desync, a random share of the output length.
func (cfg *Config) lengths(n uint64, first bool) (out, words int) {
	out, words = cfg.OutputTokens, cfg.Prompt.Words
	if len(cfg.Records) > 0 {
		out = cfg.Records[pick(n, len(cfg.Records))].Out
	} else if l := cfg.Lengths; l != nil {
		var in int
		in, out = l.Draw(n)
		words = cfg.Prompt.WordsFor(in, cfg.InputTokens)
	}
	if first && cfg.Desync {
		full := max(1, out)
		out = min(full, 1+int((unit(n^0x5851f42d4c957f2d)+1)/2*float64(full)))
	}
	return out, words
}

// Record is a recorded request: its prompt (a text, or chat messages) and
// the output tokens it asks for.
type Record struct {
	Prompt   string           `json:",omitempty"`
	Messages []client.Message `json:",omitempty"`
	Out      int
}

// pick is the record request n replays: uniform over n records, seeded by
// the request number.
func pick(n uint64, records int) int {
	return min(records-1, int((unit(n^0xd6e8feb86659fd93)+1)/2*float64(records)))
}

// body is request n's JSON body of words filler words (a synthetic prompt)
// or its record's prompt, for out output tokens.
func (cfg *Config) body(n uint64, words, out int) []byte {
	if len(cfg.Records) > 0 {
		r := &cfg.Records[pick(n, len(cfg.Records))]
		return cfg.Prompt.AppendRecorded(make([]byte, 0, 256+len(r.Prompt)), n, r.Prompt, r.Messages, out)
	}
	return cfg.Prompt.AppendBody(make([]byte, 0, 256+8*words), n, words, out)
}

// nextBackoff is the pause after a request: a server that refuses
// connections (down, restarting) is retried after a pause growing from
// 10 ms to 1 s, not in a busy loop that would start thousands of requests a
// second and bury the step's statistics in refusals; any other outcome
// resets it (0: no pause).
func nextBackoff(prev time.Duration, errKind string) time.Duration {
	if errKind != results.ErrConnect {
		return 0
	}
	return min(max(2*prev, 10*time.Millisecond), time.Second)
}

// tally adds outcomes up into a Result: counts per phase, the window
// requests' errors, censoring, per-request values and goodput (graded
// against sla), and the time spent in requests inside the window [ws, we].
type tally struct {
	res    *Result
	ws, we time.Time
	sla    v1alpha1.SLA
	// usage tokens and content chunks of successful requests with usage,
	// any phase: their ratio scales the window's token count (close).
	usageTok, usageChunks int64
}

// add one outcome.
func (t *tally) add(o *outcome) {
	res, r := t.res, &o.r
	inFlight := r.Start
	if !o.sent.IsZero() {
		inFlight = o.sent
	}
	res.BusySeconds += overlap(inFlight, r.End, t.ws, t.we).Seconds()
	c := &res.Warmup
	switch o.phase {
	case phaseWindow:
		c = &res.Requests
	case phaseTail:
		c = &res.Tail
	}
	c.Started++
	switch {
	case r.Incomplete:
		c.Incomplete++
	case r.ErrKind != "":
		c.Errored++
	default:
		c.Successful++
	}
	if r.ErrKind == "" && !r.Incomplete && r.HasUsage && r.Chunks > 0 {
		t.usageTok += int64(r.CompletionTokens)
		t.usageChunks += int64(r.Chunks)
	}
	if o.phase != phaseWindow {
		return
	}
	defer t.addPop(o, len(res.TTFT))
	if r.ErrKind != "" {
		res.Errors[r.ErrKind]++
	}
	cutShort := r.Incomplete || o.stalled
	if cutShort {
		res.Censored++
	}
	if r.ErrKind == "" && !r.Incomplete || r.Incomplete && r.Chunks > 0 {
		res.WindowPromptTokens += int64(o.prompt)
	}
	switch {
	case !r.FirstToken.IsZero() && (r.ErrKind == "" || o.stalled):
		ttft := r.TTFT()
		res.TTFT = append(res.TTFT, ttft.Seconds())
		if r.HasServerTTFT {
			res.ServerTTFT = append(res.ServerTTFT, r.ServerTTFT.Seconds())
			res.TTFTSkew = append(res.TTFTSkew, (r.FirstToken.Sub(inFlight) - r.ServerTTFT).Seconds())
		}
	case r.FirstToken.IsZero() && (cutShort || r.ErrKind == results.ErrTimeout):
		// Waited without a first token until it was cut or timed out:
		// its TTFT is at least that wait.
		res.TTFT = append(res.TTFT, r.End.Sub(r.Start).Seconds())
	}
	if cutShort {
		if r.Chunks >= 2 {
			res.TPOT = append(res.TPOT, r.LastToken.Sub(r.FirstToken).Seconds()/float64(r.Chunks-1))
		}
		return
	}
	if r.ErrKind != "" {
		return
	}
	e2e := r.End.Sub(r.Start)
	ntok := r.OutputTokens()
	var tpot time.Duration
	if ntok > 1 && !r.FirstToken.IsZero() {
		tpot = (e2e - r.TTFT()) / time.Duration(ntok-1)
	}
	res.E2E = append(res.E2E, e2e.Seconds())
	res.TPOT = append(res.TPOT, tpot.Seconds())
	res.PromptTokens = append(res.PromptTokens, float64(o.prompt))
	res.OutputTokens = append(res.OutputTokens, float64(ntok))
	if !r.HasUsage {
		res.UsageMissing++
	} else if r.CompletionTokens != r.Chunks {
		res.TokenCountMismatches++
	}
	if ntok != o.out {
		res.OutputLengthMismatches++
	}
	if !r.FirstToken.IsZero() && analysis.GoodRequest(r.TTFT(), tpot, t.sla) {
		res.Good++
	}
}

// carry counts a request still running when its step ended, neither
// finished nor aborted by it (a session's users run on into the next
// step): incomplete in its phase, and censored when it is a window request
// (the step aborts those, so this is a request whose abort was not seen in
// time).
func (t *tally) carry(phase int32) {
	c := &t.res.Warmup
	switch phase {
	case phaseWindow:
		c = &t.res.Requests
		t.res.Censored++
	case phaseTail:
		c = &t.res.Tail
	}
	c.Started++
	c.Incomplete++
}

// close sets the window's output tokens from the content chunks counted
// in it: chunks that carry several tokens (usage says so) scale the count.
func (t *tally) close(windowChunks int64) {
	t.res.WindowOutputTokens = windowChunks
	if t.usageChunks > 0 && t.usageTok != t.usageChunks {
		t.res.WindowOutputTokens = int64(float64(windowChunks)*float64(t.usageTok)/float64(t.usageChunks) + 0.5)
	}
}
