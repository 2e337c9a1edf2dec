package load

import "testing"

// BenchmarkTallyAdd: one finished request added up (per request, after the
// step; the per-token path is the histograms').
func BenchmarkTallyAdd(b *testing.B) {
	o := outcome{phase: phaseWindow, r: streamed(1000, 200, 30, 64), out: 64, prompt: 128}
	res := &Result{Errors: map[string]int{}}
	t := tally{res: res, ws: at(0), we: at(1e6), sla: sla()}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%4096 == 0 { // keep the per-request slices short
			*res = Result{Errors: res.Errors, TTFT: res.TTFT[:0], TPOT: res.TPOT[:0], E2E: res.E2E[:0],
				PromptTokens: res.PromptTokens[:0], OutputTokens: res.OutputTokens[:0]}
		}
		t.add(&o)
	}
}
