package report

import (
	"bytes"
	"fmt"
	"html/template"
	"sort"
	"strings"
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/planner"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// Options tune the reports.
type Options struct {
	// PlanUsers sizes the report's capacity plan (default DefaultPlanUsers).
	PlanUsers int
	// Costs override GPU-hour prices by target or model name.
	Costs map[string]float64
	// NoPNG skips the PNG charts (the per-step refresh during a run; the
	// final reports write them).
	NoPNG bool
}

func (o Options) users() int {
	if o.PlanUsers > 0 {
		return o.PlanUsers
	}
	return DefaultPlanUsers
}

type htmlChart struct {
	Title, File string
	SVG         template.HTML
}

type htmlScenario struct {
	Name   string
	Charts []htmlChart
}

type gradeCell struct {
	Text, Grade string
}

type htmlStep struct {
	Concurrency                  int
	Phase, Requests              string
	TTFT, Reading, KV, Success   gradeCell
	TTFTp50, TPOTp95, ITLp95     string
	TokS, TokSGPU, Goodput       string
	Queue, Power, TokPerJoule    string
	Verdict, VerdictClass, Error string
}

type htmlResult struct {
	Title string
	Steps []htmlStep
}

type htmlSizing struct {
	Target, Model, Precision, Scenario, Shape, BreakingPoint, Users, UsersPerGPU, TokS, TokSGPU, TTFT string
	GPUs                                                                                              int
	Cost                                                                                              string
}

type htmlData struct {
	Sum                    *results.Summary
	Started, Ended, Window string
	Sizing                 []htmlSizing
	Comparisons            []results.Comparison
	SLA                    []slaRow
	QueueRule              string
	Users                  int
	Plan                   []PlanRow
	Assumptions            string
	Results                []htmlResult
	Scenarios              []htmlScenario
	Definitions            [][2]string
	HasPower               bool
}

type slaRow struct{ KPI, Excellent, Acceptable, Degraded string }

var tmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"ratio": func(v float64) string { return fmt.Sprintf("%.2f×", v) },
}).Parse(htmlTemplate))

