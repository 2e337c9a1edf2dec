package results

// What a shared cluster does to a step that a laptop never does: several
// replicas behind the target's name, a server that restarts or changes
// during the step, requests that are not ours, and a client too starved to
// send on time. Each is recorded on the step (Step.Replicas, Step.Events,
// Step.Foreign, Step.Client), and a step that any of them disturbed is
// not evidence for a breaking point (Step.Disturbed) until it is measured
// again.

// Replicas are the servers behind a target's name when its step ran.
type Replicas struct {
	// Seen: the addresses the target's host resolved to (one per replica
	// of a headless Service); empty when the host is an IP address.
	Seen []string `json:"seen,omitempty"`
	// Measured: the address the load and the /metrics reads went to.
	Measured []string `json:"measured,omitempty"`
	// Mode: "pinned" (one replica sized) or "service" (one address that
	// may hide several replicas, e.g. a Service's virtual IP).
	Mode string `json:"mode"`
	// Hidden: several servers were seen behind one address (distinct
	// process start times in /metrics): its gauges mix replicas.
	Hidden int `json:"hidden,omitempty"`
}

// Replica modes.
const (
	ReplicasPinned  = "pinned"
	ReplicasService = "service"
)

// Event is something that happened to the server during a step.
type Event struct {
	// Kind: EventRestart, EventReplicas or EventMetricsLost.
	Kind string `json:"kind"`
	// Detail says what was seen, in words.
	Detail string `json:"detail"`
}

// Event kinds.
const (
	// EventRestart: the server restarted (its process start time changed,
	// or its counters went back).
	EventRestart = "restart"
	// EventReplicas: a replica appeared or disappeared behind the name.
	EventReplicas = "replicas_changed"
	// EventMetricsLost: /metrics stopped answering during the step.
	EventMetricsLost = "metrics_lost"
)

// Foreign is traffic on the server during a step that was not ours.
type Foreign struct {
	// Requests: requests the server finished in the step beyond those we
	// finished (at least; counters of finished requests only).
	Requests int `json:"requests"`
	// InFlight: the most requests the server held (running + waiting) at
	// once beyond ours in flight at that time.
	InFlight int `json:"in_flight"`
	// Allowed: the plan allows a sweep of a busy model (spec.allowBusy);
	// the step is kept as measured, marked.
	Allowed bool `json:"allowed,omitempty"`
}

// Client is the sweep's own client during a step's window: whether it
// could have added latency the server never caused.
type Client struct {
	// CPUSeconds: the process's CPU time (user + system) over the window;
	// CPUCores that over the window's length.
	CPUSeconds float64 `json:"cpu_seconds"`
	CPUCores   float64 `json:"cpu_cores"`
	// LimitCores: the cgroup's CPU limit (quota / period), 0 for none.
	LimitCores float64 `json:"limit_cores,omitempty"`
	// Cgroup: "v2", "v1", or "" when no cpu.stat could be read.
	Cgroup string `json:"cgroup,omitempty"`
	// Periods and ThrottledPeriods: CFS enforcement periods in the window,
	// and those in which the cgroup was throttled; ThrottledSeconds the
	// time its tasks were held back.
	Periods          int64   `json:"periods,omitempty"`
	ThrottledPeriods int64   `json:"throttled_periods,omitempty"`
	ThrottledSeconds float64 `json:"throttled_seconds,omitempty"`
	// SchedLatencyP99Seconds: the 99th percentile of the time goroutines
	// waited to run once runnable (runtime/metrics /sched/latencies:seconds),
	// over the window.
	SchedLatencyP99Seconds float64 `json:"sched_latency_p99_seconds"`
	// Limited: the client could have added latency (Reasons say how); the
	// step is not evidence for a breaking point.
	Limited bool     `json:"limited"`
	Reasons []string `json:"reasons,omitempty"`
}
