package planner

import (
	"errors"
	"fmt"
	"math"
)

// Planning for the peak: a fleet sized for the mean load breaks the SLA at
// every peak, and one sized exactly for the peak breaks it when a replica
// fails or rolls. A peak plan sizes each variant for the peak, adds spare
// replicas (N+K) on top, and sets the mean beside it so the cost of the
// peak can be read off.

// Units a peak line is sized in: closed-loop answers are users, open-loop
// answers (a max rate at SLA) requests per second.
const (
	UnitUsers = "users"
	UnitRPS   = "requests_per_second"
)

// PeakAssumptions is printed with every peak plan so a reader can judge
// its numbers (PeakAssumptionsFor adds PopulationAssumption).
const PeakAssumptions = "At a load (the peak or the mean): replicas = ceil(load / max at SLA per replica) + the spare replicas " +
	"(kept at the mean too; they serve no load of their own); GPUs = replicas x GPUs per replica. " +
	"A peak given as a factor is ceil(mean users x factor) users, or mean requests/s x factor. " +
	"Headroom = planned replicas (spares included) x max at SLA per replica - peak, with its share of the peak. " +
	"Each user is assumed to read at the per-user output rate measured at max users at SLA (output tok/s at that step / its concurrency); " +
	"an open-loop answer is sized in requests/s by its max rate at SLA, each request producing the output tokens measured there " +
	"(output tok/s / achieved requests/s). " +
	"Cost per hour = GPUs (spares included) x GPU-hour price; cost per million output tokens = cost per hour / (output tok/s served at that load x 3600) x 1e6."

// PeakAssumptionsFor is PeakAssumptions, with PopulationAssumption when a
// line sizes users who are people.
func PeakAssumptionsFor(lines []PeakLine) string {
	for _, l := range lines {
		if l.Population != "" && l.Unit == UnitUsers {
			return PeakAssumptions + " " + PopulationAssumption
		}
	}
	return PeakAssumptions
}

// Demand is the load a peak plan is sized for. Users size closed-loop
// answers, requests per second open-loop ones; a zero is "not given".
type Demand struct {
	// Users and PeakUsers: the mean and the peak concurrent users.
	Users, PeakUsers int
	// RPS and PeakRPS: the mean and the peak requests per second.
	RPS, PeakRPS float64
	// PeakFactor: peak / mean when the peak is given that way; Resolve
	// turns it into PeakUsers and PeakRPS.
	PeakFactor float64
	// Spare: replicas on top of what the peak needs (N+K), so a failed
	// replica or a rollout does not take the fleet below the peak.
	Spare int
}

// Resolve checks d and fills the peaks it leaves out: the mean times
// PeakFactor (users rounded up), or the mean itself (a flat load) without
// a factor. A peak below its mean is refused: the peak is the highest load.
func (d Demand) Resolve() (Demand, error) {
	for _, v := range []float64{d.RPS, d.PeakRPS, d.PeakFactor} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return d, errors.New("rates and the peak factor must be finite numbers")
		}
	}
	switch {
	case d.Users < 0 || d.PeakUsers < 0:
		return d, fmt.Errorf("users must not be negative (mean %d, peak %d)", d.Users, d.PeakUsers)
	case d.RPS < 0 || d.PeakRPS < 0:
		return d, fmt.Errorf("requests/s must not be negative (mean %g, peak %g)", d.RPS, d.PeakRPS)
	case d.Spare < 0:
		return d, fmt.Errorf("spare replicas must not be negative, got %d", d.Spare)
	case d.PeakFactor != 0 && d.PeakFactor < 1:
		return d, fmt.Errorf("the peak factor must be at least 1, got %g", d.PeakFactor)
	}
	f := d.PeakFactor
	if f == 0 {
		f = 1
	}
	if d.PeakUsers == 0 && d.Users > 0 {
		d.PeakUsers = ceilCount(float64(d.Users) * f)
	}
	if d.PeakRPS == 0 && d.RPS > 0 {
		d.PeakRPS = d.RPS * f
	}
	switch {
	case d.PeakUsers == 0 && d.PeakRPS == 0:
		return d, errors.New("no load to plan for: give users or requests/s")
	case d.Users > d.PeakUsers:
		return d, fmt.Errorf("the peak (%d users) is below the mean (%d users)", d.PeakUsers, d.Users)
	case d.RPS > d.PeakRPS:
		return d, fmt.Errorf("the peak (%g requests/s) is below the mean (%g requests/s)", d.PeakRPS, d.RPS)
	}
	return d, nil
}

