package analysis

import (
	"time"

	"github.com/rhoai-demo/step07/api/kpi"
	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// GradeLower grades a lower-is-better value (TTFT, KV cache): at or below
// excellent is excellent, at or below acceptable is acceptable, at or below
// degraded is a warning, above degraded is degraded.
func GradeLower(v, excellent, acceptable, degraded float64) string {
	switch {
	case v <= excellent:
		return results.GradeExcellent
	case v <= acceptable:
		return results.GradeAcceptable
	case v <= degraded:
		return results.GradeWarning
	}
	return results.GradeDegraded
}

// GradeHigher grades a higher-is-better value (reading speed, success).
func GradeHigher(v, excellent, acceptable, degraded float64) string {
	switch {
	case v >= excellent:
		return results.GradeExcellent
	case v >= acceptable:
		return results.GradeAcceptable
	case v >= degraded:
		return results.GradeWarning
	}
	return results.GradeDegraded
}

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
// measurements and the SLA table. A KPI that was not measured is graded
// unknown and neither breaks the step nor keeps it from the SLA. The
// breaking rules are kpi.Rules, fed the step's measures (Measure).
func Evaluate(s *results.Step, sla v1alpha1.SLA) {
	k := results.KPIs{KVCacheMaxPercent: -1}
	g := results.Grades{TTFT: results.GradeUnknown, ReadingSpeed: results.GradeUnknown, KVCache: results.GradeUnknown, Success: results.GradeUnknown}
	var rules []string

	if s.Latency.TTFT.Count > 0 {
		k.TTFTP95Seconds = s.Latency.TTFT.Percentiles.P95
		g.TTFT = GradeLower(k.TTFTP95Seconds, sla.TTFT.Excellent.Seconds(), sla.TTFT.Acceptable.Seconds(), sla.TTFT.Degraded.Seconds())
	} else if s.Requests.Started > 0 {
		rules = append(rules, results.RuleNoResponse)
	}
	if s.Server != nil && s.Server.Samples > 0 && s.Server.Generation != "" {
		k.KVCacheMaxPercent = s.Server.KVCacheUsage.Max * 100
		g.KVCache = GradeLower(k.KVCacheMaxPercent, sla.KVCache.Excellent, sla.KVCache.Acceptable, sla.KVCache.Degraded)
	}
	if finished := s.Requests.Successful + s.Requests.Errored; finished > 0 {
		k.SuccessPercent = 100 * float64(s.Requests.Successful) / float64(finished)
		g.Success = GradeHigher(k.SuccessPercent, sla.Success.Excellent, sla.Success.Acceptable, sla.Success.Degraded)
	}
	// A step without a token breaks first (no_response, in TTFT's place).
	rules = append(rules, kpi.Broken(sla, func(rule string) (float64, bool) { return Measure(s, rule) })...)
	// Reading speed: 1 / TPOT p95; when no request finished inside the step
	// (outputs longer than the step), 1 / ITL p95 of the partial streams.
	tp := s.Latency.TPOT.Percentiles.P95
	if s.Latency.TPOT.Count == 0 && s.Latency.ITL.Count > 0 {
		tp = s.Latency.ITL.Percentiles.P95
	}
	if tp > 0 {
		k.ReadingSpeedTokensPerSecond = 1 / tp
		r := sla.ReadingSpeed
		g.ReadingSpeed = GradeHigher(k.ReadingSpeedTokensPerSecond, r.Excellent, r.Acceptable, r.Degraded)
	}
	s.KPIs, s.Grades = k, g
	s.Rules = rules
	s.Broken = len(rules) > 0
	s.Rule = ""
	if s.Broken {
		s.Rule = rules[0]
	}
	s.AtSLA = !s.Broken && s.Requests.Started > 0 && atLeastAcceptable(g.TTFT) && atLeastAcceptable(g.ReadingSpeed) &&
		atLeastAcceptable(g.KVCache) && atLeastAcceptable(g.Success)
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
