package load

import (
	"context"
	"slices"
	"time"
)

// A steered step (Config.Steer) runs its users as any step does but
// leaves the phase changes to its caller: a sharded sweep's coordinator
// sees every shard's progress and opens and closes one window for all of
// them (shard package), by the rules control applies to a single process.

// Snapshot is a steered step's progress, handed to Steer on every tick.
type Snapshot struct {
	// FirstDone: users that finished their first request.
	FirstDone int `json:"first_done"`
	// Successful and Errored: the window's finished requests so far.
	Successful int `json:"successful"`
	Errored    int `json:"errored"`
	// TTFT (seconds) of the window requests that got a first token since
	// the previous snapshot: the snapshots' TTFT together are Progress.TTFT.
	TTFT []float64 `json:"ttft,omitempty"`
}

// The phases Steer returns; it only moves forward.
const (
	SteerWarmup = int(phaseWarmup)
	SteerWindow = int(phaseWindow)
	SteerTail   = int(phaseTail)
)

// steered is control for a step with Steer: the window opens and closes
// on the tick after Steer says so (ticks of at most 20 ms), then the tail
// is waited out as the measuring loop waits it (state.tail).
func (st *state) steered(ctx context.Context, res *Result) (ws, we time.Time, tok0, tok1 int64) {
	cfg := st.cfg
	tick := min(20*time.Millisecond, max(cfg.Duration/50, time.Millisecond))
	res.WarmupSteady = true
	ws = st.base
	sent := 0
	for {
		st.mu.Lock()
		snap := Snapshot{FirstDone: int(st.firstDone.Load()), Successful: st.winOK, Errored: st.winErr, TTFT: slices.Clone(st.winTTFT[sent:])}
		sent = len(st.winTTFT)
		st.mu.Unlock()
		ph := cfg.Steer(snap)
		if ph >= SteerWindow && st.phase.Load() == phaseWarmup {
			ws, tok0 = time.Now(), st.tokensSoFar()
			st.phase.Store(phaseWindow)
		}
		if ph >= SteerTail {
			break
		}
		if !Pause(ctx, tick) {
			if st.phase.Load() == phaseWarmup {
				return st.base, st.base, 0, 0
			}
			return ws, time.Now(), tok0, st.tokensSoFar()
		}
	}
	we, tok1 = time.Now(), st.tokensSoFar()
	st.phase.Store(phaseTail)
	st.tail(ctx, closedArrivals{st}, we, tick)
	return ws, we, tok0, tok1
}