// At is a plan at one load, the peak or the mean.
type At struct {
	// Load: users, or requests/s for an open-loop answer.
	Load float64
	// Replicas: what the load needs plus the spare replicas.
	Replicas int
	GPUs     int
	// ServedTokensPerSecond: the output tokens the load is served.
	ServedTokensPerSecond float64
	// CostPerHour, CostPerMillionTokens: NaN when the price is unknown.
	CostPerHour          float64
	CostPerMillionTokens float64
}

// PeakLine is the peak plan of one model variant and scenario.
type PeakLine struct {
	Capacity
	// Unit: UnitUsers or UnitRPS (an open-loop answer).
	Unit string
	// PerReplica: max users, or requests/s, at SLA of one replica.
	PerReplica float64
	// Feasible is false when the variant met the SLA at no tested load.
	Feasible bool
	// Sized: the demand has a load in the line's unit (and it is feasible).
	Sized bool
	Spare int
	// Peak: the plan at the peak, spares included.
	Peak At
	// ReplicasForPeak: what the peak needs before the spares.
	ReplicasForPeak int
	// Headroom: load the planned replicas hold at SLA beyond the peak;
	// HeadroomShare: that, over the peak.
	Headroom, HeadroomShare float64
	// Mean: the plan at the mean, nil when the demand has none in the
	// line's unit.
	Mean *At
}

// PlanPeak sizes every capacity for the demand's peak with its spare
// replicas, and for its mean.
func PlanPeak(d Demand, caps []Capacity) ([]PeakLine, error) {
	d, err := d.Resolve()
	if err != nil {
		return nil, err
	}
	out := make([]PeakLine, 0, len(caps))
	for _, c := range caps {
		out = append(out, sizePeak(d, c))
	}
	return out, nil
}

func sizePeak(d Demand, c Capacity) PeakLine {
	c.GPUsPerReplica = max(c.GPUsPerReplica, 1)
	l := PeakLine{Capacity: c, Unit: UnitUsers, Spare: d.Spare}
	peak, mean := float64(d.PeakUsers), float64(d.Users)
	var perUnit float64 // output tok/s one user or one request/s is served
	if c.OpenLoop {
		l.Unit, peak, mean = UnitRPS, d.PeakRPS, d.RPS
		l.PerReplica = c.MaxRateAtSLA
		l.Feasible = c.MaxRateAtSLA > 0 && c.OutputTokensPerSecond > 0
		if achieved := c.AchievedRateAtSLA; achieved > 0 {
			perUnit = c.OutputTokensPerSecond / achieved
		} else if l.Feasible {
			perUnit = c.OutputTokensPerSecond / c.MaxRateAtSLA
		}
	} else {
		l.PerReplica = float64(c.MaxUsersAtSLA)
		l.Feasible = c.MaxUsersAtSLA > 0 && c.OutputTokensPerSecond > 0
		if l.Feasible {
			perUnit = c.OutputTokensPerSecond / float64(c.MaxUsersAtSLA)
		}
	}
	l.Peak = At{Load: peak, CostPerHour: math.NaN(), CostPerMillionTokens: math.NaN()}
	l.Sized = l.Feasible && peak > 0
	if !l.Sized {
		return l
	}
	l.ReplicasForPeak = ceilCount(peak / l.PerReplica)
	l.Peak = c.at(peak, l.ReplicasForPeak+d.Spare, perUnit)
	l.Headroom = float64(l.Peak.Replicas)*l.PerReplica - peak
	l.HeadroomShare = l.Headroom / peak
	if mean > 0 {
		m := c.at(mean, ceilCount(mean/l.PerReplica)+d.Spare, perUnit)
		l.Mean = &m
	}
	return l
}

// at prices replicas serving load, each unit of it served perUnit output
// tok/s.
func (c Capacity) at(load float64, replicas int, perUnit float64) At {
	a := At{Load: load, Replicas: replicas, GPUs: replicas * c.GPUsPerReplica, ServedTokensPerSecond: load * perUnit,
		CostPerHour: math.NaN(), CostPerMillionTokens: math.NaN()}
	if c.GPUHourCost > 0 {
		a.CostPerHour = float64(a.GPUs) * c.GPUHourCost
		a.CostPerMillionTokens = a.CostPerHour / (a.ServedTokensPerSecond * 3600) * 1e6
	}
	return a
}

// ceilCount rounds x up to a whole count (at least 1 for x > 0), taking
// x within a rounding error of an integer as that integer: 100 x 1.1 is
// 110 users, not 111.
func ceilCount(x float64) int {
	if x <= 0 {
		return 0
	}
	n := math.Round(x)
	if math.Abs(x-n) > 1e-9*math.Max(1, x) {
		n = math.Ceil(x)
	}
	return max(int(n), 1)
}