// HTML renders report.html: self-contained (inline CSS and SVG, no scripts,
// fonts or requests), the charts drawn from charts (rendered by the caller so
// the PNG files and the page show the same figures).
func HTML(sum *results.Summary, svgs map[string][]byte, opts Options) ([]byte, error) {
	d := htmlData{Sum: sum, Started: stamp(sum.StartedAt), Ended: "-", Users: opts.users(), Assumptions: ""}
	if sum.EndedAt != nil {
		d.Ended = stamp(*sum.EndedAt)
	}
	for _, r := range sum.Results {
		for _, s := range r.Steps {
			d.Window = fmt.Sprintf("%.0f s measurement window after %.0f s warmup per step", s.Window.DurationSeconds, s.Window.WarmupSeconds)
			if s.PowerWatts != nil {
				d.HasPower = true
			}
		}
	}
	for _, r := range sum.Results {
		cost := "-"
		if r.GPUHourCost > 0 {
			cost = fmt.Sprintf("%.2f", r.GPUHourCost)
		}
		row := htmlSizing{Target: r.Target, Model: r.Model, Precision: r.Precision, Scenario: r.Scenario, GPUs: r.GPUs, Cost: cost,
			Shape: fmt.Sprintf("%d in / %d out", r.InputTokens, r.OutputTokens), BreakingPoint: breakingPoint(r),
			Users: fmt.Sprint(r.MaxConcurrencyAtSLA), UsersPerGPU: fmt.Sprintf("%.2f", r.UsersPerGPUAtSLA),
			TokS: fmt.Sprintf("%.0f", r.OutputTokensPerSecondAtSLA), TokSGPU: fmt.Sprintf("%.0f", r.OutputTokensPerSecondPerGPUAtSLA),
			TTFT: ms(r.TTFTP95AtSLASeconds, r.MaxConcurrencyAtSLA > 0)}
		d.Sizing = append(d.Sizing, row)
	}
	d.Comparisons = sum.Comparisons
	sla := sum.SLA
	d.SLA = []slaRow{
		{"TTFT p95", sla.TTFT.Excellent.Duration.String(), sla.TTFT.Acceptable.Duration.String(), sla.TTFT.Degraded.Duration.String()},
		{"reading speed (1/TPOT p95, tok/s)", fmt.Sprint(sla.ReadingSpeed.Excellent), fmt.Sprint(sla.ReadingSpeed.Acceptable), fmt.Sprint(sla.ReadingSpeed.Degraded)},
		{"KV cache max (%)", fmt.Sprint(sla.KVCache.Excellent), fmt.Sprint(sla.KVCache.Acceptable), fmt.Sprint(sla.KVCache.Degraded)},
		{"success (%)", fmt.Sprint(sla.Success.Excellent), fmt.Sprint(sla.Success.Acceptable), fmt.Sprint(sla.Success.Degraded)},
	}
	d.QueueRule = fmt.Sprintf("A step breaks when TTFT p95 > %s, requests wait in at least %.0f %% of the /metrics samples, or success < %g %%.",
		sla.TTFT.Degraded.Duration, sla.QueueFraction*100, sla.Success.Degraded)
	lines, err := Plan(sum, d.Users, opts.Costs)
	if err != nil {
		return nil, err
	}
	d.Plan = PlanRows(lines)
	d.Assumptions = planner.Assumptions
	for _, r := range sum.Results {
		if len(r.Steps) == 0 {
			continue
		}
		hr := htmlResult{Title: fmt.Sprintf("%s · scenario %s (%d in / %d out tokens)", r.Target, r.Scenario, r.InputTokens, r.OutputTokens)}
		for _, s := range r.Steps {
			hr.Steps = append(hr.Steps, htmlStepOf(s))
		}
		d.Results = append(d.Results, hr)
	}
	var cur *htmlScenario
	for _, c := range Charts(sum) {
		svg, ok := svgs[c.File]
		if !ok {
			continue
		}
		if cur == nil || cur.Name != c.Scenario {
			d.Scenarios = append(d.Scenarios, htmlScenario{Name: c.Scenario})
			cur = &d.Scenarios[len(d.Scenarios)-1]
		}
		cur.Charts = append(cur.Charts, htmlChart{Title: c.Chart.Title, File: c.File, SVG: template.HTML(inlineSVG(svg))})
	}
	keys := make([]string, 0, len(sum.Definitions))
	for k := range sum.Definitions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d.Definitions = append(d.Definitions, [2]string{k, sum.Definitions[k]})
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, &d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// breakingPoint is the breaking point as the reports print it: the
// concurrency and rule, "> N" when no tested step broke, and whether the
// answer is incomplete (interrupted) or only a bound (no bisection).
func breakingPoint(r results.Result) string {
	bp := "not reached"
	if r.BreakingPoint != nil {
		bp = fmt.Sprintf("%d (%s)", r.BreakingPoint.Concurrency, r.BreakingPoint.Rule)
	} else if r.MaxTestedConcurrency > 0 {
		bp = fmt.Sprintf("> %d", r.MaxTestedConcurrency)
	}
	if len(r.Steps) == 0 {
		bp = "not run"
	} else if !r.Complete {
		bp += " (incomplete)"
	} else if !r.Exact && r.BreakingPoint != nil {
		bp += " (bound)"
	}
	if r.Confidence == "uncertain" && len(r.Steps) > 0 {
		bp += " uncertain"
	}
	return bp
}

func htmlStepOf(s results.Step) htmlStep {
	h := htmlStep{Concurrency: s.Concurrency, Phase: s.Phase,
		Requests: fmt.Sprintf("%d/%d/%d", s.Requests.Successful, s.Requests.Errored, s.Requests.Incomplete),
		TTFTp50:  msv(s.Latency.TTFT.Percentiles.P50), TPOTp95: msv(s.Latency.TPOT.Percentiles.P95), ITLp95: msv(s.Latency.ITL.Percentiles.P95),
		TokS: fmt.Sprintf("%.0f", s.Throughput.OutputTokensPerSecond), TokSGPU: fmt.Sprintf("%.0f", s.Throughput.OutputTokensPerSecondPerGPU),
		Goodput: fmt.Sprintf("%.2f", s.Throughput.GoodputRequestsPerSecond), Queue: "-", Power: "-", TokPerJoule: "-",
	}
	k := s.KPIs
	h.TTFT = gradeCell{TTFTWithCI(s), s.Grades.TTFT}
	h.Reading = gradeCell{fmt.Sprintf("%.1f tok/s", k.ReadingSpeedTokensPerSecond), s.Grades.ReadingSpeed}
	h.KV = gradeCell{"-", s.Grades.KVCache}
	if k.KVCacheMaxPercent >= 0 {
		h.KV.Text = fmt.Sprintf("%.0f %%", k.KVCacheMaxPercent)
	}
	h.Success = gradeCell{fmt.Sprintf("%.1f %%", k.SuccessPercent), s.Grades.Success}
	if s.Server != nil && s.Server.Samples > 0 {
		h.Queue = fmt.Sprintf("%.1f (%.0f %%)", s.Server.Waiting.Mean, s.Server.WaitingFraction*100)
	}
	if s.PowerWatts != nil {
		h.Power = fmt.Sprintf("%.0f W", *s.PowerWatts)
		if tpj := TokensPerJoule(s); tpj > 0 {
			h.TokPerJoule = fmt.Sprintf("%.2f", tpj)
		}
	}
	h.Verdict, h.VerdictClass = StepVerdict(s), "excellent"
	if s.Broken {
		h.VerdictClass = "degraded"
	} else if !s.AtSLA {
		h.VerdictClass = "warning"
	}
	if len(s.Errors) > 0 {
		kinds := make([]string, 0, len(s.Errors))
		for k, v := range s.Errors {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, v))
		}
		sort.Strings(kinds)
		h.Error = "errors: " + strings.Join(kinds, ", ")
	}
	return h
}

