package v1alpha1

import (
	"fmt"
	"time"
)

// A scenario's population. Without these fields a user is a request in
// flight that starts the next one the instant the previous ends (a closed
// loop of streams). With them a user reads, thinks and types between
// requests, carries a conversation whose history is resent each turn, shares
// a system prompt with every other user, or the load arrives as a rate.

// Think-time distributions.
const (
	DistFixed       = "fixed"
	DistExponential = "exponential"
	DistLognormal   = "lognormal"
)

// Arrival processes of an open-loop scenario.
const (
	ArrivalPoisson  = "poisson"
	ArrivalConstant = "constant"
	ArrivalGamma    = "gamma"
)

// DefaultMaxInFlight bounds an open-loop scenario's requests in flight: it
// protects the client, and a step that reaches it is reported as such.
const DefaultMaxInFlight = 4096

// ThinkTime is the pause between the end of a user's answer and the user's
// next request: reading, thinking, typing.
type ThinkTime struct {
	// Distribution is fixed, exponential (default) or lognormal.
	Distribution string `json:"distribution,omitempty"`
	// Mean think time (required, > 0).
	Mean Duration `json:"mean"`
	// Spread is lognormal's coefficient of variation (standard deviation /
	// mean, > 0; default 1). Fixed and exponential take none.
	Spread float64 `json:"spread,omitempty"`
}

// Turns is the number of turns of a conversation, uniform between Min and
// Max (fixed when they are equal). Each turn sends the previous turns,
// answers included, and a new user message of the scenario's input length.
type Turns struct {
	Min int `json:"min"`
	// Max defaults to Min.
	Max int `json:"max,omitempty"`
}

// Arrival makes a scenario open-loop: requests arrive at a rate, on
// schedule, whether or not earlier ones finished, and the sweep searches
// the highest rate (requests per second) that holds the SLA.
type Arrival struct {
	// Process is poisson (default: independent users), constant, or gamma
	// (bursts: vllm bench serve's --burstiness).
	Process string `json:"process,omitempty"`
	// Burstiness of the gamma process: the gamma distribution's shape of
	// the inter-arrival times (1: Poisson; below 1: burstier; above 1:
	// steadier); the mean stays 1/rate. Only with process gamma.
	Burstiness float64 `json:"burstiness,omitempty"`
	// Rates is an explicit increasing list of rates; when empty the sweep
	// doubles from StartRate up to MaxRate and then bisects.
	Rates     []float64 `json:"rates,omitempty"`
	StartRate float64   `json:"startRate,omitempty"`
	MaxRate   float64   `json:"maxRate,omitempty"`
	// MaxInFlight bounds the requests in flight (default 4096); a step
	// that reaches it is reported as bound by the client, and broken.
	MaxInFlight int `json:"maxInFlight,omitempty"`
}

// ClosedLoop reports whether the scenario steps over users (concurrency),
// not rates.
func (s Scenario) ClosedLoop() bool { return s.Arrival == nil }

// TurnsOrOne is the scenario's turn range, one turn when unset.
func (s Scenario) TurnsOrOne() (min, max int) {
	if s.Turns == nil {
		return 1, 1
	}
	return s.Turns.Min, max0(s.Turns.Max, s.Turns.Min)
}

// MeanThink is the mean think time (0 when users do not think).
func (s Scenario) MeanThink() time.Duration {
	if s.ThinkTime == nil {
		return 0
	}
	return s.ThinkTime.Mean.Duration
}

