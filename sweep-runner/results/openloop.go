package results

// Open-loop scenarios (a scenario with arrival): steps over rates of
// arrivals instead of users. Their steps and results carry OpenLoop; the
// concurrency fields hold the measured mean requests in flight. Steps and
// summaries without it are closed-loop ones, as before.

// RuleClientBound breaks an open-loop step whose requests in flight reached
// the scenario's maxInFlight, so that some had to wait to be sent: the
// client, not the server, set the pace, and the step cannot hold the SLA.
const RuleClientBound = "client_bound"

// OpenLoop is what an open-loop step offered and achieved.
type OpenLoop struct {
	// Process of the arrivals: poisson, constant or gamma (Burstiness its
	// shape: 1 is Poisson, below 1 burstier).
	Process    string  `json:"process"`
	Burstiness float64 `json:"burstiness,omitempty"`
	// ArrivalCV: the coefficient of variation of the gaps between the
	// window's arrivals, as scheduled (0 constant, about 1 Poisson, above
	// 1 bursts): a burst can be seen to be one.
	ArrivalCV float64 `json:"arrival_cv"`
	// OfferedRate: the rate of the schedule, requests per second.
	OfferedRate float64 `json:"offered_rate"`
	// AchievedRate: requests sent (started) per second of the window.
	AchievedRate float64 `json:"achieved_rate"`
	// Seed of the Poisson schedule (one seed, one schedule).
	Seed uint64 `json:"seed"`
	// MaxInFlight: the client's bound; PeakInFlight the most requests in
	// flight at once (the mean is the step's concurrency_achieved).
	MaxInFlight  int `json:"max_in_flight"`
	PeakInFlight int `json:"peak_in_flight"`
	// SendDelay: scheduled send time to actual send of the window's
	// requests, seconds. Latencies count from the scheduled time, so this
	// delay is inside every TTFT and e2e.
	SendDelay Distribution `json:"send_delay"`
	// ClientBound is set when the bound was reached before the window
	// closed (the step is then broken by RuleClientBound).
	ClientBound *ClientBound `json:"client_bound,omitempty"`
}

// ClientBound says how far an open-loop step ran into its maxInFlight.
type ClientBound struct {
	// Requests that had to wait for a request in flight to finish.
	Requests int `json:"requests"`
	// Seconds during which maxInFlight requests were in flight, from the
	// step's start to the window's end.
	Seconds float64 `json:"seconds"`
	// MaxWaitSeconds: the longest such wait.
	MaxWaitSeconds float64 `json:"max_wait_seconds"`
}

// BreakingRate is the lowest offered rate that broke and the rule it broke.
type BreakingRate struct {
	Rate float64 `json:"rate"`
	Rule string  `json:"rule"`
}

// OpenLoopResult is the answer of an open-loop target and scenario.
type OpenLoopResult struct {
	Process string `json:"process"`
	// MaxRateAtSLA: the highest offered rate (requests/s) whose step is at
	// SLA below the lowest one that is not (0: none).
	MaxRateAtSLA float64 `json:"max_rate_at_sla"`
	// BreakingRate is null when no tested rate broke.
	BreakingRate *BreakingRate `json:"breaking_rate"`
	// MaxTestedRate: the highest offered rate run.
	MaxTestedRate float64 `json:"max_tested_rate"`
	// Resolution: the bisection stops when the rates around a boundary are
	// within this fraction of the lower one.
	Resolution float64 `json:"resolution"`
	// AchievedRateAtSLA and MeanInFlightAtSLA are measured at MaxRateAtSLA.
	AchievedRateAtSLA float64 `json:"achieved_rate_at_sla"`
	MeanInFlightAtSLA float64 `json:"mean_in_flight_at_sla"`
	// ClientBoundRates: offered rates whose step reached maxInFlight.
	ClientBoundRates []float64 `json:"client_bound_rates,omitempty"`
	// UncertainRates and NotSteadyRates: as UncertainSteps and NotSteady.
	UncertainRates []float64 `json:"uncertain_rates,omitempty"`
	NotSteadyRates []float64 `json:"not_steady_rates,omitempty"`
}

// OpenLoopDefinitions are added to a summary's definitions when it holds an
// open-loop scenario.
var OpenLoopDefinitions = map[string]string{
	"open loop":       "a scenario with arrival sends requests at a rate (poisson: independent exponential gaps; constant: one every 1/rate) on a schedule drawn in advance, whether or not earlier requests finished; TTFT and e2e count from each request's scheduled send time, so a client that falls behind (scheduler lag, maxInFlight reached) shows the wait instead of hiding the queue (no coordinated omission); concurrency is the measured mean of requests in flight",
	"max rate at SLA": "the highest offered rate (requests/s) whose step is not broken and grades every KPI at least acceptable, below the lowest rate that is not; found by doubling from startRate to maxRate (or the explicit rates) and bisecting to 5 % of the rate",
	"client bound":    "an open-loop step whose requests in flight reached maxInFlight (some requests waited to be sent) is broken by the rule client_bound: the client, not the server, limited the load",
	"achieved rate":   "requests sent per second of the window, against the offered rate of the schedule",
	"send delay":      "scheduled send time to actual send of a window request (inside its TTFT and e2e)",
	"breaking rate":   "the lowest offered rate whose step breaks, with the rule (as the breaking point, plus client_bound)",
	"offered rate":    "the rate of the arrival schedule, requests per second",
	"mean in flight":  "time-averaged requests sent and not finished in the window (Little's law: achieved rate × mean e2e from the send)",
}