// TokensPerJoule is the step's output tokens per second divided by the mean
// power of the target's GPUs (0 when power was not measured).
func TokensPerJoule(s results.Step) float64 {
	if s.PowerWatts == nil || *s.PowerWatts <= 0 {
		return 0
	}
	return s.Throughput.OutputTokensPerSecond / *s.PowerWatts
}

// inlineSVG drops the XML prolog and comments before the root element and
// makes the chart scale with the page.
func inlineSVG(b []byte) string {
	s := string(b)
	if i := strings.Index(s, "<svg"); i >= 0 {
		s = s[i:]
	}
	// width/height in points would fix the size; the viewBox keeps the ratio.
	if end := strings.Index(s, ">"); end > 0 {
		head := s[:end]
		for _, attr := range []string{"width", "height"} {
			if i := strings.Index(head, " "+attr+"=\""); i >= 0 {
				j := strings.Index(head[i+len(attr)+3:], "\"")
				head = head[:i] + head[i+len(attr)+3+j+1:]
			}
		}
		s = head + ` role="img"` + s[end:]
	}
	return s
}

const htmlTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sizing report · sweep {{.Sum.RunID}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Liberation Sans",Arial,sans-serif;margin:0;color:#1d2330;background:#f6f7f9;line-height:1.4}
main{max-width:1200px;margin:0 auto;padding:24px}
h1{font-size:1.6em;margin:0 0 4px}
h2{font-size:1.25em;margin:32px 0 8px;border-bottom:2px solid #d5d9e0;padding-bottom:4px}
h3{font-size:1.05em;margin:20px 0 6px}
.meta{color:#4a5263;margin:0 0 12px}
table{border-collapse:collapse;background:#fff;margin:6px 0 12px;font-size:.88em;box-shadow:0 1px 2px rgba(0,0,0,.08)}
th,td{border:1px solid #d5d9e0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#e9ecf1}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.excellent{background:#c8ecd9}
.acceptable{background:#e6f4c5}
.warning{background:#fde3b0}
.degraded{background:#f7c1c1}
.unknown{background:#eceff3;color:#5b6375}
.answer{font-weight:600}
.note{color:#4a5263;font-size:.88em}
.infeasible td{background:#f7c1c1}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:14px}
figure{background:#fff;margin:0;padding:8px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
figure svg{width:100%;height:auto;display:block}
figcaption{font-size:.85em;color:#4a5263}
dl dt{font-weight:600;margin-top:6px}
dl dd{margin:0 0 0 18px}
.legend span{display:inline-block;padding:1px 8px;margin-right:6px;border:1px solid #d5d9e0}
</style>
</head>
<body>
<main>
<h1>Sizing report · sweep {{.Sum.RunID}}</h1>
<p class="meta">Status <b>{{.Sum.Status}}</b>{{with .Sum.Version}} · sweep-runner {{.}}{{end}} · started {{.Started}} · ended {{.Ended}}{{with .Window}} · {{.}}{{end}}</p>

<h2 id="sizing">Sizing: how many concurrent users within the SLA</h2>
<table>
<tr><th>target</th><th>model</th><th>precision</th><th>GPUs</th><th>GPU-hour price</th><th>scenario</th><th>tokens</th><th>breaking point (rule)</th><th>max users at SLA</th><th>users/GPU</th><th>output tok/s at SLA</th><th>output tok/s/GPU</th><th>TTFT p95 at SLA</th></tr>
{{range .Sizing}}<tr><td>{{.Target}}</td><td>{{.Model}}</td><td>{{.Precision}}</td><td class="n">{{.GPUs}}</td><td class="n">{{.Cost}}</td><td>{{.Scenario}}</td><td>{{.Shape}}</td><td>{{.BreakingPoint}}</td><td class="n answer">{{.Users}}</td><td class="n answer">{{.UsersPerGPU}}</td><td class="n">{{.TokS}}</td><td class="n">{{.TokSGPU}}</td><td class="n">{{.TTFT}}</td></tr>
{{end}}</table>
{{if .Comparisons}}<table>
<tr><th>scenario</th><th>model</th><th>vs baseline</th><th>users/GPU ratio</th><th>output tok/s/GPU ratio</th><th>max users at SLA ratio</th></tr>
{{range .Comparisons}}<tr><td>{{.Scenario}}</td><td>{{.Target}}</td><td>{{.Baseline}}</td><td class="n answer">{{ratio .UsersPerGPURatio}}</td><td class="n">{{ratio .OutputTokensPerGPURatio}}</td><td class="n">{{ratio .MaxConcurrencyAtSLARatio}}</td></tr>
{{end}}</table>{{end}}

<h2 id="plan">Capacity plan for {{.Users}} concurrent users</h2>
<table>
<tr><th>model</th><th>scenario</th><th>GPUs/replica</th><th>max users at SLA/replica</th><th>replicas</th><th>GPUs</th><th>served output tok/s</th><th>cost/hour</th><th>cost per 1M output tokens</th><th>kWh per 1M output tokens</th></tr>
{{range .Plan}}{{if .Feasible}}<tr><td>{{.Model}}</td><td>{{.Scenario}}</td><td class="n">{{.GPUsPerReplica}}</td><td class="n">{{.UsersAtSLA}}</td><td class="n answer">{{.Replicas}}</td><td class="n answer">{{.GPUs}}</td><td class="n">{{.ServedTokPerSec}}</td><td class="n">{{.CostPerHour}}</td><td class="n">{{.CostPerMillion}}</td><td class="n">{{.KWhPerMillion}}</td></tr>
{{else}}<tr class="infeasible"><td>{{.Model}}</td><td>{{.Scenario}}</td><td class="n">{{.GPUsPerReplica}}</td><td class="n">0</td><td colspan="6">{{.Note}}</td></tr>
{{end}}{{end}}</table>
<p class="note">Costs need a GPU-hour price (the plan's gpuHourCost or <code>sweep-runner plan --gpu-hour-cost MODEL=PRICE</code>; "-" when unknown); energy needs measured GPU power ("-" when not measured). Other user counts: <code>sweep-runner plan --users N RUN_DIR</code>.</p>
<p class="note">Assumptions: {{.Assumptions}}</p>

<h2 id="sla">SLA grades per step</h2>
<table>
<tr><th>KPI</th><th class="excellent">excellent</th><th class="acceptable">acceptable</th><th class="warning">warning up to; degraded beyond</th></tr>
{{range .SLA}}<tr><td>{{.KPI}}</td><td class="n">{{.Excellent}}</td><td class="n">{{.Acceptable}}</td><td class="n">{{.Degraded}}</td></tr>
{{end}}</table>
<p class="note">{{.QueueRule}} <span class="legend"><span class="excellent">excellent</span><span class="acceptable">acceptable</span><span class="warning">warning</span><span class="degraded">degraded</span><span class="unknown">unknown</span></span></p>
{{range .Results}}<h3>{{.Title}}</h3>
<table>
<tr><th>conc.</th><th>phase</th><th>requests ok/err/inc</th><th>TTFT p50</th><th>TTFT p95</th><th>reading speed</th><th>KV cache max</th><th>success</th><th>TPOT p95</th><th>ITL p95</th><th>output tok/s</th><th>tok/s/GPU</th><th>goodput req/s</th><th>waiting mean (samples)</th>{{if $.HasPower}}<th>GPU power</th><th>tokens/J</th>{{end}}<th>verdict</th></tr>
{{range .Steps}}<tr><td class="n">{{.Concurrency}}</td><td>{{.Phase}}</td><td>{{.Requests}}</td><td class="n">{{.TTFTp50}}</td><td class="n {{.TTFT.Grade}}">{{.TTFT.Text}}</td><td class="n {{.Reading.Grade}}">{{.Reading.Text}}</td><td class="n {{.KV.Grade}}">{{.KV.Text}}</td><td class="n {{.Success.Grade}}">{{.Success.Text}}</td><td class="n">{{.TPOTp95}}</td><td class="n">{{.ITLp95}}</td><td class="n">{{.TokS}}</td><td class="n">{{.TokSGPU}}</td><td class="n">{{.Goodput}}</td><td class="n">{{.Queue}}</td>{{if $.HasPower}}<td class="n">{{.Power}}</td><td class="n">{{.TokPerJoule}}</td>{{end}}<td class="{{.VerdictClass}}">{{.Verdict}}{{with .Error}}<br><span class="note">{{.}}</span>{{end}}</td></tr>
{{end}}</table>
{{end}}
<h2 id="charts">Charts</h2>
{{range .Scenarios}}<h3>Scenario {{.Name}}</h3>
<div class="charts">
{{range .Charts}}<figure>{{.SVG}}<figcaption>{{.Title}} (also {{.File}}); red crosses mark breaking points.</figcaption></figure>
{{end}}</div>
{{else}}<p class="note">No step measured anything yet.</p>
{{end}}
<h2 id="definitions">Metric definitions</h2>
<dl>
{{range .Definitions}}<dt>{{index . 0}}</dt><dd>{{index . 1}}</dd>
{{end}}</dl>
<p class="note">This page is self-contained: no scripts, fonts or other files are fetched. Rebuild it offline with <code>sweep-runner report RUN_DIR</code>.</p>
</main>
</body>
</html>
`
