package load

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/client"
	"github.com/rhoai-demo/step07/sweep-runner/histogram"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// TestMergeEqualsOneTally: the outcomes of a step tallied in two shares
// (as two shards would) and merged add up to the tally of all of them.
func TestMergeEqualsOneTally(t *testing.T) {
	var outs []outcome
	add := func(phase int32, r client.Result, out, turn int, think time.Duration) {
		o := outcome{phase: phase, r: r, out: out}
		o.pop.turn, o.pop.think = turn, think
		o.settle(at(3500), 400*time.Millisecond, 90)
		outs = append(outs, o)
	}
	add(phaseWarmup, streamed(500, 100, 30, 11), 11, 0, 0)
	add(phaseWarmup, client.Result{Start: at(600), End: at(700), ErrKind: "http_500", StatusCode: 500}, 10, 0, 0)
	for i := range 40 {
		s := 1000 + float64(i)*40
		add(phaseWindow, streamed(s, 50+float64(i*13%300), 20+float64(i%7)*10, 3+i%9), 3+i%11, 1+i%3, time.Duration(i)*time.Millisecond)
	}
	add(phaseWindow, client.Result{Start: at(1400), End: at(3400), ErrKind: results.ErrTimeout}, 10, 1, 0)
	cut := streamed(2800, 100, 250, 3)
	cut.End, cut.Incomplete = time.Time{}, true
	add(phaseWindow, cut, 10, 2, 0)
	stalled := streamed(2000, 100, 30, 3)
	stalled.End, stalled.Incomplete = time.Time{}, true
	add(phaseWindow, stalled, 10, 0, 0)
	add(phaseWindow, client.Result{Start: at(2900), Incomplete: true}, 10, 0, 0)
	add(phaseWindow, client.Result{Start: at(2950), End: at(2951), ErrKind: results.ErrConnect}, 10, 0, 0)
	add(phaseTail, streamed(3000, 100, 30, 11), 11, 0, 0)

	gap := func(i int) time.Duration { return time.Duration(1000+i*37%5000) * time.Microsecond }
	tallyOf := func(keep func(i int) bool) *Result {
		res := &Result{Errors: map[string]int{}, ITL: new(histogram.Histogram), ITLSkew: new(histogram.Histogram)}
		tl := tally{res: res, ws: at(1000), we: at(3000), sla: sla()}
		for i := range outs {
			if keep(i) {
				tl.add(&outs[i])
				res.ITL.Observe(gap(i))
				res.ITLSkew.Observe(gap(i) - 2*time.Millisecond)
			}
		}
		tl.close(0)
		return res
	}
	all := tallyOf(func(int) bool { return true })
	merged := tallyOf(func(i int) bool { return i%3 == 0 })
	merged.Merge(tallyOf(func(i int) bool { return i%3 != 0 }))

	if all.ITL.Dist() != merged.ITL.Dist() || all.ITLSkew.Dist() != merged.ITLSkew.Dist() {
		t.Errorf("ITL %+v, merged %+v", all.ITL.Dist(), merged.ITL.Dist())
	}
	norm := func(r *Result) Result {
		c := *r
		c.ITL, c.ITLSkew = nil, nil
		for _, s := range []*[]float64{&c.TTFT, &c.TPOT, &c.E2E, &c.PromptTokens, &c.OutputTokens, &c.ServerTTFT, &c.TTFTSkew} {
			*s = slices.Sorted(slices.Values(*s))
		}
		for _, by := range [][][]float64{c.Pop.TTFTByTurn, c.Pop.PromptByTurn} {
			for k := range by {
				by[k] = slices.Sorted(slices.Values(by[k]))
			}
		}
		c.BusySeconds = float64(int64(c.BusySeconds*1e9+0.5)) / 1e9 // sums in another order
		return c
	}
	if a, m := norm(all), norm(merged); !reflect.DeepEqual(a, m) {
		t.Errorf("one tally:\n%+v\nmerged:\n%+v", a, m)
	}
	if all.Requests.Started != 45 || all.Requests.Started != all.Requests.Successful+all.Requests.Errored+all.Requests.Incomplete {
		t.Errorf("window counts %+v", all.Requests)
	}
}
