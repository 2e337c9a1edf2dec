package report

import (
	"fmt"
	"github.com/rhoai-demo/step07/api/v1alpha1"
	"strconv"
	"strings"

	"github.com/rhoai-demo/step07/sweep-runner/planner"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// Users who are people (think time, conversations, a shared system
// prompt): the reports count them as users, say what they do, and show the
// requests in flight they produce next to them.

// PopCSVHeader are summary.csv's population columns, after CSVHeader's,
// in a summary where some scenario's users are people (a summary of
// streams keeps CSVHeader alone).
var PopCSVHeader = []string{
	"users", "think_time_s", "in_flight", "in_flight_little", "little_gap",
	"prefix_cache_hit_rate", "ttft_p50_by_turn_s", "ttft_p95_by_turn_s",
}

// hasPopulation reports whether some step's users are people.
func hasPopulation(sum *results.Summary) bool {
	for _, r := range sum.Results {
		if results.PopulationOf(r.Steps) != nil {
			return true
		}
	}
	return false
}

func csvHeader(sla v1alpha1.SLA, pop bool) []string {
	if !pop {
		return CSVHeader(sla)
	}
	return append(CSVHeader(sla), PopCSVHeader...)
}

// popCSV is a step's population columns when the summary has them (pop):
// empty for streams, except the prefix cache hit rate.
func popCSV(pop bool, s results.Step) []string {
	if !pop {
		return nil
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	out := make([]string, len(PopCSVHeader))
	if s.Server != nil && s.Server.PrefixCache != nil && s.Server.PrefixCache.QueriedTokens > 0 {
		out[5] = f(s.Server.PrefixCache.HitRate)
	}
	p := s.Population
	if p == nil {
		return out
	}
	out[0], out[2] = strconv.Itoa(p.Users), f(p.InFlight)
	if p.ThinkMeanSeconds > 0 {
		out[1] = f(p.ThinkMeanSeconds)
	}
	if p.InFlightExpected > 0 {
		out[3], out[4] = f(p.InFlightExpected), f(p.LittleGap)
	}
	var p50, p95 []string
	for _, t := range p.TTFTByTurn {
		p50 = append(p50, f(t.P50Seconds))
		p95 = append(p95, f(t.P95Seconds))
	}
	out[6], out[7] = strings.Join(p50, " "), strings.Join(p95, " ")
	return out
}

// UsersAtSLA is a result's max users at SLA as the sizing tables print it:
// the number, and for users who are people what they do ("43 users (think
// time 5s exponential)") with the requests in flight at that step.
func UsersAtSLA(r results.Result) string {
	n := strconv.Itoa(r.MaxConcurrencyAtSLA)
	p := results.PopulationOf(r.Steps)
	if p == nil {
		return n
	}
	out := n + " " + p.Describe()
	for _, s := range r.Steps {
		if s.Concurrency == r.MaxConcurrencyAtSLA && s.Population != nil && r.MaxConcurrencyAtSLA > 0 {
			out += fmt.Sprintf(", %.1f in flight", s.Population.InFlight)
		}
	}
	return out
}

// UsersCell is a step's users as the step tables print them: the count and,
// for users who are people, the requests in flight they produced with
// Little's law's figure.
func UsersCell(s results.Step) string {
	p := s.Population
	if p == nil {
		return strconv.Itoa(s.Concurrency)
	}
	out := fmt.Sprintf("%d users, %.1f in flight", s.Concurrency, p.InFlight)
	if p.InFlightExpected > 0 && p.ThinkDrawn > 0 {
		out += fmt.Sprintf(" (Little %.1f)", p.InFlightExpected)
	}
	return out
}

// WorkloadNote is a step's conversation figures in words: TTFT p50/p95 by
// turn and the prefix cache hit rate ("" when there is nothing to say).
func WorkloadNote(s results.Step) string {
	var parts []string
	if p := s.Population; p != nil && len(p.TTFTByTurn) > 0 {
		var turns []string
		for _, t := range p.TTFTByTurn {
			turns = append(turns, fmt.Sprintf("%d: %s / %s (%.0f tokens in)", t.Turn, msv(t.P50Seconds), msv(t.P95Seconds), t.PromptTokensMean))
		}
		parts = append(parts, "TTFT p50 / p95 by turn: "+strings.Join(turns, ", "))
	}
	if s.Server != nil && s.Server.PrefixCache != nil && s.Server.PrefixCache.QueriedTokens > 0 && s.Population != nil {
		parts = append(parts, fmt.Sprintf("prefix cache hits %.0f %% of prompt tokens", 100*s.Server.PrefixCache.HitRate))
	}
	if p := s.Population; p != nil && p.ConversationsCapped > 0 {
		parts = append(parts, fmt.Sprintf("%d conversations ended early at the %d-token context", p.ConversationsCapped, p.MaxModelLen))
	}
	return strings.Join(parts, "; ")
}

// PopulationNote says, for a result whose users are people, what a user
// is and how the in-flight figure is checked ("" for streams).
func PopulationNote(r results.Result) string {
	p := results.PopulationOf(r.Steps)
	if p == nil {
		return ""
	}
	note := "Concurrency counts " + p.Describe() + ", not requests in flight"
	if p.ThinkMeanSeconds > 0 {
		note += "; a user is in flight only between a request and its answer, then thinks, so each step shows the requests in flight (time-averaged) next to the users and Little's law's figure: users x e2e / (e2e + think), with the step's mean e2e and the think times drawn"
		if p.TimeScale > 0 && p.TimeScale != 1 {
			note += fmt.Sprintf("; the think time is scaled with the run's time scale (x%g), as the SLA's times are", p.TimeScale)
		}
	}
	return note + "."
}

// withPopulation tells the planner what a user of r is.
func withPopulation(c *planner.Capacity, r results.Result) {
	p := results.PopulationOf(r.Steps)
	if p == nil {
		return
	}
	c.Population = p.Describe()
	for _, s := range r.Steps {
		if s.Concurrency == r.MaxConcurrencyAtSLA && s.Population != nil {
			c.InFlightAtSLA = s.Population.InFlight
		}
	}
}

// planUsers is a plan line's max users at SLA per replica, with what a user
// is when users are people.
func planUsers(l planner.Line) string {
	if l.Population == "" {
		return fmt.Sprint(l.MaxUsersAtSLA)
	}
	return fmt.Sprintf("%d %s", l.MaxUsersAtSLA, l.Population)
}

// populationPlanNote says that a plan line sizes for people, not streams.
func populationPlanNote(users int, lines []planner.Line, r PlanRow) string {
	for _, l := range lines {
		if l.Model != r.Model || l.Scenario != r.Scenario || l.Population == "" {
			continue
		}
		n := fmt.Sprintf("- %s, scenario %s: sized for %d %s: people who think between requests, not streams", l.Model, l.Scenario, users, l.Population)
		if l.InFlightAtSLA > 0 {
			n += fmt.Sprintf("; at its max users at SLA (%d a replica) they kept %.1f requests in flight", l.MaxUsersAtSLA, l.InFlightAtSLA)
		}
		return n + "."
	}
	return ""
}
