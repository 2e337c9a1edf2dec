package planner

import (
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestPlanHandComputed(t *testing.T) {
	caps := []Capacity{
		// BF16 on 4 GPUs: 24 users at SLA, 1200 tok/s, 1600 W, $4/GPU-h.
		{Model: "bf16", Scenario: "A", GPUsPerReplica: 4, MaxUsersAtSLA: 24, OutputTokensPerSecond: 1200, PowerWatts: 1600, GPUHourCost: 4},
		// INT4 on 1 GPU: 10 users at SLA, 400 tok/s, no power, $4/GPU-h.
		{Model: "int4", Scenario: "A", GPUsPerReplica: 1, MaxUsersAtSLA: 10, OutputTokensPerSecond: 400, GPUHourCost: 4},
		// Never met the SLA.
		{Model: "tiny", Scenario: "A", GPUsPerReplica: 1, MaxUsersAtSLA: 0, OutputTokensPerSecond: 0, GPUHourCost: 1},
	}
	lines, err := Plan(100, caps)
	if err != nil {
		t.Fatal(err)
	}
	// bf16: ceil(100/24) = 5 replicas, 20 GPUs, $80/h; per user 50 tok/s -> 5000 tok/s served;
	// $80 / (5000*3600) * 1e6 = $4.444...; power 5*1600 W = 8000 W / 5000 tok/s = 1.6 J/token
	// -> 1.6e6 J per million = 0.4444 kWh.
	b := lines[0]
	if !b.Feasible || b.Replicas != 5 || b.GPUs != 20 || !near(b.CostPerHour, 80) || !near(b.ServedTokensPerSecond, 5000) ||
		!near(b.CostPerMillionTokens, 80.0/(5000*3600)*1e6) || !near(b.KWhPerMillionTokens, 1.6e6/3.6e6) || !near(b.UsersPerGPU, 6) {
		t.Errorf("bf16 line = %+v", b)
	}
	// int4: 10 replicas, 10 GPUs, $40/h; 40 tok/s per user -> 4000 tok/s; $40/(4000*3600)*1e6 = $2.777...
	i := lines[1]
	if !i.Feasible || i.Replicas != 10 || i.GPUs != 10 || !near(i.CostPerHour, 40) || !near(i.CostPerMillionTokens, 40.0/(4000*3600)*1e6) || !math.IsNaN(i.KWhPerMillionTokens) || !near(i.UsersPerGPU, 10) {
		t.Errorf("int4 line = %+v", i)
	}
	if x := lines[2]; x.Feasible || x.Replicas != 0 || !math.IsNaN(x.CostPerHour) {
		t.Errorf("a model that never met the SLA was sized: %+v", x)
	}
}

func TestPlanExactFitAndUnknownPrice(t *testing.T) {
	lines, err := Plan(48, []Capacity{{Model: "m", GPUsPerReplica: 2, MaxUsersAtSLA: 24, OutputTokensPerSecond: 480}})
	if err != nil {
		t.Fatal(err)
	}
	l := lines[0]
	if l.Replicas != 2 || l.GPUs != 4 || !math.IsNaN(l.CostPerHour) || !math.IsNaN(l.CostPerMillionTokens) || !near(l.ServedTokensPerSecond, 960) {
		t.Errorf("line = %+v", l)
	}
	if _, err := Plan(0, nil); err == nil {
		t.Error("0 users accepted")
	}
}
