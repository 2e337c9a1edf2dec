package planner

import (
	"math"
	"testing"
)

func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		name      string
		in        Demand
		peakUsers int
		peakRPS   float64
		wantErr   bool
	}{
		{name: "factor", in: Demand{Users: 100, PeakFactor: 2.5}, peakUsers: 250},
		// 100 x 1.1 is 110.00000000000001 in floating point: still 110 users.
		{name: "factor within rounding", in: Demand{Users: 100, PeakFactor: 1.1}, peakUsers: 110},
		{name: "factor rounds up", in: Demand{Users: 7, PeakFactor: 1.5}, peakUsers: 11},
		{name: "flat load", in: Demand{Users: 16, Spare: 2}, peakUsers: 16},
		{name: "peak only", in: Demand{PeakUsers: 250}, peakUsers: 250},
		{name: "rates", in: Demand{RPS: 12, PeakFactor: 3}, peakRPS: 36},
		{name: "both", in: Demand{Users: 10, RPS: 2, PeakFactor: 2}, peakUsers: 20, peakRPS: 4},
		{name: "no load", in: Demand{Spare: 1}, wantErr: true},
		{name: "peak below mean", in: Demand{Users: 100, PeakUsers: 50}, wantErr: true},
		{name: "rate peak below mean", in: Demand{RPS: 10, PeakRPS: 5}, wantErr: true},
		{name: "factor below 1", in: Demand{Users: 100, PeakFactor: 0.5}, wantErr: true},
		{name: "negative spare", in: Demand{Users: 1, Spare: -1}, wantErr: true},
		{name: "negative users", in: Demand{Users: -1, PeakUsers: 3}, wantErr: true},
		{name: "NaN rate", in: Demand{RPS: math.NaN()}, wantErr: true},
	} {
		d, err := tc.in.Resolve()
		if tc.wantErr {
			if err == nil {
				t.Errorf("%s: %+v accepted as %+v", tc.name, tc.in, d)
			}
			continue
		}
		if err != nil || d.PeakUsers != tc.peakUsers || !near(d.PeakRPS, tc.peakRPS) || d.Users != tc.in.Users || d.Spare != tc.in.Spare {
			t.Errorf("%s: Resolve(%+v) = %+v, %v; want peak %d users, %g req/s", tc.name, tc.in, d, err, tc.peakUsers, tc.peakRPS)
		}
		if again, err := d.Resolve(); err != nil || again != d {
			t.Errorf("%s: resolving twice moved %+v to %+v (%v)", tc.name, d, again, err)
		}
	}
}

