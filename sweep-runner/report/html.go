package report

import (
	"bytes"
	"cmp"
	_ "embed"
	"fmt"
	"html/template"
	"sort"
	"strings"
	"time"

	"github.com/rhoai-demo/step07/api/kpi"
	"github.com/rhoai-demo/step07/api/v1alpha1"
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
	// Peak, when set, adds the plan for the peak with its spare replicas
	// under the capacity plan, whose users are its mean when it gives none;
	// nil leaves the capacity plan as it was.
	Peak *planner.Demand
}

func (o Options) users() int {
	if o.PlanUsers > 0 {
		return o.PlanUsers
	}
	return DefaultPlanUsers
}

// peak is the resolved demand of the plan for the peak (nil: none).
func (o Options) peak() (*planner.Demand, error) {
	if o.Peak == nil {
		return nil, nil
	}
	d := *o.Peak
	if d.Users == 0 {
		d.Users = o.users()
	}
	d, err := d.Resolve()
	if err != nil {
		return nil, fmt.Errorf("capacity plan for the peak: %w", err)
	}
	return &d, nil
}

// peakSection is the plan for the peak of opts (nil: none), as both
// reports print it.
type peakSection struct {
	Heading, ReplicasHead string
	Rows                  []PeakRow
	Notes                 []string
	Assumptions           string
	lines                 []planner.PeakLine
	demand                planner.Demand
}

func peakOf(sum *results.Summary, opts Options) (*peakSection, error) {
	d, err := opts.peak()
	if d == nil || err != nil {
		return nil, err
	}
	lines, err := PeakPlan(sum, *d, opts.Costs)
	if err != nil {
		return nil, err
	}
	rows := PeakRows(lines)
	return &peakSection{Heading: PeakHeading(*d), ReplicasHead: PeakReplicasHead(d.Spare), Rows: rows,
		Notes: peakNotes(lines, rows), Assumptions: planner.PeakAssumptionsFor(lines), lines: lines, demand: *d}, nil
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
	Concurrency           int
	Phase, Held, Requests string
	// Arrivals: the cells under the result's ArrivalHeads (steps.go).
	Arrivals []string
	// Grades: a cell per KPI the run's SLA grades (kpi.Graded).
	Grades                    []gradeCell
	TTFTp50, TPOTp95, ITLp95  string
	TokS, TokSGPU, Goodput    string
	Queue, Power, TokPerJoule string
	Verdict, VerdictClass     string
	// Load: the users or the offered rate (LoadCell); Notes: what the row
	// cannot hold (stepNotes), under the verdict.
	Load  string
	Notes []string
}

// htmlResult is a result's steps table, whatever their arrivals (steps.go).
type htmlResult struct {
	Title, Note, LoadHead string
	ArrivalHeads          []string
	Steps                 []htmlStep
}

type htmlSizing struct {
	Target, Model, Precision, Scenario, Shape, BreakingPoint, Users, UsersPerGPU, TokS, TokSGPU, TTFT string
	GPUs                                                                                              int
	Cost, Predicted, GPUMinutes                                                                       string
}

type htmlData struct {
	Sum *results.Summary
	// GradeTitles head the steps tables' grade columns.
	GradeTitles            []string
	Started, Ended, Window string
	CostNote               string
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
	// Rates: the open-loop results' answers (openloop.go).
	Rates       []rateRow
	LatencyNote string
	// Peak: the plan for the peak, nil when none was asked for.
	Peak *peakSection
}

type slaRow struct{ KPI, Excellent, Acceptable, Degraded string }

var tmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"ratio": func(v float64) string { return fmt.Sprintf("%.2f×", v) },
}).Parse(htmlTemplate))

// htmlTemplate is report.html's page; html/template escapes every value.
//
//go:embed report.html.tmpl
var htmlTemplate string

