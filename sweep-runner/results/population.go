package results

import (
	"fmt"
	"strings"
	"time"
)

// Population describes the users of a closed-loop step whose scenario
// makes them people (think time, conversations, a shared system prompt)
// rather than streams; absent for streams.
type Population struct {
	// Users: the step's users (its concurrency).
	Users int `json:"users"`
	// Think time as configured (mean scaled by TimeScale, the run's time
	// scale: a simulator F times faster has users who think F times faster).
	ThinkDistribution string  `json:"think_distribution,omitempty"`
	ThinkMeanSeconds  float64 `json:"think_mean_seconds,omitempty"`
	ThinkSpread       float64 `json:"think_spread,omitempty"`
	TimeScale         float64 `json:"time_scale,omitempty"`
	// ThinkDrawnSeconds: mean of the think times drawn after the window's
	// requests (ThinkDrawn of them): the think time of Little's law.
	ThinkDrawnSeconds float64 `json:"think_drawn_seconds,omitempty"`
	ThinkDrawn        int     `json:"think_drawn,omitempty"`
	// InFlight: requests in flight, time-averaged over the window (the
	// step's concurrency_achieved). InFlightExpected is Little's law for
	// users who think: users x e2e / (e2e + think), from the window's mean
	// e2e and ThinkDrawnSeconds; LittleGap = (InFlight - InFlightExpected)
	// / InFlightExpected.
	InFlight         float64 `json:"in_flight"`
	InFlightExpected float64 `json:"in_flight_expected,omitempty"`
	LittleGap        float64 `json:"little_gap,omitempty"`
	// Turns of a conversation (uniform between TurnsMin and TurnsMax).
	TurnsMin int `json:"turns_min,omitempty"`
	TurnsMax int `json:"turns_max,omitempty"`
	// TTFTByTurn: TTFT of the window's requests by their turn.
	TTFTByTurn []TurnLatency `json:"ttft_by_turn,omitempty"`
	// ConversationsCapped: window conversations ended before their last
	// turn because the next would not fit the server's context
	// (MaxModelLen, from GET /v1/models; 0: unknown, no cap).
	ConversationsCapped int `json:"conversations_capped,omitempty"`
	MaxModelLen         int `json:"max_model_len,omitempty"`
	// SharedPrefixTokens: the system prompt every request shares (as
	// calibrated; the prompt's total length is still the scenario's).
	SharedPrefixTokens int `json:"shared_prefix_tokens,omitempty"`
}

// TurnLatency is the TTFT of one turn of the conversations.
type TurnLatency struct {
	Turn              int     `json:"turn"`
	Count             int     `json:"count"`
	P50Seconds        float64 `json:"p50_seconds"`
	P95Seconds        float64 `json:"p95_seconds"`
	PromptTokensMean  float64 `json:"prompt_tokens_mean"`
	PromptTokensCount int     `json:"prompt_tokens_count"`
}

// PrefixCache is what the server's prefix cache counters said over the
// window (vLLM V1 vllm:prefix_cache_{queries,hits}_total, older
// vllm:gpu_prefix_cache_{queries,hits}_total), in prompt tokens.
type PrefixCache struct {
	QueriedTokens float64 `json:"queried_tokens"`
	HitTokens     float64 `json:"hit_tokens"`
	// HitRate = HitTokens / QueriedTokens (0 when nothing was queried).
	HitRate float64 `json:"hit_rate"`
	// Metric: the counter's name the server exposed.
	Metric string `json:"metric"`
}

// PrefillTokens: prompt tokens the server computed (queried and not hit).
func (p *PrefixCache) PrefillTokens() float64 { return p.QueriedTokens - p.HitTokens }

// Think describes the think time, "" for users who do not think:
// "think time 5s exponential" (the mean before the time scale, and the
// scaled one when the run was time-scaled).
func (p *Population) Think() string {
	if p == nil || p.ThinkMeanSeconds <= 0 {
		return ""
	}
	scale := p.TimeScale
	if scale <= 0 {
		scale = 1
	}
	mean := time.Duration(p.ThinkMeanSeconds / scale * 1e9).Round(time.Millisecond)
	s := fmt.Sprintf("think time %s %s", mean, p.ThinkDistribution)
	if p.ThinkSpread > 0 {
		s += fmt.Sprintf(" (spread %g)", p.ThinkSpread)
	}
	if scale != 1 {
		s += fmt.Sprintf(", x%g time scale: %s", scale, time.Duration(p.ThinkMeanSeconds*1e9).Round(time.Millisecond))
	}
	return s
}

// Describe is the population in words: "users (think time 5s exponential;
// 4-turn conversations; 512-token shared prefix)", "" for streams.
func (p *Population) Describe() string {
	if p == nil {
		return ""
	}
	var parts []string
	if t := p.Think(); t != "" {
		parts = append(parts, t)
	}
	if p.TurnsMax > 1 {
		if p.TurnsMin == p.TurnsMax {
			parts = append(parts, fmt.Sprintf("%d-turn conversations", p.TurnsMax))
		} else {
			parts = append(parts, fmt.Sprintf("conversations of %d-%d turns", p.TurnsMin, p.TurnsMax))
		}
	}
	if p.SharedPrefixTokens > 0 {
		parts = append(parts, fmt.Sprintf("%d-token shared prefix", p.SharedPrefixTokens))
	}
	if len(parts) == 0 {
		return "users"
	}
	return "users (" + strings.Join(parts, "; ") + ")"
}

// PopulationOf is the population of a result's steps (nil for streams).
func PopulationOf(steps []Step) *Population {
	for i := range steps {
		if steps[i].Population != nil {
			return steps[i].Population
		}
	}
	return nil
}
