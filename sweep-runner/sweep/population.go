package sweep

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/analysis"
	"github.com/rhoai-demo/step07/sweep-runner/client"
	"github.com/rhoai-demo/step07/sweep-runner/load"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// A closed-loop scenario's users may be people (api/v1alpha1 workload.go):
// they think between requests, hold conversations and share a system
// prompt. The concurrency axis stays the number of users; each step also
// records the requests in flight they produce and checks them against
// Little's law.

// timeScale is the run's time scale (1 when unset).
func timeScale(spec v1alpha1.PlanSpec) float64 {
	if f := spec.TimeScale; f > 0 {
		return f
	}
	return 1
}

// ScaledThink is the scenario's think time as the load engine runs it: the
// mean multiplied by the run's time scale, as EffectiveSLA scales the SLA's
// times (a simulator F times faster serves users who think F times faster,
// so the ratio of think time to request time, hence the load, is kept).
func ScaledThink(sc v1alpha1.Scenario, spec v1alpha1.PlanSpec) *load.Think {
	t := sc.ThinkTime
	if t == nil || t.Mean.Duration <= 0 {
		return nil
	}
	return &load.Think{Distribution: t.Distribution, Spread: t.Spread,
		Mean: time.Duration(float64(t.Mean.Duration) * timeScale(spec))}
}

// applyPopulation sets a step's users from the scenario: think time and
// turns. The warmup's bound grows by one mean think time, the spread of
// the users' first requests.
func applyPopulation(cfg *load.Config, sc v1alpha1.Scenario, spec v1alpha1.PlanSpec) {
	th := ScaledThink(sc, spec)
	lo, hi := sc.TurnsOrOne()
	cfg.Population = load.Population{Think: th, TurnsMin: lo, TurnsMax: hi}
	if th != nil {
		cfg.MaxWarmup += th.Mean
	}
}

// preparePrompt completes a scenario's calibrated prompt for its users: the
// server's context (GET /v1/models max_model_len), which caps conversations.
func (r *Runner) preparePrompt(ctx context.Context, t v1alpha1.Target, sc v1alpha1.Scenario, p *client.Prompt) {
	if _, hi := sc.TurnsOrOne(); hi > 1 && p.MaxModelLen == 0 {
		p.MaxModelLen = r.client(t).MaxModelLen(ctx, t.Model)
		if p.MaxModelLen == 0 {
			r.logf("target %s, scenario %s: the server does not report max_model_len; conversations are not capped at its context", t.Name, sc.Name)
		}
	}
}

// populationOf is a step's population record, nil for streams: the think
// time, the requests in flight against Little's law, TTFT by turn.
func populationOf(res *load.Result, s *results.Step, sc v1alpha1.Scenario, spec v1alpha1.PlanSpec, users int) *results.Population {
	lo, hi := sc.TurnsOrOne()
	if !sc.ClosedLoop() || sc.ThinkTime == nil && hi <= 1 && sc.SharedPrefixTokens == 0 {
		return nil
	}
	p := &results.Population{Users: users, InFlight: s.ConcurrencyAchieved, SharedPrefixTokens: sc.SharedPrefixTokens}
	if th := ScaledThink(sc, spec); th != nil {
		p.ThinkDistribution, p.ThinkMeanSeconds, p.ThinkSpread = th.Distribution, th.Mean.Seconds(), th.Spread
		if f := timeScale(spec); f != 1 {
			p.TimeScale = f
		}
	}
	if res.Pop.ThinkCount > 0 {
		p.ThinkDrawnSeconds, p.ThinkDrawn = res.Pop.MeanThink().Seconds(), res.Pop.ThinkCount
	}
	// Little's law: each user is in flight for e2e and thinking for
	// think, so users x e2e / (e2e + think) requests are in flight.
	if e2e := s.Latency.E2E.Mean; e2e > 0 {
		p.InFlightExpected = float64(users) * e2e / (e2e + p.ThinkDrawnSeconds)
		p.LittleGap = (p.InFlight - p.InFlightExpected) / p.InFlightExpected
	}
	if hi > 1 {
		p.TurnsMin, p.TurnsMax = lo, hi
		p.ConversationsCapped = res.Pop.Capped
		for k, ttft := range res.Pop.TTFTByTurn {
			if len(ttft) == 0 && len(res.Pop.PromptByTurn[k]) == 0 {
				continue
			}
			d := analysis.Dist(slices.Clone(ttft))
			pr := analysis.Dist(res.Pop.PromptByTurn[k])
			p.TTFTByTurn = append(p.TTFTByTurn, results.TurnLatency{Turn: k + 1, Count: d.Count,
				P50Seconds: d.Percentiles.P50, P95Seconds: d.Percentiles.P95,
				PromptTokensMean: pr.Mean, PromptTokensCount: pr.Count})
		}
	}
	return p
}

// withPrompt adds what the calibration knows to a step's population: the
// shared prefix as measured and the server's context.
func withPrompt(s *results.Step, p *client.Prompt) {
	if s.Population == nil || p == nil {
		return
	}
	if p.SharedWords > 0 {
		s.Population.SharedPrefixTokens = p.SharedTokens
	}
	s.Population.MaxModelLen = p.MaxModelLen
}

// populationLine is the population's part of a step's progress line.
func populationLine(s *results.Step) string {
	p := s.Population
	if p == nil {
		return ""
	}
	out := fmt.Sprintf(", %d users, %.1f in flight", p.Users, p.InFlight)
	if p.ThinkDrawn > 0 && p.InFlightExpected > 0 {
		out += fmt.Sprintf(" (Little %.1f, %+.0f%%)", p.InFlightExpected, 100*p.LittleGap)
	}
	if n := len(p.TTFTByTurn); n > 1 {
		out += fmt.Sprintf(", TTFT p50 turn 1 %s, turn %d %s", ms(p.TTFTByTurn[0].P50Seconds), p.TTFTByTurn[n-1].Turn, ms(p.TTFTByTurn[n-1].P50Seconds))
	}
	if pc := serverPrefix(s); pc != nil {
		out += fmt.Sprintf(", prefix cache hits %.0f%%", 100*pc.HitRate)
	}
	return out
}

func serverPrefix(s *results.Step) *results.PrefixCache {
	if s.Server == nil {
		return nil
	}
	return s.Server.PrefixCache
}

func ms(sec float64) string { return fmt.Sprintf("%.0f ms", sec*1000) }