// HTML renders report.html: self-contained (inline CSS and SVG, no scripts,
// fonts or requests), the charts drawn from charts (rendered by the caller so
// the PNG files and the page show the same figures).
func HTML(sum *results.Summary, svgs map[string][]byte, opts Options) ([]byte, error) {
	d := htmlData{Sum: sum, Started: stamp(sum.StartedAt), Ended: "-", Users: opts.users(), Assumptions: ""}
	for _, x := range kpi.Graded(sum.SLA) {
		d.GradeTitles = append(d.GradeTitles, x.Title)
	}
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
		if r.OpenLoop != nil {
			d.Rates, d.LatencyNote = append(d.Rates, rateRowOf(r)), LatencyFromSchedule
			continue
		}
		cost := "-"
		if r.GPUHourCost > 0 {
			cost = fmt.Sprintf("%.2f", r.GPUHourCost)
		}
		row := htmlSizing{Target: r.Target, Model: r.Model, Precision: r.Precision, Scenario: r.Scenario, GPUs: r.GPUs, Cost: cost,
			Shape: fmt.Sprintf("%d in / %d out", r.InputTokens, r.OutputTokens), BreakingPoint: breakingPoint(r),
			Users: UsersAtSLA(r), UsersPerGPU: fmt.Sprintf("%.2f", r.UsersPerGPUAtSLA),
			TokS: fmt.Sprintf("%.0f", r.OutputTokensPerSecondAtSLA), TokSGPU: fmt.Sprintf("%.0f", r.OutputTokensPerSecondPerGPUAtSLA),
			TTFT: ms(r.TTFTP95AtSLASeconds, r.MaxConcurrencyAtSLA > 0), Predicted: PredictionCell(r), GPUMinutes: CostCell(r)}
		d.Sizing = append(d.Sizing, row)
	}
	d.Comparisons = sum.Comparisons
	d.CostNote = CostNote(sum)
	for _, x := range kpi.Graded(sum.SLA) {
		// "TTFT p95", "reading speed (1/TPOT p95, tok/s)", "success (%)".
		name := cmp.Or(x.Describe, x.Title)
		switch {
		case x.Unit == "s":
		case strings.HasSuffix(name, ")"):
			name = strings.TrimSuffix(name, ")") + ", " + x.Unit + ")"
		default:
			name += " (" + x.Unit + ")"
		}
		t := x.Texts()
		d.SLA = append(d.SLA, slaRow{name, t[0], t[1], t[2]})
	}
	d.QueueRule = "A step breaks when " + BreakingRules(sum.SLA) + "."
	if note := unknownServerNote(sum); note != "" {
		d.QueueRule += " " + note
	}
	lines, err := Plan(sum, d.Users, opts.Costs)
	if err != nil {
		return nil, err
	}
	d.Plan = PlanRows(lines)
	d.Assumptions = planner.AssumptionsFor(lines)
	if d.Peak, err = peakOf(sum, opts); err != nil {
		return nil, err
	}
	for _, r := range sum.Results {
		if len(r.Steps) == 0 {
			continue
		}
		hr := htmlResult{Title: stepsTitle(r), Note: resultNote(r), LoadHead: loadHead(r), ArrivalHeads: arrivalHeads(r)}
		for _, s := range r.Steps {
			h := htmlStepOf(s, sum.SLA)
			h.Arrivals = arrivalCells(r, s)
			hr.Steps = append(hr.Steps, h)
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

func htmlStepOf(s results.Step, sla v1alpha1.SLA) htmlStep {
	h := htmlStep{Concurrency: s.Concurrency, Phase: StepRole(s), Held: HeldCell(s), Load: LoadCell(s), Notes: stepNotes(s),
		Requests: fmt.Sprintf("%d/%d/%d", s.Requests.Successful, s.Requests.Errored, s.Requests.Incomplete),
		TTFTp50:  msv(s.Latency.TTFT.Percentiles.P50), TPOTp95: msv(s.Latency.TPOT.Percentiles.P95), ITLp95: msv(s.Latency.ITL.Percentiles.P95),
		TokS: fmt.Sprintf("%.0f", s.Throughput.OutputTokensPerSecond), TokSGPU: fmt.Sprintf("%.0f", s.Throughput.OutputTokensPerSecondPerGPU),
		Goodput: fmt.Sprintf("%.2f", s.Throughput.GoodputRequestsPerSecond), Queue: UnknownQueue, Power: "-", TokPerJoule: "-",
	}
	for _, x := range kpi.Graded(sla) {
		h.Grades = append(h.Grades, gradeCell{KPICell(s, x.KPI), s.Grades.Of(x.KPI)})
	}
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

// KPICell is a step's value of a KPI as the reports' cells write it: TTFT
// p95 with its 95 % interval, a time in ms (s from 10 s), else the KPI's
// Format; "-" when the step did not measure it.
func KPICell(s results.Step, x kpi.KPI) string {
	v, ok := s.KPIs.Get(x)
	switch {
	case !ok:
		return "-"
	case x.Key == kpi.KeyTTFT:
		return TTFTWithCI(s)
	case x.Format == "":
		return msv(v)
	}
	return fmt.Sprintf(x.Format, v)
}
