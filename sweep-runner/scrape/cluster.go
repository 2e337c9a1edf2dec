package scrape

import (
	"fmt"
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// processStartTime is the standard process collector's gauge (vLLM's
// Python client and Go's both export it): a new value is a new process.
const processStartTime = "process_start_time_seconds"

// MetricsLostAfter: /metrics not answering for this long inside a step
// (after it answered) is an event: the server may be restarting, and the
// step's gauges have a hole.
const MetricsLostAfter = 2 * time.Second

// Events reads what happened to the server during a step from its
// samples, in time order: a restart (the process start time changed, or
// the finished-requests counter went back) and /metrics that stopped
// answering for MetricsLostAfter or longer.
func Events(samples []Sample) []results.Event {
	var out []results.Event
	var prev *Sample
	var lostSince time.Time
	restarted, multi := false, several(samples)
	for i := range samples {
		s := &samples[i]
		if !s.OK {
			if prev != nil && lostSince.IsZero() {
				lostSince = s.T
			}
			continue
		}
		if !lostSince.IsZero() {
			if gap := s.T.Sub(lostSince); gap >= MetricsLostAfter {
				out = append(out, results.Event{Kind: results.EventMetricsLost,
					Detail: fmt.Sprintf("/metrics did not answer for %.1f s during the step", gap.Seconds())})
			}
			lostSince = time.Time{}
		}
		// Several servers answering at this address (Hidden) change the
		// start time and the counters from one scrape to the next: no
		// restart can be told from that.
		if prev != nil && !restarted && !multi {
			switch {
			case prev.StartTime > 0 && s.StartTime > 0 && s.StartTime != prev.StartTime:
				restarted = true
				out = append(out, results.Event{Kind: results.EventRestart,
					Detail: fmt.Sprintf("the server restarted during the step: its process start time changed from %s to %s",
						unix(prev.StartTime), unix(s.StartTime))})
			case s.Finished < prev.Finished:
				restarted = true
				out = append(out, results.Event{Kind: results.EventRestart,
					Detail: fmt.Sprintf("the server restarted during the step: its finished-requests counter was reset (from %.0f back to %.0f)", prev.Finished, s.Finished)})
			}
		}
		prev = s
	}
	if !lostSince.IsZero() && len(samples) > 0 {
		if gap := samples[len(samples)-1].T.Sub(lostSince); gap >= MetricsLostAfter {
			out = append(out, results.Event{Kind: results.EventMetricsLost,
				Detail: fmt.Sprintf("/metrics stopped answering %.1f s before the step ended", gap.Seconds())})
		}
	}
	return out
}

func unix(v float64) string {
	return time.Unix(0, int64(v*1e9)).UTC().Format(time.RFC3339)
}

// ForeignShare is the share of a step's samples in which the server held
// more requests than ours (running + waiting above the load's in flight)
// for the step to be counted as sharing the server with someone else. A
// request of ours can be on the server and not yet counted by us only for
// the moment between the server's gauge and our count (microseconds); an
// aborted request of ours can linger on the server until it notices the
// closed connection (a scheduler iteration): a few samples at most. A
// second client that keeps one request in flight shows in most samples.
const ForeignShare = 0.25

// Foreign compares the server's requests with ours over a step's samples:
// nil when the samples do not know ours, or the server never held more
// than ours in ForeignShare of them. Requests is how many more requests
// the server finished than we did between the first and the last sample
// (at least; 0 when that is not more than ours in flight could explain).
func Foreign(samples []Sample) *results.Foreign {
	var first, last *Sample
	n, over, most := 0, 0, 0.0
	for i := range samples {
		s := &samples[i]
		if !s.OK || s.Ours < 0 {
			continue
		}
		if first == nil {
			first = s
		}
		last = s
		n++
		if extra := s.Running + s.Waiting - s.Ours; extra >= 1 {
			over++
			most = max(most, extra)
		}
	}
	if n < 3 || float64(over) < ForeignShare*float64(n) {
		return nil
	}
	f := &results.Foreign{InFlight: int(most)}
	if first != last && last.Finished >= first.Finished {
		slack := first.Ours + last.Ours
		if extra := (last.Finished - first.Finished) - (last.OursFinished - first.OursFinished) - slack; extra > 0 {
			f.Requests = int(extra)
		}
	}
	return f
}

// several says whether the samples came from several servers at one
// address (a Service's virtual IP balancing the scrapes): a start time
// that comes back after another one.
func several(samples []Sample) bool {
	return len(startTimes(samples)) > 1 && alternates(samples)
}

func startTimes(samples []Sample) map[float64]bool {
	m := map[float64]bool{}
	for _, s := range samples {
		if s.OK && s.StartTime > 0 {
			m[s.StartTime] = true
		}
	}
	return m
}

// alternates: some start time is seen again after another one was.
func alternates(samples []Sample) bool {
	done := map[float64]bool{}
	cur := 0.0
	for _, s := range samples {
		if !s.OK || s.StartTime <= 0 || s.StartTime == cur {
			continue
		}
		if done[s.StartTime] {
			return true
		}
		if cur != 0 {
			done[cur] = true
		}
		cur = s.StartTime
	}
	return false
}

// Hidden estimates how many servers answer behind one address from a
// step's samples: several process start times that alternate (the scrapes
// balanced over them), or a server that holds much less than our requests
// in flight in most samples (our connections balanced over others that
// /metrics does not reach). 0: one server, as far as the samples show.
func Hidden(samples []Sample) int {
	if several(samples) {
		return len(startTimes(samples))
	}
	n, short := 0, 0
	var ours, theirs float64
	for _, s := range samples {
		if !s.OK || s.Ours < 2 {
			continue
		}
		n++
		held := s.Running + s.Waiting
		if s.Ours-held >= max(1, HiddenShort*s.Ours) {
			short++
		}
		ours += s.Ours
		theirs += held
	}
	if n < 3 || float64(short) < 0.5*float64(n) || theirs <= 0 {
		return 0
	}
	return max(2, int(ours/theirs+0.5))
}

// HiddenShort: a sample in which the server holds less than this share of
// our requests in flight fewer than ours counts as short (a request is ours
// and not yet the server's, or the reverse, only for moments).
const HiddenShort = 0.25