func max0(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// defaultWorkload fills a scenario's population defaults.
func (s *Scenario) defaultWorkload() {
	if t := s.ThinkTime; t != nil {
		if t.Distribution == "" {
			t.Distribution = DistExponential
		}
		if t.Distribution == DistLognormal && t.Spread == 0 {
			t.Spread = 1
		}
	}
	if t := s.Turns; t != nil && t.Max == 0 {
		t.Max = t.Min
	}
	if a := s.Arrival; a != nil {
		if a.Process == "" {
			a.Process = ArrivalPoisson
		}
		if a.Process == ArrivalGamma && a.Burstiness == 0 {
			a.Burstiness = 1
		}
		if len(a.Rates) == 0 && a.StartRate == 0 {
			a.StartRate = 1
		}
		if a.MaxInFlight == 0 {
			a.MaxInFlight = DefaultMaxInFlight
		}
	}
}

// validateWorkload reports the problems of a scenario's population at p
// (e.g. spec.sweep.scenarios[1]).
func (s Scenario) validateWorkload(errs *Errors, p string) {
	if t := s.ThinkTime; t != nil {
		switch t.Distribution {
		case DistFixed, DistExponential:
			if t.Spread != 0 {
				errs.Add(p+".thinkTime.spread", "applies to the lognormal distribution only (%s has no spread)", t.Distribution)
			}
		case DistLognormal:
			if t.Spread <= 0 || t.Spread > 10 {
				errs.Add(p+".thinkTime.spread", "must be in (0, 10]: the standard deviation over the mean, got %g", t.Spread)
			}
		default:
			errs.Add(p+".thinkTime.distribution", "must be %q, %q or %q, got %q", DistFixed, DistExponential, DistLognormal, t.Distribution)
		}
		if t.Mean.Duration <= 0 || t.Mean.Duration > time.Hour {
			errs.Add(p+".thinkTime.mean", "must be between 1ms and 1h, such as \"5s\", got %s", t.Mean.Duration)
		}
	}
	if t := s.Turns; t != nil {
		if t.Min < 1 || t.Min > 1000 {
			errs.Add(p+".turns.min", "must be between 1 and 1000, got %d", t.Min)
		}
		if t.Max < t.Min || t.Max > 1000 {
			errs.Add(p+".turns.max", "must be between turns.min (%d) and 1000, got %d", t.Min, t.Max)
		}
	}
	if s.SharedPrefixTokens < 0 {
		errs.Add(p+".sharedPrefixTokens", "must not be negative")
	} else if s.SharedPrefixTokens > 0 && s.SharedPrefixTokens >= s.InputTokens {
		errs.Add(p+".sharedPrefixTokens", "must be less than inputTokens (%d): the rest of each prompt stays unique to its user", s.InputTokens)
	}
	a := s.Arrival
	if a == nil {
		return
	}
	if s.ThinkTime != nil {
		errs.Add(p+".thinkTime", "applies to closed-loop users; an open-loop scenario (arrival) sends at its rate whatever the users do: remove one of the two")
	}
	if s.Turns != nil {
		errs.Add(p+".turns", "needs closed-loop users (a conversation is one user's); remove arrival or turns")
	}
	switch {
	case a.Process != ArrivalPoisson && a.Process != ArrivalConstant && a.Process != ArrivalGamma:
		errs.Add(p+".arrival.process", "must be %q, %q or %q, got %q", ArrivalPoisson, ArrivalConstant, ArrivalGamma, a.Process)
	case a.Process == ArrivalGamma && (a.Burstiness <= 0 || a.Burstiness > 100):
		errs.Add(p+".arrival.burstiness", "must be in (0, 100] with process gamma (1: Poisson, below 1: burstier), got %g", a.Burstiness)
	case a.Process != ArrivalGamma && a.Burstiness != 0:
		errs.Add(p+".arrival.burstiness", "applies to process gamma only (got process %s)", a.Process)
	}
	if len(a.Rates) > 0 {
		prev := 0.0
		for i, r := range a.Rates {
			if r <= prev || r > 1e6 {
				errs.Add(fmt.Sprintf("%s.arrival.rates[%d]", p, i), "must be greater than the rate before it (%g) and at most 1e6 requests per second", prev)
			}
			prev = r
		}
		if a.MaxRate != 0 || a.StartRate != 0 {
			errs.Add(p+".arrival.rates", "is an explicit list: leave startRate and maxRate unset")
		}
	} else {
		if a.StartRate <= 0 {
			errs.Add(p+".arrival.startRate", "must be greater than 0 requests per second")
		}
		if a.MaxRate < a.StartRate || a.MaxRate > 1e6 {
			errs.Add(p+".arrival.maxRate", "is required with startRate: at least startRate (%g) and at most 1e6 requests per second, got %g", a.StartRate, a.MaxRate)
		}
	}
	if a.MaxInFlight < 1 || a.MaxInFlight > 1000000 {
		errs.Add(p+".arrival.maxInFlight", "must be between 1 and 1000000, got %d", a.MaxInFlight)
	}
}

// clone copies a scenario without aliasing its population.
func (s Scenario) clone() Scenario {
	if s.ThinkTime != nil {
		t := *s.ThinkTime
		s.ThinkTime = &t
	}
	if s.Turns != nil {
		t := *s.Turns
		s.Turns = &t
	}
	if s.Arrival != nil {
		a := *s.Arrival
		a.Rates = append([]float64(nil), a.Rates...)
		s.Arrival = &a
	}
	if s.Dataset != nil {
		d := *s.Dataset
		s.Dataset = &d
	}
	if s.Mix != nil {
		s.Mix = append([]MixPart(nil), s.Mix...)
		for i := range s.Mix {
			if sh := s.Mix[i].Shape; sh != nil {
				c := sh.clone()
				s.Mix[i].Shape = &c
			}
		}
	}
	return s
}
