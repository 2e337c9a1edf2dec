package planner

import (
	"fmt"
	"math"
)

// Assumptions is printed with every plan so a reader can judge the numbers.
const Assumptions = "Replicas = ceil(users / max users at SLA per replica); GPUs = replicas x GPUs per replica. " +
	"Each user is assumed to read at the per-user output rate measured at max users at SLA " +
	"(output tok/s at that step / its concurrency), so served output tok/s = users x that rate. " +
	"Cost per hour = GPUs x GPU-hour price; cost per million output tokens = cost per hour / (served tok/s x 3600) x 1e6. " +
	"Energy per million tokens = replicas x mean GPU power at that step / served tok/s x 1e6, in kWh."

// PopulationAssumption is added to Assumptions when a plan sizes users who
// are people (a scenario with think time or conversations).
const PopulationAssumption = "Users are counted as the sweep counted them: in a scenario with think time they are people who think between requests " +
	"(users, not streams: only some of them have a request in flight at a time), sized with the think time the sweep measured them with; " +
	"in one without, each user is a stream that always has a request in flight."

// AssumptionsFor is Assumptions, with PopulationAssumption when a line
// sizes users who are people.
func AssumptionsFor(lines []Line) string {
	for _, l := range lines {
		if l.Population != "" {
			return Assumptions + " " + PopulationAssumption
		}
	}
	return Assumptions
}

// Capacity is what one sweep measured for one model variant and scenario at
// its max users at SLA.
type Capacity struct {
	Model    string
	Scenario string
	// GPUsPerReplica is the GPU count of one model server.
	GPUsPerReplica int
	// MaxUsersAtSLA is the highest concurrency meeting every acceptable
	// threshold; 0 when no tested concurrency met the SLA.
	MaxUsersAtSLA int
	// OutputTokensPerSecond measured at MaxUsersAtSLA (whole replica).
	OutputTokensPerSecond float64
	// PowerWatts is the mean power of the replica's GPUs at that step; 0 when
	// not measured.
	PowerWatts float64
	// GPUHourCost is the price of one GPU hour; 0 when unknown.
	GPUHourCost float64
	// Population says what a user is when users are people ("users (think
	// time 5s exponential)"); "" for streams.
	Population string
	// InFlightAtSLA: the requests in flight MaxUsersAtSLA users produced
	// (0 when not recorded).
	InFlightAtSLA float64
	// OpenLoop: an open-loop answer, a rate rather than users. PlanPeak
	// sizes it by MaxRateAtSLA (requests/s of one replica, 0 when no rate
	// met the SLA), with AchievedRateAtSLA, the requests/s actually sent
	// there, turning a rate into output tokens; Plan sizes it by the
	// requests in flight in MaxUsersAtSLA, as streams.
	OpenLoop                        bool
	MaxRateAtSLA, AchievedRateAtSLA float64
}

// Line is the plan for one model variant and scenario.
type Line struct {
	Capacity
	Users int
	// Feasible is false when the variant met the SLA at no concurrency.
	Feasible bool
	Replicas int
	GPUs     int
	// ServedTokensPerSecond is users x the per-user output rate.
	ServedTokensPerSecond float64
	// CostPerHour, CostPerMillionTokens: NaN when the price is unknown.
	CostPerHour          float64
	CostPerMillionTokens float64
	// KWhPerMillionTokens: NaN when power was not measured.
	KWhPerMillionTokens float64
	// UsersPerGPU is MaxUsersAtSLA / GPUsPerReplica.
	UsersPerGPU float64
}

// Plan sizes every capacity for users concurrent users.
func Plan(users int, caps []Capacity) ([]Line, error) {
	if users < 1 {
		return nil, fmt.Errorf("users must be at least 1, got %d", users)
	}
	out := make([]Line, 0, len(caps))
	for _, c := range caps {
		out = append(out, size(users, c))
	}
	return out, nil
}

func size(users int, c Capacity) Line {
	l := Line{Capacity: c, Users: users, CostPerHour: math.NaN(), CostPerMillionTokens: math.NaN(), KWhPerMillionTokens: math.NaN()}
	if c.GPUsPerReplica < 1 {
		c.GPUsPerReplica = 1
		l.GPUsPerReplica = 1
	}
	if c.MaxUsersAtSLA < 1 || c.OutputTokensPerSecond <= 0 {
		return l
	}
	l.Feasible = true
	l.UsersPerGPU = float64(c.MaxUsersAtSLA) / float64(c.GPUsPerReplica)
	l.Replicas = (users + c.MaxUsersAtSLA - 1) / c.MaxUsersAtSLA
	l.GPUs = l.Replicas * c.GPUsPerReplica
	perUser := c.OutputTokensPerSecond / float64(c.MaxUsersAtSLA)
	l.ServedTokensPerSecond = perUser * float64(users)
	if c.GPUHourCost > 0 {
		l.CostPerHour = float64(l.GPUs) * c.GPUHourCost
		l.CostPerMillionTokens = l.CostPerHour / (l.ServedTokensPerSecond * 3600) * 1e6
	}
	if c.PowerWatts > 0 {
		watts := float64(l.Replicas) * c.PowerWatts
		joulesPerToken := watts / l.ServedTokensPerSecond
		l.KWhPerMillionTokens = joulesPerToken * 1e6 / 3.6e6
	}
	return l
}
