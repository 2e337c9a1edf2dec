package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// openLoopSummary: a closed-loop result and an open-loop one whose second
// rate reached the client bound.
func openLoopSummary() *results.Summary {
	closed := results.Result{Target: "t", Scenario: "A", GPUs: 1, Complete: true, MaxConcurrencyAtSLA: 4,
		Steps: []results.Step{{Target: "t", Scenario: "A", Concurrency: 4, AtSLA: true}}}
	step := func(rate float64, bound bool) results.Step {
		s := results.Step{Target: "t", Scenario: "P", Concurrency: int(rate / 4), ConcurrencyAchieved: rate / 4, AtSLA: !bound, Broken: bound,
			OpenLoop: &results.OpenLoop{Process: "poisson", OfferedRate: rate, AchievedRate: rate * 0.98, MaxInFlight: 16, PeakInFlight: 9}}
		if bound {
			s.Rule, s.Rules = results.RuleClientBound, []string{results.RuleClientBound}
			s.OpenLoop.ClientBound = &results.ClientBound{Requests: 12, Seconds: 0.8, MaxWaitSeconds: 0.3}
		}
		return s
	}
	open := results.Result{Target: "t", Scenario: "P", GPUs: 1, Complete: true, Exact: true, Steps: []results.Step{step(8, false), step(16, true)},
		OpenLoop: &results.OpenLoopResult{Process: "poisson", MaxRateAtSLA: 8, BreakingRate: &results.BreakingRate{Rate: 16, Rule: results.RuleClientBound},
			MaxTestedRate: 16, Resolution: 0.05, AchievedRateAtSLA: 7.84, MeanInFlightAtSLA: 2, ClientBoundRates: []float64{16}}}
	return &results.Summary{RunID: "r", Results: []results.Result{closed, open}, Definitions: results.Definitions}
}

// TestOpenLoopReports: summary.csv gains the open-loop columns (empty for
// closed-loop rows) only when the run has an open-loop scenario; report.md
// and report.html show the rates, the max rate at SLA, the client bound,
// and that latency counts from the scheduled send time.
func TestOpenLoopReports(t *testing.T) {
	sum := openLoopSummary()
	rows, err := csv.NewReader(bytes.NewReader(CSV(sum))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	if len(rows) != 4 {
		t.Fatalf("%d CSV rows, want a header and 3 steps", len(rows))
	}
	for _, h := range rateCSVHeader {
		if _, ok := col[h]; !ok {
			t.Fatalf("summary.csv has no %s column: %v", h, rows[0])
		}
	}
	if r := rows[1]; r[col["offered_rate_per_s"]] != "" {
		t.Errorf("closed-loop row with an offered rate: %v", r)
	}
	if r := rows[3]; r[col["offered_rate_per_s"]] != "16" || r[col["client_bound_requests"]] != "12" || r[col["arrival"]] != "poisson" {
		t.Errorf("open-loop row: %v", r)
	}
	closedOnly := &results.Summary{RunID: "r", Results: sum.Results[:1]}
	if h := strings.SplitN(string(CSV(closedOnly)), "\n", 2)[0]; strings.Contains(h, "offered_rate") {
		t.Errorf("a closed-loop run gained open-loop columns: %s", h)
	}
	md, err := MarkdownOpts(sum, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"max rate at SLA", "| t | 1 | P | poisson | 16 req/s (client_bound) | 8 req/s | 7.84 | 2.0 |", "8 req/s (7.84 achieved), 2.0 in flight",
		"client bound reached: maxInFlight 16", "scheduled send time", "reached at 16 req/s"} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md does not say %q:\n%s", want, md)
		}
	}
	if !strings.Contains(SizingTable(sum), "| t | 1 | A |") || strings.Contains(SizingTable(sum), "| t | 1 | P | >") {
		t.Errorf("sizing table: the closed-loop result in users, the open-loop one in rates:\n%s", SizingTable(sum))
	}
	html, err := HTML(sum, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Open-loop scenarios: max rate at SLA", "8 req/s (7.84 achieved), 2.0 in flight", "offered req/s (achieved), in flight", "client bound reached", "scheduled send time"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html does not say %q", want)
		}
	}
}
