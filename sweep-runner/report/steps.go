package report

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// A result's steps are one table whatever their arrivals, in report.md and
// report.html alike. How requests arrived changes only four things, all
// here: the load column (users, or the offered rate), the columns the
// arrivals add (an open loop's send delay), the result's note (what a user
// is, or what a rate is) and each step's notes. A new arrival mode edits
// these four functions and nothing else in the tables.

// stepsTitle heads a result's steps table.
func stepsTitle(r results.Result) string {
	kind := ""
	if r.OpenLoop != nil {
		kind = ", open loop"
	}
	return fmt.Sprintf("%s · scenario %s (%d in / %d out tokens%s)", r.Target, r.Scenario, r.InputTokens, r.OutputTokens, kind)
}

// resultNote says what a result's load is ("" when plain users).
func resultNote(r results.Result) string {
	if r.OpenLoop != nil {
		return OpenLoopNote(r)
	}
	return PopulationNote(r)
}

// loadHead is the head of the steps table's first column.
func loadHead(r results.Result) string {
	if r.OpenLoop != nil {
		return "offered req/s (achieved), in flight"
	}
	return "conc."
}

// LoadCell is a step's load as the step tables print it: its users (with
// the requests in flight of users who think), or an open loop's offered
// and achieved rate with the requests in flight.
func LoadCell(s results.Step) string {
	o := s.OpenLoop
	if o == nil {
		return UsersCell(s)
	}
	return fmt.Sprintf("%s req/s (%.3g achieved), %.1f in flight", rate(o.OfferedRate), o.AchievedRate, s.ConcurrencyAchieved)
}

// arrivalHeads are the columns a result's arrivals add after the requests.
func arrivalHeads(r results.Result) []string {
	if r.OpenLoop != nil {
		return []string{"send delay p95"}
	}
	return nil
}

// arrivalCells are a step's cells under arrivalHeads(r).
func arrivalCells(r results.Result, s results.Step) []string {
	if r.OpenLoop == nil {
		return nil
	}
	if s.OpenLoop == nil {
		return []string{"-"}
	}
	return []string{msv(s.OpenLoop.SendDelay.Percentiles.P95)}
}

// stepNotes are what a step's row cannot hold, in words: its errors by
// kind, its conversation figures, its arrivals.
func stepNotes(s results.Step) []string {
	var notes []string
	if len(s.Errors) > 0 {
		kinds := make([]string, 0, len(s.Errors))
		for k, v := range s.Errors {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, v))
		}
		sort.Strings(kinds)
		notes = append(notes, "errors: "+strings.Join(kinds, ", "))
	}
	for _, n := range []string{WorkloadNote(s), ArrivalNote(s)} {
		if n != "" {
			notes = append(notes, n)
		}
	}
	return notes
}

// stepsMarkdown writes a result's steps table to report.md: a row per
// step, and a row under it per note.
func stepsMarkdown(b *strings.Builder, r results.Result, sla v1alpha1.SLA) {
	fmt.Fprintf(b, "\n### %s\n\n", stepsTitle(r))
	if note := resultNote(r); note != "" {
		b.WriteString(note + "\n\n")
	}
	extra := arrivalHeads(r)
	heads := append(append([]string{loadHead(r), "phase, role", "warmup + window", "held", "requests ok/err/inc (censored)"}, extra...),
		"TTFT p50", "TTFT p95 [95 % CI]", "TPOT p95", "ITL p95", "out tok/s", "tok/s/GPU", "goodput req/s", "waiting mean (frac [95 % CI])", "KV max", GradesHead(sla), "verdict")
	aligns := append(append([]string{"---:", "---", "---", "---", "---"}, slices.Repeat([]string{"---:"}, len(extra))...),
		"---:", "---:", "---:", "---:", "---:", "---:", "---:", "---", "---:", "---", "---")
	row := func(cells []string) { b.WriteString("| " + strings.Join(cells, " | ") + " |\n") }
	row(heads)
	row(aligns)
	for _, s := range r.Steps {
		wait, kv := serverCells(s)
		row(append(append([]string{LoadCell(s), StepRole(s),
			fmt.Sprintf("%.1f + %.1f s", s.Window.WarmupSeconds, s.Window.DurationSeconds), HeldCell(s),
			fmt.Sprintf("%d/%d/%d (%d)", s.Requests.Successful, s.Requests.Errored, s.Requests.Incomplete, s.Censored)},
			arrivalCells(r, s)...),
			msv(s.Latency.TTFT.Percentiles.P50), TTFTWithCI(s), msv(s.Latency.TPOT.Percentiles.P95), msv(s.Latency.ITL.Percentiles.P95),
			fmt.Sprintf("%.0f", s.Throughput.OutputTokensPerSecond), fmt.Sprintf("%.0f", s.Throughput.OutputTokensPerSecondPerGPU),
			fmt.Sprintf("%.2f", s.Throughput.GoodputRequestsPerSecond), wait, kv, GradesCell(s, sla), StepVerdict(s)))
		for _, n := range stepNotes(s) {
			// The note sits in the second column; the others stay empty.
			b.WriteString("|  | " + n + " |" + strings.Repeat("  |", len(heads)-2) + "\n")
		}
	}
}
