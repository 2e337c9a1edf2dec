package histogram

import (
	"encoding/json"
	"fmt"
	"sync/atomic"
)

// A histogram is mergeable: the buckets of two add up to those of one
// histogram that observed both sets of values, and so do the count, the sum
// and the extrema. A sharded sweep's shards each record their window's ITL
// into their own histogram and the coordinator merges them (shard package).

// Merge adds o's observations into h (neither concurrently with Observe; a
// nil o adds nothing).
func (h *Histogram) Merge(o *Histogram) {
	if o == nil {
		return
	}
	h.zero.Add(o.zero.Load())
	for i := 1; i < Buckets; i++ {
		h.pos[i].Add(o.pos[i].Load())
		h.neg[i].Add(o.neg[i].Load())
	}
	h.n.Add(o.n.Load())
	h.sumNs.Add(o.sumNs.Load())
	if v := o.minNs.Load(); v != 0 && (h.minNs.Load() == 0 || v < h.minNs.Load()) {
		h.minNs.Store(v)
	}
	if v := o.maxNs.Load(); v > h.maxNs.Load() {
		h.maxNs.Store(v)
	}
}

// wire is a histogram on the wire: only its non-empty buckets, as
// [index, count] pairs, and the exact aggregates (extrema in nanoseconds).
type wire struct {
	Zero  uint64      `json:"zero,omitempty"`
	Pos   [][2]uint64 `json:"pos,omitempty"`
	Neg   [][2]uint64 `json:"neg,omitempty"`
	N     uint64      `json:"n"`
	SumNs int64       `json:"sum_ns"`
	MinNs int64       `json:"min_ns"`
	MaxNs int64       `json:"max_ns"`
}

// MarshalJSON writes the histogram's non-empty buckets and aggregates.
func (h *Histogram) MarshalJSON() ([]byte, error) {
	w := wire{Zero: h.zero.Load(), N: h.n.Load(), SumNs: h.sumNs.Load()}
	if h.n.Load() > 0 {
		w.MinNs, w.MaxNs = h.minNs.Load()-offset, h.maxNs.Load()-offset
	}
	for i := 1; i < Buckets; i++ {
		if c := h.pos[i].Load(); c > 0 {
			w.Pos = append(w.Pos, [2]uint64{uint64(i), c})
		}
		if c := h.neg[i].Load(); c > 0 {
			w.Neg = append(w.Neg, [2]uint64{uint64(i), c})
		}
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads what MarshalJSON wrote into an empty histogram.
func (h *Histogram) UnmarshalJSON(b []byte) error {
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	h.Reset()
	var total uint64
	for _, side := range []struct {
		pairs [][2]uint64
		into  *[Buckets]atomic.Uint64
	}{{w.Pos, &h.pos}, {w.Neg, &h.neg}} {
		for _, p := range side.pairs {
			if p[0] < 1 || p[0] >= Buckets {
				return fmt.Errorf("histogram: bucket %d out of range 1..%d", p[0], Buckets-1)
			}
			side.into[p[0]].Add(p[1])
			total += p[1]
		}
	}
	h.zero.Store(w.Zero)
	if total+w.Zero != w.N {
		return fmt.Errorf("histogram: buckets hold %d observations, count says %d", total+w.Zero, w.N)
	}
	h.n.Store(w.N)
	h.sumNs.Store(w.SumNs)
	if w.N > 0 {
		h.minNs.Store(w.MinNs + offset)
		h.maxNs.Store(w.MaxNs + offset)
	}
	return nil
}