func TestPlanPeakHandComputed(t *testing.T) {
	caps := []Capacity{
		// BF16 on 4 GPUs: 24 users at SLA, 1200 tok/s (50 a user), $4/GPU-h.
		{Model: "bf16", Scenario: "A", GPUsPerReplica: 4, MaxUsersAtSLA: 24, OutputTokensPerSecond: 1200, GPUHourCost: 4},
		// INT4 on 1 GPU: 10 users at SLA, 400 tok/s, no price.
		{Model: "int4", Scenario: "A", GPUsPerReplica: 1, MaxUsersAtSLA: 10, OutputTokensPerSecond: 400},
		// Open loop on 2 GPUs: 8 req/s at SLA sending 7.5/s, 960 tok/s (128
		// tokens a request), $3/GPU-h.
		{Model: "bf16", Scenario: "P", GPUsPerReplica: 2, OpenLoop: true, MaxRateAtSLA: 8, AchievedRateAtSLA: 7.5, MaxUsersAtSLA: 3, OutputTokensPerSecond: 960, GPUHourCost: 3},
		// Never met the SLA.
		{Model: "tiny", Scenario: "A", GPUsPerReplica: 1, GPUHourCost: 1},
	}
	lines, err := PlanPeak(Demand{Users: 100, PeakUsers: 240, Spare: 1}, caps)
	if err != nil {
		t.Fatal(err)
	}
	// bf16: ceil(240/24) = 10 + 1 spare = 11 replicas, 44 GPUs, $176/h;
	// 240 x 50 = 12000 tok/s; 11 x 24 - 240 = 24 users of headroom (10 %).
	// Mean: ceil(100/24) = 5 + 1 = 6 replicas, 24 GPUs, $96/h, 5000 tok/s.
	b := lines[0]
	if !b.Sized || b.Unit != UnitUsers || b.ReplicasForPeak != 10 || b.Peak.Replicas != 11 || b.Peak.GPUs != 44 || !near(b.Peak.CostPerHour, 176) ||
		!near(b.Peak.ServedTokensPerSecond, 12000) || !near(b.Peak.CostPerMillionTokens, 176/(12000*3600.0)*1e6) ||
		!near(b.Headroom, 24) || !near(b.HeadroomShare, 0.1) || b.Mean == nil || b.Mean.Replicas != 6 || b.Mean.GPUs != 24 ||
		!near(b.Mean.CostPerHour, 96) || !near(b.Mean.CostPerMillionTokens, 96/(5000*3600.0)*1e6) {
		t.Errorf("bf16 = %+v (mean %+v)", b, b.Mean)
	}
	// int4: 24 + 1 = 25 replicas, 25 GPUs, no price; 250 - 240 = 10 users.
	if i := lines[1]; !i.Sized || i.Peak.Replicas != 25 || i.Peak.GPUs != 25 || !math.IsNaN(i.Peak.CostPerHour) || !math.IsNaN(i.Mean.CostPerMillionTokens) || !near(i.Headroom, 10) {
		t.Errorf("int4 = %+v", i)
	}
	// The open-loop answer has no rate to size for.
	if o := lines[2]; o.Sized || !o.Feasible || o.Unit != UnitRPS || o.Peak.Replicas != 0 {
		t.Errorf("open loop sized without a rate: %+v", o)
	}
	if x := lines[3]; x.Feasible || x.Sized || x.Peak.Replicas != 0 || !math.IsNaN(x.Peak.CostPerHour) {
		t.Errorf("a model that never met the SLA was sized: %+v", x)
	}

	// Rates: peak 20 req/s: ceil(20/8) = 3 + 1 = 4 replicas, 8 GPUs, $24/h;
	// 20 x 128 = 2560 tok/s; 32 - 20 = 12 req/s of headroom (60 %). Mean
	// 5 req/s: 1 + 1 = 2 replicas, 640 tok/s.
	lines, err = PlanPeak(Demand{RPS: 5, PeakRPS: 20, Spare: 1}, caps)
	if err != nil {
		t.Fatal(err)
	}
	o := lines[2]
	if !o.Sized || o.ReplicasForPeak != 3 || o.Peak.Replicas != 4 || o.Peak.GPUs != 8 || !near(o.Peak.CostPerHour, 24) || !near(o.Peak.ServedTokensPerSecond, 2560) ||
		!near(o.Peak.CostPerMillionTokens, 24/(2560*3600.0)*1e6) || !near(o.Headroom, 12) || !near(o.HeadroomShare, 0.6) ||
		o.Mean == nil || o.Mean.Replicas != 2 || !near(o.Mean.ServedTokensPerSecond, 640) {
		t.Errorf("open loop = %+v (mean %+v)", o, o.Mean)
	}
	if lines[0].Sized || lines[0].Feasible != true {
		t.Errorf("a closed-loop answer sized without users: %+v", lines[0])
	}
	// Without an achieved rate the offered one turns rates into tokens:
	// 960 / 8 = 120 tokens a request.
	c := caps[2]
	c.AchievedRateAtSLA = 0
	lines, _ = PlanPeak(Demand{PeakRPS: 16}, []Capacity{c})
	if l := lines[0]; l.Peak.Replicas != 2 || !near(l.Peak.ServedTokensPerSecond, 1920) || !near(l.Headroom, 0) || l.Mean != nil {
		t.Errorf("offered rate fallback = %+v", l)
	}
	if _, err := PlanPeak(Demand{}, caps); err == nil {
		t.Error("a plan without a load accepted")
	}
}

func TestCeilCount(t *testing.T) {
	// Computed at run time, so the floating-point errors are there: 100 x
	// 1.1 = 110.00000000000001 and 3 x 0.1 / 0.1 = 3.0000000000000004.
	f, tenth := 1.1, 0.1
	for _, tc := range []struct {
		in   float64
		want int
	}{{0, 0}, {-1, 0}, {1e-12, 1}, {3, 3}, {10.5, 11}, {31.25, 32}, {100 * f, 110}, {3 * tenth / tenth, 3}} {
		if got := ceilCount(tc.in); got != tc.want {
			t.Errorf("ceilCount(%v) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
