package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// A summary whose users think and converse: the reports say "users (think
// time ...)", show the requests in flight next to the users, Little's law's
// figure, TTFT by turn and the prefix cache hit rate; the capacity plan says
// it sizes people, not streams; summary.csv gains the population columns.
func TestPopulationReports(t *testing.T) {
	pop := func(users int, inFlight float64) *results.Population {
		return &results.Population{Users: users, ThinkDistribution: "exponential", ThinkMeanSeconds: 0.25, TimeScale: 0.05,
			ThinkDrawnSeconds: 0.24, ThinkDrawn: 300, InFlight: inFlight, InFlightExpected: inFlight * 1.02, LittleGap: -0.02,
			TurnsMin: 4, TurnsMax: 4, TTFTByTurn: []results.TurnLatency{{Turn: 1, Count: 10, P50Seconds: 0.006, P95Seconds: 0.008, PromptTokensMean: 512},
				{Turn: 4, Count: 10, P50Seconds: 0.007, P95Seconds: 0.009, PromptTokensMean: 2234}}}
	}
	step := func(c int, inFlight float64, atSLA bool) results.Step {
		return results.Step{Target: "sim", Model: "m", GPUs: 1, Scenario: "chat", Concurrency: c, Phase: "grid", AtSLA: atSLA, Broken: !atSLA, Rule: "queue",
			ConcurrencyAchieved: inFlight, Population: pop(c, inFlight),
			Throughput: results.Throughput{OutputTokensPerSecond: 1000},
			Server:     &results.Server{Samples: 10, PrefixCache: &results.PrefixCache{QueriedTokens: 1000, HitTokens: 620, HitRate: 0.62, Metric: "vllm:prefix_cache_hits_total"}}}
	}
	sum := &results.Summary{RunID: "r", Status: results.StatusComplete, Results: []results.Result{{
		Target: "sim", Model: "m", GPUs: 1, Scenario: "chat", InputTokens: 512, OutputTokens: 64, Complete: true, Exact: true,
		MaxConcurrencyAtSLA: 40, OutputTokensPerSecondAtSLA: 1000, BreakingPoint: &results.BreakingPoint{Concurrency: 48, Rule: "queue"},
		Steps: []results.Step{step(40, 9.9, true), step(48, 14.1, false)},
	}}}
	md, err := MarkdownOpts(sum, Options{PlanUsers: 100}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| 40 users (think time 5s exponential, x0.05 time scale: 250ms; 4-turn conversations), 9.9 in flight |",
		"| 40 users, 9.9 in flight (Little 10.1) |",
		"TTFT p50 / p95 by turn: 1: 6 ms / 8 ms (512 tokens in), 4: 7 ms / 9 ms (2234 tokens in); prefix cache hits 62 % of prompt tokens",
		"Little's law's figure: users x e2e / (e2e + think)",
		"sized for 100 users (think time 5s exponential",
		"people who think between requests, not streams",
		"Users are counted as the sweep counted them",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	html, err := HTML(sum, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"40 users, 9.9 in flight (Little 10.1)", "users (think time 5s exponential", "prefix cache hits 62 %"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	rows, err := csv.NewReader(bytes.NewReader(CSV(sum))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := rows[0]
	col := map[string]string{}
	for i, h := range head {
		col[h] = rows[1][i]
	}
	if len(head) != len(CSVHeader(sum.SLA))+len(PopCSVHeader) || col["users"] != "40" || col["in_flight"] != "9.9" || col["think_time_s"] != "0.25" ||
		col["prefix_cache_hit_rate"] != "0.62" || col["ttft_p50_by_turn_s"] != "0.006 0.007" {
		t.Errorf("summary.csv population columns: %v", col)
	}
}
