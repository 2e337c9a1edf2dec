package report

import (
	"fmt"
	"path"
	"regexp"

	"github.com/rhoai-demo/step07/sweep-runner/charts"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// ChartsDir is the folder, inside a run directory, holding the PNG charts.
const ChartsDir = "charts"

// NamedChart is one chart of the report and the PNG file it is saved as.
type NamedChart struct {
	Scenario string
	// File is the PNG's path relative to the run directory.
	File  string
	Chart charts.Chart
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// Charts are the report's charts, per scenario in the summary's order: TTFT
// p95 with the SLA lines, output tok/s, output tok/s per GPU, the queue, and
// KV cache with the share of samples that had waiting requests; each with
// every model's breaking point marked. Charts without data are left out.
func Charts(sum *results.Summary) []NamedChart {
	var scenarios []string
	by := map[string][]results.Result{}
	for _, r := range sum.Results {
		if len(r.Steps) == 0 {
			continue
		}
		if _, ok := by[r.Scenario]; !ok {
			scenarios = append(scenarios, r.Scenario)
		}
		by[r.Scenario] = append(by[r.Scenario], r)
	}
	sla := sum.SLA
	var out []NamedChart
	for _, sc := range scenarios {
		rs := by[sc]
		file := func(kind string) string {
			return path.Join(ChartsDir, unsafeName.ReplaceAllString(sc, "_")+"-"+kind+".png")
		}
		type kpi struct {
			kind, title, ylabel string
			logY                bool
			series              func(r results.Result) []charts.Series
			hlines              []charts.HLine
		}
		one := func(name string, f func(s results.Step) (float64, bool)) func(r results.Result) []charts.Series {
			return func(r results.Result) []charts.Series {
				return []charts.Series{seriesOf(nameOr(r, name), r.Steps, f)}
			}
		}
		kpis := []kpi{
			{kind: "ttft", title: "TTFT p95 vs concurrency · scenario " + sc, ylabel: "TTFT p95 (s, log)", logY: true,
				series: one("", func(s results.Step) (float64, bool) {
					return s.Latency.TTFT.Percentiles.P95, s.Latency.TTFT.Count > 0
				}),
				hlines: []charts.HLine{
					{Y: sla.TTFT.Excellent.Seconds(), Label: "excellent " + sla.TTFT.Excellent.Duration.String(), Color: charts.Green},
					{Y: sla.TTFT.Acceptable.Seconds(), Label: "acceptable " + sla.TTFT.Acceptable.Duration.String(), Color: charts.Amber},
					{Y: sla.TTFT.Degraded.Seconds(), Label: "degraded " + sla.TTFT.Degraded.Duration.String(), Color: charts.Red},
				}},
			{kind: "throughput", title: "Output tokens per second vs concurrency · scenario " + sc, ylabel: "output tok/s",
				series: one("", func(s results.Step) (float64, bool) {
					return s.Throughput.OutputTokensPerSecond, s.Requests.Started > 0
				})},
			{kind: "per-gpu", title: "Output tokens per second per GPU vs concurrency · scenario " + sc, ylabel: "output tok/s per GPU",
				series: one("", func(s results.Step) (float64, bool) {
					return s.Throughput.OutputTokensPerSecondPerGPU, s.Requests.Started > 0
				})},
			{kind: "queue", title: "Queue: mean waiting requests vs concurrency · scenario " + sc, ylabel: "waiting requests (mean)",
				series: one("", func(s results.Step) (float64, bool) {
					return serverValue(s, func(v *results.Server) float64 { return v.Waiting.Mean })
				})},
			{kind: "kv-cache", title: "KV cache and queueing vs concurrency · scenario " + sc, ylabel: "percent",
				series: func(r results.Result) []charts.Series {
					return []charts.Series{
						seriesOf(r.Target+" KV cache max", r.Steps, func(s results.Step) (float64, bool) {
							v, ok := serverValue(s, func(v *results.Server) float64 { return v.KVCacheUsage.Max * 100 })
							return v, ok && s.Server.Generation != ""
						}),
						seriesOf(r.Target+" samples with waiting > 0", r.Steps, func(s results.Step) (float64, bool) {
							return serverValue(s, func(v *results.Server) float64 { return v.WaitingFraction * 100 })
						}),
					}
				},
				hlines: []charts.HLine{{Y: sla.KVCache.Acceptable, Label: fmt.Sprintf("KV cache acceptable %g %%", sla.KVCache.Acceptable), Color: charts.Amber}}},
		}
		for _, k := range kpis {
			c := charts.Chart{Title: k.title, XLabel: "concurrent users (requests in flight)", YLabel: k.ylabel, LogY: k.logY, HLines: k.hlines}
			rateAxis(&c, rs)
			has := false
			for _, r := range rs {
				ss := k.series(r)
				for _, s := range ss {
					if len(s.Points) > 0 {
						has = true
					}
				}
				c.Series = append(c.Series, ss...)
				if br := breakingRateMark(r, ss); br != nil {
					c.Marks = append(c.Marks, *br)
				} else if bp := r.BreakingPoint; bp != nil && len(ss) > 0 {
					for _, p := range ss[0].Points {
						if int(p.X) == bp.Concurrency {
							c.Marks = append(c.Marks, charts.Mark{X: p.X, Y: p.Y, Label: fmt.Sprintf("%s breaks at %d (%s)", r.Target, bp.Concurrency, bp.Rule)})
						}
					}
				}
			}
			if has {
				out = append(out, NamedChart{Scenario: sc, File: file(k.kind), Chart: c})
			}
		}
	}
	return out
}

func nameOr(r results.Result, name string) string {
	if name != "" {
		return name
	}
	return r.Target
}

func serverValue(s results.Step, f func(*results.Server) float64) (float64, bool) {
	if s.Server == nil || s.Server.Samples == 0 {
		return 0, false
	}
	return f(s.Server), true
}

func seriesOf(name string, steps []results.Step, f func(results.Step) (float64, bool)) charts.Series {
	se := charts.Series{Name: name}
	for _, s := range steps {
		if v, ok := f(s); ok {
			x := float64(s.Concurrency)
			if s.OpenLoop != nil {
				x = s.OpenLoop.OfferedRate // open loop: by rate
			}
			se.Points = append(se.Points, charts.Point{X: x, Y: v})
		}
	}
	return se
}
