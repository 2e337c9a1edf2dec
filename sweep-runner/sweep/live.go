package sweep

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/analysis"
	"github.com/rhoai-demo/step07/sweep-runner/load"
	"github.com/rhoai-demo/step07/sweep-runner/results"
	"github.com/rhoai-demo/step07/sweep-runner/scrape"
)

// DefaultLiveEvery is how often a log (not a terminal) gets a running
// step's progress line: a 5-minute window is not silent, and a nightly
// Job's log stays readable.
const DefaultLiveEvery = 30 * time.Second

// liveLine shows a running step's progress: on a terminal, one line
// rewritten in place (at most every CheckEvery, 250 ms); in a log, a plain
// line every LiveEvery. It says how long the step has held the target, the
// phase, the window's finished requests, each breaking rule's 95 %
// interval against its threshold and how long the step may still take.
type liveLine struct {
	w       io.Writer // nil: nothing shown
	tty     bool
	every   time.Duration
	last    time.Time
	label   string
	started time.Time
	stepDur time.Duration
	shown   bool
}

// live is the progress line of a step labelled at ("c=4", "rate=2/s").
func (r *Runner) live(t v1alpha1.Target, sc v1alpha1.Scenario, at string, stepDur time.Duration) *liveLine {
	l := &liveLine{w: r.Live, tty: r.LiveTTY, every: r.LiveEvery, started: time.Now(), stepDur: stepDur}
	if l.every <= 0 {
		l.every = DefaultLiveEvery
	}
	// A log's first line comes after LiveEvery: a short step says nothing
	// but its own line at the end.
	l.last = l.started
	l.label = fmt.Sprintf("%s/%s %s", t.Name, sc.Name, at)
	return l
}

// show prints p unless the last line is too recent.
func (l *liveLine) show(p load.Progress, samples []scrape.Sample, sla v1alpha1.SLA, certifying bool, spec *v1alpha1.PlanSpec) {
	if l.w == nil {
		return
	}
	now := time.Now()
	if !l.tty && now.Sub(l.last) < l.every {
		return
	}
	l.last = now
	text := l.text(p, samples, sla, certifying, spec, now)
	if l.tty {
		const width = 200
		if len(text) > width {
			text = text[:width]
		}
		fmt.Fprintf(l.w, "\r\033[K%s", text)
		l.shown = true
		return
	}
	fmt.Fprintln(l.w, text)
}

func (l *liveLine) text(p load.Progress, samples []scrape.Sample, sla v1alpha1.SLA, certifying bool, spec *v1alpha1.PlanSpec, now time.Time) string {
	var b strings.Builder
	role := results.RoleExplore
	if certifying {
		role = results.RoleCertify
	}
	fmt.Fprintf(&b, "%s %s: %s held, %s %.1f s", l.label, role, now.Sub(l.started).Round(100*time.Millisecond), p.Phase, p.Elapsed.Seconds())
	if p.Phase != "window" {
		if p.Phase == "tail" {
			b.WriteString(" (the window's last requests finishing)")
		}
		return b.String()
	}
	fin := p.Successful + p.Errored
	fmt.Fprintf(&b, ", %d finished", fin)
	s := &results.Step{Requests: results.Counts{Successful: p.Successful, Errored: p.Errored}}
	var waiting []float64
	if len(samples) > 0 {
		waiting = scrape.WaitingSeries(samples, p.WindowStart, now)
	}
	analysis.Confide(s, p.TTFT, waiting, sla)
	c := s.Confidence
	if len(p.TTFT) > 0 {
		hi := fmt.Sprintf("%.3g", c.TTFTP95.High)
		if c.TTFTP95.Unbounded {
			hi = "unbounded"
		}
		fmt.Fprintf(&b, "; TTFT p95 [%.3g, %s] s vs %.3g", c.TTFTP95.Low, hi, sla.TTFT.Degraded.Seconds())
	}
	if w := c.WaitingFraction; w != nil {
		fmt.Fprintf(&b, "; waiting [%.2f, %.2f] vs %.2f", w.Low, w.High, sla.QueueFraction)
	}
	if fin > 0 {
		fmt.Fprintf(&b, "; success [%.3f, %.3f] vs %.2f", c.Success.Low, c.Success.High, sla.Success.Degraded/100)
	}
	if c.Clear {
		b.WriteString(" (clear)")
	}
	// How long the window may still stay open: an exploring one until
	// stepDuration at most, a certifying one until maxWindow or
	// maxRequests (at the rate requests finish so far).
	left := l.stepDur - p.Elapsed
	if certifying {
		left = spec.MaxWindow.Duration - p.Elapsed
		if rest := *spec.MaxRequests - fin; fin > 0 && rest > 0 {
			left = min(left, time.Duration(float64(p.Elapsed)*float64(rest)/float64(fin)))
		}
	}
	if left > 0 {
		fmt.Fprintf(&b, "; at most %s left", left.Round(time.Second))
	}
	return b.String()
}

// done clears a terminal's live line before the step's own line.
func (l *liveLine) done() {
	if l.w != nil && l.tty && l.shown {
		fmt.Fprint(l.w, "\r\033[K")
	}
}
