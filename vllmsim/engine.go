package vllmsim

import (
	"container/heap"
	"sync/atomic"
	"time"
)

// Finish reasons, as vLLM's request_success_total{finished_reason} labels them.
const (
	ReasonStop   = "stop"
	ReasonLength = "length"
	ReasonAbort  = "abort"
	ReasonError  = "error"
)

type seqState uint8

const (
	stateWaiting seqState = iota
	stateRunning
	stateDone
)

// seq is one request inside the engine. Fields above the line are set
// before the engine sees it; engine fields are guarded by the engine's
// owner (the Server's mutex); the published fields are read by the HTTP
// handler without that lock.
type seq struct {
	id          uint64
	prompt      int      // prompt tokens
	target      int      // output tokens to produce before finishing
	stopReason  string   // reason when target is reached: "length" or "stop"
	blockHashes []uint64 // chained hashes of the prompt's full blocks
	// promptIDs and textSeed (with prefix caching): the prompt's token ids
	// and the seed of the generated text, so that the blocks the request
	// computed, its answer included, are cached when it finishes (vLLM V1
	// caches every full block it computed, decode blocks too): the next
	// turn of a conversation, which resends the answer, hits them.
	promptIDs []int
	textSeed  uint64
	arrival   time.Time

	// engine-owned
	state     seqState
	cancelled bool
	generated int // tokens sampled so far
	pending   int // tokens to prefill before the next sample
	blocks    int // KV blocks held
	chunk     int // prefill tokens scheduled in the current iteration
	scheduled bool
	admitted  time.Time // first scheduled (end of queueing)
	everRun   bool
	firstTok  time.Time
	lastTok   time.Time
	due       time.Time // fixed-latency mode: time of the next token
	heapIdx   int

	// published to the handler: produced counts sampled tokens, finished
	// is set last (after reason), notify is signalled without blocking.
	produced atomic.Int64
	finished atomic.Bool
	reason   string
	notify   chan struct{}
}

