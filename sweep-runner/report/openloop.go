package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/rhoai-demo/step07/sweep-runner/charts"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// Open-loop scenarios (arrival: rates instead of users): the reports show
// their steps by offered rate (requests/s), their answer as the max rate at
// SLA and the breaking rate, whether the client's maxInFlight bound was
// reached, and say that latency counts from the scheduled send time.

// LatencyFromSchedule is what every report says of an open-loop scenario.
const LatencyFromSchedule = "latency (TTFT, e2e) counts from each request's scheduled send time, not from when the client sent it, so a wait to be sent (scheduler lag, maxInFlight reached) is inside it and no queue is hidden (no coordinated omission)"

// hasOpenLoop reports whether the summary holds an open-loop result.
func hasOpenLoop(sum *results.Summary) bool {
	for _, r := range sum.Results {
		if r.OpenLoop != nil {
			return true
		}
	}
	return false
}

// rateCSVHeader are summary.csv's open-loop columns, written after the
// others when the run has an open-loop scenario.
var rateCSVHeader = []string{"arrival", "offered_rate_per_s", "achieved_rate_per_s", "peak_in_flight", "send_delay_p95_s", "max_in_flight", "client_bound_requests", "client_bound_s"}

// rateCSVHead are rateCSVHeader when the run has an open-loop scenario
// (open), else none: a run without one keeps its columns.
func rateCSVHead(open bool) []string {
	if !open {
		return nil
	}
	return rateCSVHeader
}

// rateCSV is a step's open-loop columns when the run has them (open):
// empty for a closed-loop step.
func rateCSV(open bool, s results.Step) []string {
	if !open {
		return nil
	}
	out := make([]string, len(rateCSVHeader))
	o := s.OpenLoop
	if o == nil {
		return out
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	out[0], out[1], out[2], out[3], out[4], out[5] = o.Process, f(o.OfferedRate), f(o.AchievedRate), strconv.Itoa(o.PeakInFlight), f(o.SendDelay.Percentiles.P95), strconv.Itoa(o.MaxInFlight)
	out[6], out[7] = "0", "0"
	if b := o.ClientBound; b != nil {
		out[6], out[7] = strconv.Itoa(b.Requests), f(b.Seconds)
	}
	return out
}

func rate(r float64) string { return strconv.FormatFloat(r, 'g', 4, 64) }

func rates(v []float64) string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = rate(x)
	}
	return strings.Join(out, ", ")
}

// ArrivalNote is a step's arrivals in words: send delay, peak in flight and
// the client bound ("" for a closed-loop step).
func ArrivalNote(s results.Step) string {
	o := s.OpenLoop
	if o == nil {
		return ""
	}
	note := fmt.Sprintf("%s arrivals at %s req/s: send delay p95 %s, peak %d in flight", o.Process, rate(o.OfferedRate), msv(o.SendDelay.Percentiles.P95), o.PeakInFlight)
	if b := o.ClientBound; b != nil {
		note += fmt.Sprintf("; client bound reached: maxInFlight %d held %.1f s, %d requests waited to be sent (up to %s)", o.MaxInFlight, b.Seconds, b.Requests, msv(b.MaxWaitSeconds))
	}
	return note
}

// OpenLoopNote says, for an open-loop result, what its steps are and
// whether the client bound was reached ("" for a closed-loop result).
func OpenLoopNote(r results.Result) string {
	ol := r.OpenLoop
	if ol == nil {
		return ""
	}
	note := fmt.Sprintf("Open loop (%s arrivals): each step offers a rate of requests per second, sent on schedule whether or not earlier ones finished; %s. Concurrency is the measured mean of requests in flight.", ol.Process, LatencyFromSchedule)
	maxIn := 0
	for _, s := range r.Steps {
		if s.OpenLoop != nil {
			maxIn = s.OpenLoop.MaxInFlight
		}
	}
	if len(ol.ClientBoundRates) > 0 {
		note += fmt.Sprintf(" The client bound (maxInFlight %d) was reached at %s req/s: those steps are broken by %s, the client, not the server, limited them.", maxIn, rates(ol.ClientBoundRates), results.RuleClientBound)
	} else {
		note += fmt.Sprintf(" The client bound (maxInFlight %d) was never reached.", maxIn)
	}
	return note
}

// breakingRate is the breaking rate as the reports print it.
func breakingRate(r results.Result) string {
	ol := r.OpenLoop
	bp := "not reached"
	if ol.BreakingRate != nil {
		bp = fmt.Sprintf("%s req/s (%s)", rate(ol.BreakingRate.Rate), ol.BreakingRate.Rule)
	} else if ol.MaxTestedRate > 0 {
		bp = fmt.Sprintf("> %s req/s", rate(ol.MaxTestedRate))
	}
	if len(r.Steps) == 0 {
		bp = "not run"
	} else if !r.Complete {
		bp += " (incomplete)"
	} else if !r.Exact && ol.BreakingRate != nil {
		bp += " (bound)"
	}
	if r.Confidence == "uncertain" && len(r.Steps) > 0 {
		bp += " uncertain"
	}
	return bp
}

