package analysis

import (
	"time"

	"github.com/rhoai-demo/step07/api/kpi"
	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// GoodRequest reports whether one successful request met every per-request
// threshold at "acceptable" (TTFT, and reading speed = 1/TPOT when it has
// more than one output token). Goodput counts these.
func GoodRequest(ttft, tpot time.Duration, sla v1alpha1.SLA) bool {
	if ttft > sla.TTFT.Acceptable.Duration {
		return false
	}
	if tpot > 0 && 1/tpot.Seconds() < sla.ReadingSpeed.Acceptable {
		return false
	}
	return true
}

// Evaluate fills the step's KPIs, Grades, Broken, Rule(s) and AtSLA from its
// measurements and the SLA table: every KPI of kpi.KPIs it measured
// (Value), graded when the SLA grades it; the breaking rules of kpi.Rules,
// fed the step's measures (Measure). A graded KPI that was not measured is
// graded unknown and neither breaks the step nor keeps it from the SLA.
func Evaluate(s *results.Step, sla v1alpha1.SLA) {
	k, g := results.KPIs{}, results.Grades{}
	var rules []string
	// A step without a token breaks first (no_response, in TTFT's place).
	if s.Latency.TTFT.Count == 0 && s.Requests.Started > 0 {
		rules = append(rules, results.RuleNoResponse)
	}
	for _, x := range kpi.KPIs {
		t, graded := x.Thresholds(sla)
		if graded {
			g[x.Key] = results.GradeUnknown
		}
		v, ok := Value(s, x.Source)
		if !ok {
			continue
		}
		k[x.Value] = v
		if graded {
			g[x.Key] = x.Grade(v, t)
		}
	}
	rules = append(rules, kpi.Broken(sla, func(rule string) (float64, bool) { return Measure(s, rule) })...)
	s.KPIs, s.Grades = k, g
	s.Rules = rules
	s.Broken = len(rules) > 0
	s.Rule = ""
	if s.Broken {
		s.Rule = rules[0]
	}
	s.AtSLA = !s.Broken && s.Requests.Started > 0
	for _, grade := range g {
		s.AtSLA = s.AtSLA && atLeastAcceptable(grade)
	}
}

// Value is a step's value of a KPI's source (kpi.Source), in the KPI's
// unit; ok false when the step did not measure it.
func Value(s *results.Step, src kpi.Source) (v float64, ok bool) {
	switch src.From {
	case kpi.FromLatency, kpi.FromRate:
		d := distribution(s, src.Dist)
		if d == nil || d.Count == 0 && src.Fallback != "" {
			d = distribution(s, src.Fallback)
		}
		if d == nil || d.Count == 0 {
			return 0, false
		}
		p, ok := d.Percentiles.At(src.Quantile)
		if !ok || src.From == kpi.FromRate && p <= 0 {
			return 0, false
		}
		if src.From == kpi.FromRate {
			return 1 / p, true
		}
		return p, true
	case kpi.FromKVCache:
		if s.Server == nil || s.Server.Samples == 0 || s.Server.Generation == "" {
			return 0, false
		}
		return s.Server.KVCacheUsage.Max * 100, true
	case kpi.FromSuccess:
		fin := s.Requests.Successful + s.Requests.Errored
		if fin == 0 {
			return 0, false
		}
		return 100 * float64(s.Requests.Successful) / float64(fin), true
	}
	return 0, false
}

// distribution is the step's latency distribution of a kpi.Dist* name.
func distribution(s *results.Step, name string) *results.Distribution {
	switch name {
	case kpi.DistTTFT:
		return &s.Latency.TTFT
	case kpi.DistTPOT:
		return &s.Latency.TPOT
	case kpi.DistITL:
		return &s.Latency.ITL
	case kpi.DistE2E:
		return &s.Latency.E2E
	}
	return nil
}

// Measure is a step's measure for a breaking rule of kpi.Rules, in the
// rule's unit (TTFT p95 seconds; the share of /metrics samples with
// requests waiting; the share of finished requests that succeeded); ok
// false when the step did not measure it.
func Measure(s *results.Step, rule string) (v float64, ok bool) {
	switch rule {
	case kpi.RuleTTFT:
		return s.Latency.TTFT.Percentiles.P95, s.Latency.TTFT.Count > 0
	case kpi.RuleQueue:
		if s.Server == nil || s.Server.Samples == 0 {
			return 0, false
		}
		return s.Server.WaitingFraction, true
	case kpi.RuleSuccess:
		fin := s.Requests.Successful + s.Requests.Errored
		if fin == 0 {
			return 0, false
		}
		return float64(s.Requests.Successful) / float64(fin), true
	}
	return 0, false
}

func atLeastAcceptable(grade string) bool {
	return grade == results.GradeExcellent || grade == results.GradeAcceptable || grade == results.GradeUnknown
}

// ttftKPI is the TTFT KPI, whose value at SLA the results report.
var ttftKPI, _ = kpi.ByKey(kpi.KeyTTFT)