// publish tells the handler about new tokens or the end, never blocking the engine.
func (s *seq) publish() {
	if s.notify == nil {
		return
	}
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// iteration describes what one engine step scheduled and how long it takes.
type iteration struct {
	Duration      time.Duration
	PrefillTokens int
	DecodeSeqs    int
	Admitted      int
	Preempted     int
}

// engine is the scheduler core. It never reads the clock or sleeps: the
// caller passes the time, so tests drive it in virtual time. In batched
// mode each begin must be followed by one end at begin's time + Duration.
type engine struct {
	cfg         Config
	totalBlocks int
	freeBlocks  int
	waiting     []*seq // FIFO; preempted sequences go back to the front
	running     []*seq // admission order; the newest is preempted first
	fixed       seqHeap
	// fixedBacklog: the last fixed-latency admission left requests waiting.
	fixedBacklog bool
	prefix       *prefixCache
	m            *metrics // nil in pure scheduler tests

	preemptions int
	iterations  int
}

// newEngine builds the engine for cfg with its durations scaled by
// cfg.TimeScale.
func newEngine(cfg Config, m *metrics) *engine {
	cfg = cfg.effective()
	total := cfg.KVCacheTokens / cfg.BlockSize
	e := &engine{cfg: cfg, totalBlocks: total, freeBlocks: total, m: m}
	if cfg.PrefixCaching {
		e.prefix = newPrefixCache(total)
	}
	return e
}

func (e *engine) blocksFor(tokens int) int { return (tokens + e.cfg.BlockSize - 1) / e.cfg.BlockSize }

// fits reports whether a request of this size could ever run alone.
func (e *engine) fits(prompt, maxTokens int) bool {
	return e.blocksFor(prompt+maxTokens) <= e.totalBlocks
}

func (e *engine) numRunning() int {
	if e.cfg.FixedLatency {
		return len(e.fixed)
	}
	return len(e.running)
}

func (e *engine) numWaiting() int { return len(e.waiting) }

func (e *engine) kvUsage() float64 {
	if e.totalBlocks == 0 {
		return 0
	}
	return float64(e.totalBlocks-e.freeBlocks) / float64(e.totalBlocks)
}

// add queues a request that arrived at s.arrival.
func (e *engine) add(s *seq) {
	s.state = stateWaiting
	e.waiting = append(e.waiting, s)
}

// cancel marks a request aborted; the next begin drops it and frees its blocks.
func (e *engine) cancel(s *seq) { s.cancelled = true }

func (e *engine) dropCancelled(now time.Time) {
	kept := e.waiting[:0]
	for _, s := range e.waiting {
		if s.cancelled {
			e.finish(s, now, ReasonAbort)
		} else {
			kept = append(kept, s)
		}
	}
	clear(e.waiting[len(kept):])
	e.waiting = kept
	if e.cfg.FixedLatency {
		for i := 0; i < len(e.fixed); {
			if s := e.fixed[i]; s.cancelled {
				heap.Remove(&e.fixed, i)
				e.finish(s, now, ReasonAbort)
				continue
			}
			i++
		}
		return
	}
	run := e.running[:0]
	for _, s := range e.running {
		if s.cancelled {
			e.finish(s, now, ReasonAbort)
		} else {
			run = append(run, s)
		}
	}
	clear(e.running[len(run):])
	e.running = run
}

// begin schedules the iteration starting at now. It returns false when
// there is nothing to run. In fixed-latency mode it admits and returns the
// time until the next token is due; calling it again is harmless.
func (e *engine) begin(now time.Time) (iteration, bool) {
	e.dropCancelled(now)
	if e.cfg.FixedLatency {
		return e.beginFixed(now)
	}
	var it iteration
	budget := e.cfg.MaxBatchedTokens
	for i := 0; i < len(e.running); i++ {
		s := e.running[i]
		if s.pending > 0 {
			if budget > 0 {
				s.chunk = min(s.pending, budget)
				budget -= s.chunk
				s.scheduled = true
				it.PrefillTokens += s.chunk
			}
			continue
		}
		// Decoding computes the KV of the last sampled token: it may need a
		// new block. Without one, preempt the newest sequence (recompute).
		need := e.blocksFor(s.prompt+s.generated) - s.blocks
		for need > e.freeBlocks && s.state == stateRunning {
			e.preempt(e.running[len(e.running)-1])
			it.Preempted++
		}
		if s.state != stateRunning {
			break // s was the newest: everything after it is gone too
		}
		e.allocate(s, need)
		s.scheduled = true
		it.DecodeSeqs++
	}
	// Admit from the head of the queue while the batch, the KV cache and the
	// prefill budget allow, but not in a step that had to preempt (as vLLM).
	for it.Preempted == 0 && len(e.waiting) > 0 && len(e.running) < e.cfg.MaxNumSeqs && budget > 0 {
		s := e.waiting[0]
		need := e.blocksFor(s.prompt + s.generated)
		if need > e.freeBlocks {
			break
		}
		e.popWaiting()
		e.admit(s, now, need)
		s.chunk = min(s.pending, budget)
		budget -= s.chunk
		s.scheduled = true
		it.PrefillTokens += s.chunk
		it.Admitted++
		e.running = append(e.running, s)
	}
	if it.PrefillTokens == 0 && it.DecodeSeqs == 0 {
		return it, false
	}
	it.Duration = e.cfg.IterFixed + time.Duration(it.PrefillTokens)*e.cfg.PerPrefillToken + time.Duration(it.DecodeSeqs)*e.cfg.PerDecodeSeq
	e.iterations++
	return it, true
}

// end completes the iteration begun earlier: chunks advance, sequences
// whose prefill completed or that decoded sample a token, finished ones
// leave and free their blocks.
func (e *engine) end(now time.Time) {
	if e.cfg.FixedLatency {
		e.endFixed(now)
		return
	}
	kept := e.running[:0]
	for _, s := range e.running {
		if !s.scheduled {
			kept = append(kept, s)
			continue
		}
		s.scheduled = false
		if s.chunk > 0 {
			s.pending -= s.chunk
			s.chunk = 0
			if s.pending > 0 {
				kept = append(kept, s)
				continue
			}
		}
		e.sample(s, now)
		if s.generated >= s.target {
			e.finish(s, now, s.stopReason)
			continue
		}
		kept = append(kept, s)
	}
	clear(e.running[len(kept):])
	e.running = kept
}

func (e *engine) popWaiting() {
	e.waiting[0] = nil
	e.waiting = e.waiting[1:]
}

func (e *engine) allocate(s *seq, blocks int) {
	s.blocks += blocks
	e.freeBlocks -= blocks
}

func (e *engine) release(s *seq) {
	e.freeBlocks += s.blocks
	s.blocks = 0
}

// admit moves s into the batch with its KV blocks and sets how much it must prefill.
func (e *engine) admit(s *seq, now time.Time, blocks int) {
	e.allocate(s, blocks)
	s.state = stateRunning
	if !s.everRun {
		s.everRun = true
		s.admitted = now
		if e.m != nil {
			e.m.queueTime.Observe(now.Sub(s.arrival).Seconds())
		}
	}
	if s.generated > 0 {
		s.pending = s.prompt + s.generated // recompute after preemption
		return
	}
	hit := 0
	if e.prefix != nil {
		hit = e.prefix.lookupAndInsert(s.blockHashes) * e.cfg.BlockSize
		if e.m != nil {
			e.m.prefixQueries.Add(float64(s.prompt))
			e.m.prefixHits.Add(float64(hit))
		}
	}
	s.pending = max(1, s.prompt-hit)
}

// preempt evicts s from the batch (recompute: its KV is dropped) and puts
// it at the front of the queue.
func (e *engine) preempt(s *seq) {
	e.release(s)
	s.state = stateWaiting
	s.scheduled = false
	s.chunk = 0
	s.pending = 0
	e.running[len(e.running)-1] = nil
	e.running = e.running[:len(e.running)-1]
	e.waiting = append(e.waiting, nil)
	copy(e.waiting[1:], e.waiting)
	e.waiting[0] = s
	e.preemptions++
	if e.m != nil {
		e.m.preemptions.Inc()
	}
}

// sample records one generated token of s at now.
func (e *engine) sample(s *seq, now time.Time) {
	s.generated++
	if e.m != nil {
		if s.generated == 1 {
			e.m.ttft.Observe(now.Sub(s.arrival).Seconds())
			e.m.promptTokens.Add(float64(s.prompt))
		} else {
			e.m.itl.Observe(now.Sub(s.lastTok).Seconds())
		}
		e.m.generationTokens.Inc()
	}
	if s.generated == 1 {
		s.firstTok = now
	}
	s.lastTok = now
	s.produced.Store(int64(s.generated))
	s.publish()
}

func (e *engine) finish(s *seq, now time.Time, reason string) {
	e.release(s)
	e.cacheComputed(s)
	s.state = stateDone
	if e.m != nil {
		e.m.success.WithLabelValues(reason).Inc()
		e.m.e2e.Observe(now.Sub(s.arrival).Seconds())
		if s.everRun && s.generated > 0 {
			e.m.prefillTime.Observe(s.firstTok.Sub(s.admitted).Seconds())
			e.m.decodeTime.Observe(now.Sub(s.firstTok).Seconds())
		}
		// The lengths of a request the engine finished, not of one whose
		// client went away: vLLM V1 records per-request stats when the
		// engine's output carries a finish reason, and its frontend drops a
		// client's abort before any (OutputProcessor.abort_requests), so a
		// cut-off answer never pulls the output lengths down. The
		// simulator aborts only such requests (the client left, or an
		// injected disconnect cut the response).
		if reason != ReasonAbort {
			e.m.reqPromptTokens.Observe(float64(s.prompt))
			e.m.reqGenerationTokens.Observe(float64(s.generated))
		}
	}
	s.reason = reason
	s.finished.Store(true)
	s.publish()
}

// beginFixed admits what fits; each admitted sequence reserves its whole
// KV at once (no preemption in this mode) and gets its own token clock.
func (e *engine) beginFixed(now time.Time) (iteration, bool) {
	var it iteration
	for len(e.waiting) > 0 && len(e.fixed) < e.cfg.MaxNumSeqs {
		s := e.waiting[0]
		need := e.blocksFor(s.prompt + s.target)
		if need > e.freeBlocks {
			break
		}
		e.popWaiting()
		e.admit(s, now, need)
		s.pending = 0
		// A request that did not have to queue starts its clock at arrival,
		// so the engine goroutine's wake-up delay does not add to its TTFT.
		base := now
		if !e.fixedBacklog {
			base = s.arrival
		}
		s.due = base.Add(e.cfg.IterFixed + time.Duration(s.prompt)*e.cfg.PerPrefillToken)
		heap.Push(&e.fixed, s)
		it.Admitted++
	}
	e.fixedBacklog = len(e.waiting) > 0
	if len(e.fixed) == 0 {
		return it, false
	}
	it.Duration = max(0, e.fixed[0].due.Sub(now))
	return it, true
}

// endFixed emits every token due by now. The next token is due one
// per-token time after the previous due time, so lateness does not drift.
func (e *engine) endFixed(now time.Time) {
	step := e.cfg.IterFixed + e.cfg.PerDecodeSeq
	for len(e.fixed) > 0 && !e.fixed[0].due.After(now) {
		s := e.fixed[0]
		e.sample(s, now)
		if s.generated >= s.target {
			heap.Pop(&e.fixed)
			e.finish(s, now, s.stopReason)
			continue
		}
		s.due = s.due.Add(step)
		heap.Fix(&e.fixed, 0)
	}
}

// seqHeap orders fixed-latency sequences by their next due time.
type seqHeap []*seq

func (h seqHeap) Len() int           { return len(h) }
func (h seqHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h seqHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx = i
	h[j].heapIdx = j
}
func (h *seqHeap) Push(x any) {
	s := x.(*seq)
	s.heapIdx = len(*h)
	*h = append(*h, s)
}
func (h *seqHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return s
}

// prefixCache remembers recently computed prompt blocks by chained hash,
// bounded to the KV cache's block count (oldest forgotten first).
type prefixCache struct {
	set  map[uint64]struct{}
	ring []uint64
	next int
}

func newPrefixCache(blocks int) *prefixCache {
	n := min(blocks, 1<<16)
	return &prefixCache{set: make(map[uint64]struct{}, n), ring: make([]uint64, 0, n)}
}

// lookupAndInsert returns how many leading blocks were cached, then
// remembers all of them.
func (p *prefixCache) lookupAndInsert(hashes []uint64) int {
	hit := 0
	for _, h := range hashes {
		if _, ok := p.set[h]; !ok {
			break
		}
		hit++
	}
	for _, h := range hashes[hit:] {
		if _, ok := p.set[h]; ok {
			continue
		}
		if len(p.ring) < cap(p.ring) {
			p.ring = append(p.ring, h)
		} else if cap(p.ring) > 0 {
			delete(p.set, p.ring[p.next])
			p.ring[p.next] = h
			p.next = (p.next + 1) % len(p.ring)
		} else {
			continue
		}
		p.set[h] = struct{}{}
	}
	return hit
}

// cacheComputed remembers the full blocks s computed: its prompt and every
// generated token but the last (sampled, never fed back), as vLLM V1's
// prefix cache keeps decode blocks. Without the prompt's ids (prefix caching
// off, or the virtual-time driver) nothing is cached.
func (e *engine) cacheComputed(s *seq) {
	if e.prefix == nil || s.promptIDs == nil || s.generated < 2 {
		return
	}
	ids := make([]int, 0, len(s.promptIDs)+s.generated-1)
	ids = append(ids, s.promptIDs...)
	for i := 0; i < s.generated-1; i++ {
		ids = append(ids, tokenID(outputWord(s.textSeed, i)))
	}
	e.prefix.lookupAndInsert(blockHashes(ids, e.cfg.BlockSize))
}

// blockHashes chains a hash over each full block of token ids, so a block
// matches only when everything before it matches too.
func blockHashes(ids []int, blockSize int) []uint64 {
	n := len(ids) / blockSize
	if n == 0 {
		return nil
	}
	out := make([]uint64, n)
	h := uint64(14695981039346656037)
	for b := 0; b < n; b++ {
		for _, id := range ids[b*blockSize : (b+1)*blockSize] {
			h ^= uint64(id)
			h *= 1099511628211
		}
		out[b] = h
	}
	return out
}
