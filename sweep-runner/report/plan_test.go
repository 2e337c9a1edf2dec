package report

import (
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/sweep-runner/planner"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// peakSummary: "big" (4 GPUs, $2/GPU-h) holds 8 users at SLA at 400
// output tok/s, and an open-loop scenario 8 req/s sending 7.84/s at 980
// output tok/s (125 tokens a request).
func peakSummary() *results.Summary {
	sum := openLoopSummary()
	sum.Results[0] = results.Result{Target: "big", Scenario: "A", GPUs: 4, GPUHourCost: 2, Complete: true, MaxConcurrencyAtSLA: 8, OutputTokensPerSecondAtSLA: 400,
		Steps: []results.Step{{Target: "big", Scenario: "A", Concurrency: 8, AtSLA: true}}}
	sum.Results[1].OutputTokensPerSecondAtSLA = 980
	return sum
}

// TestReportPeakPlan: the plan for the peak is a section added under the
// capacity plan; without it both reports are what they were, byte for
// byte, and with it nothing else moves.
func TestReportPeakPlan(t *testing.T) {
	sum := peakSummary()
	plain, err := MarkdownOpts(sum, Options{PlanUsers: 100}, nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{PlanUsers: 100, Peak: &planner.Demand{PeakFactor: 2.5, RPS: 6, Spare: 1}}
	md, err := MarkdownOpts(sum, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	const head = "\n### Planned for a peak of 250 concurrent users (mean 100 x peak factor 2.5) and 15 requests/s (mean 6 x peak factor 2.5), with 1 spare replica (N+1)\n\n"
	i := strings.Index(md, head)
	j := strings.Index(md, "\n## Steps")
	if i < 0 || j < i {
		t.Fatalf("report.md has no plan for the peak before the steps:\n%s", md)
	}
	if md[:i]+md[j:] != plain {
		t.Errorf("the plan for the peak moved the rest of report.md")
	}
	// Users: ceil(250/8) + 1 = 33 replicas x 4 GPUs x $2 = $264/h. Rates:
	// peak 15 req/s: ceil(15/8) + 1 = 3 replicas, 12 GPUs (no price: the
	// open-loop target has none), 15 x 125 = 1875 tok/s served; headroom
	// 3 x 8 - 15 = 9 req/s (60 %); mean 6 req/s: 1 + 1 = 2 replicas.
	for _, want := range []string{
		"| big | A | 4 | 8 users | 250 users | 33 | 132 | 264.00 | 5.867 | +14 users (6 %) | 100 users | 14 | 56 | 112.00 | 6.222 |",
		"| t | P | 1 | 8 req/s | 15 req/s | 3 | 3 | - | - | +9 req/s (60 %) | 6 req/s | 2 | 2 | - | - |",
		"Assumptions: At a load (the peak or the mean)",
	} {
		if !strings.Contains(md[i:j], want) {
			t.Errorf("the plan for the peak lacks %q:\n%s", want, md[i:j])
		}
	}

	plainHTML, err := HTML(sum, nil, Options{PlanUsers: 100})
	if err != nil {
		t.Fatal(err)
	}
	html, err := HTML(sum, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	i = strings.Index(string(html), `<h3 id="plan-peak">`)
	j = strings.Index(string(html), `<h2 id="sla">`)
	if i < 0 || j < i {
		t.Fatalf("report.html has no plan for the peak")
	}
	if string(html[:i])+string(html[j-1:]) != string(plainHTML) {
		t.Errorf("the plan for the peak moved the rest of report.html")
	}
	for _, want := range []string{`<td class="n answer">33</td><td class="n answer">132</td>`, "&#43;14 users (6 %)", "<th>replicas at peak (N&#43;1)</th>"} {
		if !strings.Contains(string(html[i:j]), want) {
			t.Errorf("report.html's plan for the peak lacks %q:\n%s", want, html[i:j])
		}
	}

	// A peak below the mean is no plan.
	if _, err := MarkdownOpts(sum, Options{PlanUsers: 100, Peak: &planner.Demand{PeakUsers: 50}}, nil); err == nil {
		t.Error("a peak of 50 users under a mean of 100 accepted")
	}
}

// TestPeakRowsNotSized: a row the demand does not size says which setting
// would, and a row that cannot meet the SLA says so.
func TestPeakRowsNotSized(t *testing.T) {
	sum := peakSummary()
	sum.Results = append(sum.Results, results.Result{Target: "never", Scenario: "A", GPUs: 1, Steps: []results.Step{{Target: "never", Scenario: "A", Concurrency: 1, Broken: true}}})
	lines, err := PeakPlan(sum, planner.Demand{PeakUsers: 20}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 20 users: ceil(20/8) = 3 replicas, 12 GPUs, $24/h for 20 x 50 = 1000
	// tok/s: $6.667 per 1M tokens; 3 x 8 - 20 = 4 users of headroom (20 %).
	table := PeakTable(planner.Demand{PeakUsers: 20}, lines)
	for _, want := range []string{
		"| model | scenario | GPUs/replica | max at SLA/replica | peak | replicas at peak | GPUs |",
		"| big | A | 4 | 8 users | 20 users | 3 | 12 | 24.00 | 6.667 | +4 users (20 %) | - | - | - | - | - |",
		"| t | P | 1 | 8 req/s | not sized |",
		"- t, scenario P: an open-loop answer, sized in requests/s: give a peak rate (--peak-rps R, or --rps R with --peak-factor F).",
		"| never | A | 1 | 0 users | cannot meet the SLA |",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("peak table lacks %q:\n%s", want, table)
		}
	}
	if h := PeakHeading(planner.Demand{PeakUsers: 20}); h != "a peak of 20 concurrent users, with no spare replica" {
		t.Errorf("heading = %q", h)
	}
}
