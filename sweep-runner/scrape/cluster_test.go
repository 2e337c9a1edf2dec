package scrape

import (
	"strings"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/results"
)

func samplesAt(vals ...Sample) []Sample {
	t0 := time.Unix(1_700_000_000, 0)
	for i := range vals {
		vals[i].T = t0.Add(time.Duration(i) * 500 * time.Millisecond)
	}
	return vals
}

// Events: a new start time or a counter that goes back is a restart (once),
// /metrics silent for MetricsLostAfter is an event; a steady server none.
func TestEvents(t *testing.T) {
	ok := func(start, fin float64) Sample { return Sample{OK: true, StartTime: start, Finished: fin} }
	down := Sample{}
	for _, c := range []struct {
		name  string
		in    []Sample
		kinds []string
		says  string
	}{
		{"steady", samplesAt(ok(100, 1), ok(100, 5), ok(100, 9)), nil, ""},
		{"new process", samplesAt(ok(100, 1), ok(100, 5), ok(200, 0), ok(200, 3)), []string{results.EventRestart}, "process start time changed"},
		{"counters back, no start time", samplesAt(ok(0, 10), ok(0, 20), ok(0, 2), ok(0, 1)), []string{results.EventRestart}, "counter was reset"},
		{"down then back", samplesAt(ok(100, 1), down, down, down, down, down, ok(300, 0)), []string{results.EventMetricsLost, results.EventRestart}, "did not answer for 2.5 s"},
		{"one scrape lost", samplesAt(ok(100, 1), down, ok(100, 2)), nil, ""},
		{"down at the end", samplesAt(ok(100, 1), down, down, down, down, down, down), []string{results.EventMetricsLost}, "stopped answering"},
		{"never answered", samplesAt(down, down, down, down, down, down), nil, ""},
		{"two servers at one address", samplesAt(ok(100, 5), ok(200, 3), ok(100, 6), ok(200, 4)), nil, ""},
	} {
		ev := Events(c.in)
		var kinds []string
		all := ""
		for _, e := range ev {
			kinds = append(kinds, e.Kind)
			all += e.Detail + "; "
		}
		if strings.Join(kinds, ",") != strings.Join(c.kinds, ",") || !strings.Contains(all, c.says) {
			t.Errorf("%s: events %v (%s), want %v saying %q", c.name, kinds, all, c.kinds, c.says)
		}
	}
}

// Foreign: more requests on the server than ours in enough samples; our
// own requests (in flight at both ends included) are not foreign.
func TestForeign(t *testing.T) {
	s := func(running, waiting, fin, ours, oursFin float64) Sample {
		return Sample{OK: true, Running: running, Waiting: waiting, Finished: fin, Ours: ours, OursFinished: oursFin}
	}
	// ours only: the server holds what we have in flight, finishes what we finish
	if f := Foreign(samplesAt(s(4, 0, 0, 4, 0), s(4, 0, 4, 4, 4), s(4, 0, 8, 4, 8), s(3, 0, 12, 4, 11))); f != nil {
		t.Errorf("our own load read as foreign: %+v", f)
	}
	// one straggler of ours the server had not dropped yet
	if f := Foreign(samplesAt(s(5, 0, 0, 4, 0), s(4, 0, 4, 4, 4), s(4, 0, 8, 4, 8), s(4, 0, 12, 4, 12), s(4, 0, 16, 4, 16))); f != nil {
		t.Errorf("a lingering request read as foreign: %+v", f)
	}
	// someone else keeps one or two requests going and finishes 10 more
	f := Foreign(samplesAt(s(5, 0, 0, 4, 0), s(6, 0, 6, 4, 4), s(5, 1, 12, 4, 8), s(5, 0, 18, 4, 12), s(5, 0, 26, 4, 16)))
	if f == nil || f.InFlight != 2 || f.Requests != 2 {
		t.Errorf("foreign %+v, want up to 2 in flight and 10-8 = 2 requests beyond ours", f)
	}
	// samples that do not know ours say nothing
	if f := Foreign(samplesAt(Sample{OK: true, Running: 9, Ours: -1}, Sample{OK: true, Running: 9, Ours: -1}, Sample{OK: true, Running: 9, Ours: -1})); f != nil {
		t.Errorf("without ours: %+v", f)
	}
}

// Hidden: alternating start times, or a server that holds far fewer
// requests than we have in flight, are several servers behind one address.
func TestHidden(t *testing.T) {
	at := func(start, running, ours float64) Sample {
		return Sample{OK: true, StartTime: start, Running: running, Ours: ours}
	}
	if h := Hidden(samplesAt(at(1, 8, 8), at(1, 8, 8), at(1, 7, 8), at(1, 8, 8))); h != 0 {
		t.Errorf("one server: hidden %d", h)
	}
	if h := Hidden(samplesAt(at(1, 4, 8), at(2, 4, 8), at(1, 4, 8), at(2, 4, 8))); h != 2 {
		t.Errorf("scrapes balanced over two servers: hidden %d, want 2", h)
	}
	if h := Hidden(samplesAt(at(1, 3, 9), at(1, 3, 9), at(1, 4, 9), at(1, 2, 9))); h != 3 {
		t.Errorf("a third of our requests on the server read: hidden %d, want 3", h)
	}
}