// rateRow is one open-loop result's sizing, as both tables print it.
type rateRow struct {
	Target, Model, Scenario, Arrival, Shape, BreakingRate, MaxRate, Achieved, InFlight, TokS, TTFT, ClientBound string
	GPUs                                                                                                        int
}

func rateRowOf(r results.Result) rateRow {
	ol := r.OpenLoop
	row := rateRow{Target: r.Target, Model: r.Model, Scenario: r.Scenario, Arrival: ol.Process, GPUs: r.GPUs,
		Shape: fmt.Sprintf("%d in / %d out", r.InputTokens, r.OutputTokens), BreakingRate: breakingRate(r),
		MaxRate: "none", Achieved: "-", InFlight: "-", TokS: "-", TTFT: "-", ClientBound: "no"}
	if ol.MaxRateAtSLA > 0 {
		row.MaxRate = rate(ol.MaxRateAtSLA) + " req/s"
		row.Achieved = fmt.Sprintf("%.3g", ol.AchievedRateAtSLA)
		row.InFlight = fmt.Sprintf("%.1f", ol.MeanInFlightAtSLA)
		row.TokS = fmt.Sprintf("%.0f", r.OutputTokensPerSecondAtSLA)
		row.TTFT = ms(r.TTFTP95AtSLASeconds, true)
	}
	if len(ol.ClientBoundRates) > 0 {
		row.ClientBound = "reached at " + rates(ol.ClientBoundRates) + " req/s"
	}
	return row
}

// RateTable is the answer of the open-loop scenarios in one Markdown
// table ("" when the run has none): per model and scenario, the breaking
// rate, the max rate at SLA with the rate achieved and the requests in
// flight there, and whether the client bound was reached.
func RateTable(sum *results.Summary) string {
	if !hasOpenLoop(sum) {
		return ""
	}
	var b strings.Builder
	if !onlyOpenLoop(sum) {
		b.WriteString("\n")
	}
	b.WriteString("Open-loop scenarios (rates instead of users; " + LatencyFromSchedule + "):\n\n")
	b.WriteString("| model | GPUs | scenario | arrivals | breaking rate (rule) | max rate at SLA | achieved req/s at SLA | in flight at SLA | output tok/s at SLA | TTFT p95 at SLA | client bound |\n")
	b.WriteString("| --- | ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |\n")
	var unsure []string
	for _, r := range sum.Results {
		if r.OpenLoop == nil {
			continue
		}
		w := rateRowOf(r)
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", w.Target, w.GPUs, w.Scenario, w.Arrival, w.BreakingRate, w.MaxRate, w.Achieved, w.InFlight, w.TokS, w.TTFT, w.ClientBound)
		ol := r.OpenLoop
		if len(ol.UncertainRates) > 0 {
			unsure = append(unsure, fmt.Sprintf("- %s / %s: verdict not clear at 95 %% when the re-measure budget ran out at %s req/s", r.Target, r.Scenario, rates(ol.UncertainRates)))
		}
		if len(ol.NotSteadyRates) > 0 {
			unsure = append(unsure, fmt.Sprintf("- %s / %s: steady state not reached at %s req/s (see the steps)", r.Target, r.Scenario, rates(ol.NotSteadyRates)))
		}
	}
	fmt.Fprintf(&b, "\nThe rate doubles from startRate up to maxRate (or runs the explicit rates), then bisects between the last rate that held and the first that broke until they are within %.0f %% of each other.\n", 100*resolutionOf(sum))
	if len(unsure) > 0 {
		b.WriteString("\n" + strings.Join(unsure, "\n") + "\n")
	}
	return b.String()
}

func resolutionOf(sum *results.Summary) float64 {
	for _, r := range sum.Results {
		if r.OpenLoop != nil && r.OpenLoop.Resolution > 0 {
			return r.OpenLoop.Resolution
		}
	}
	return 0.05
}

// rateAxis puts a chart of open-loop results on the offered rate: its x
// axis and title say so (seriesOf draws their steps by rate).
func rateAxis(c *charts.Chart, rs []results.Result) {
	for _, r := range rs {
		if r.OpenLoop == nil {
			return
		}
	}
	c.XLabel = "offered rate (requests/s)"
	c.Title = strings.Replace(c.Title, " vs concurrency", " vs offered rate", 1)
}

// breakingRateMark marks an open-loop result's breaking rate on its first
// series (nil for a closed-loop result or no breaking rate drawn).
func breakingRateMark(r results.Result, ss []charts.Series) *charts.Mark {
	if r.OpenLoop == nil || r.OpenLoop.BreakingRate == nil || len(ss) == 0 {
		return nil
	}
	br := r.OpenLoop.BreakingRate
	for _, p := range ss[0].Points {
		if p.X == br.Rate {
			return &charts.Mark{X: p.X, Y: p.Y, Label: fmt.Sprintf("%s breaks at %s req/s (%s)", r.Target, rate(br.Rate), br.Rule)}
		}
	}
	return nil
}

// onlyOpenLoop reports whether every result of the summary is open-loop
// (the sizing table in users would be empty).
func onlyOpenLoop(sum *results.Summary) bool {
	for _, r := range sum.Results {
		if r.OpenLoop == nil {
			return false
		}
	}
	return len(sum.Results) > 0
}
