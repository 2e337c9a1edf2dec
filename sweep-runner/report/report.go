package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/rhoai-demo/step07/api/kpi"
	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/analysis"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// Files is where the reports of a run go: its run directory
// (*results.Dir), which writes each file atomically. The reports only
// render; where and how files are written is the results package's.
type Files interface {
	WriteFile(rel string, data []byte) error
	WriteJSON(rel string, v any) error
}

// RunDir is a run directory as Rebuild sees it: what it holds and where
// its reports go (*results.Dir).
type RunDir interface {
	Load() (*v1alpha1.SweepPlan, results.Run, []results.Step, error)
	Files
}

// Rebuild recomputes and writes every report of a run directory.
func Rebuild(d RunDir) (*results.Summary, error) {
	return RebuildOpts(d, Options{})
}

// RebuildOpts is Rebuild with options.
func RebuildOpts(d RunDir, opts Options) (*results.Summary, error) {
	plan, run, steps, err := d.Load()
	if err != nil {
		return nil, err
	}
	sum := analysis.Summarize(plan, run, steps)
	return &sum, WriteAllOpts(d, &sum, opts)
}

// ReportHTML is the self-contained HTML report of a run directory.
const ReportHTML = "report.html"

// WriteAllOpts writes every report of a run directory to w: summary.json,
// summary.csv, the PNG charts (unless opts.NoPNG), report.html and
// report.md, in that order.
func WriteAllOpts(w Files, sum *results.Summary, opts Options) error {
	if err := w.WriteJSON(results.SummaryJSON, sum); err != nil {
		return err
	}
	if err := w.WriteFile(results.SummaryCSV, CSV(sum)); err != nil {
		return err
	}
	svgs := map[string][]byte{}
	var pngs []string
	for _, c := range Charts(sum) {
		svg, err := c.Chart.SVG()
		if err != nil {
			continue // a chart without drawable data is left out
		}
		svgs[c.File] = svg
		if opts.NoPNG {
			continue
		}
		png, err := c.Chart.PNG()
		if err != nil {
			return fmt.Errorf("chart %s: %w", c.File, err)
		}
		if err := w.WriteFile(c.File, png); err != nil {
			return err
		}
		pngs = append(pngs, c.File)
	}
	html, err := HTML(sum, svgs, opts)
	if err != nil {
		return fmt.Errorf("report.html: %w", err)
	}
	if err := w.WriteFile(ReportHTML, html); err != nil {
		return err
	}
	md, err := MarkdownOpts(sum, opts, pngs)
	if err != nil {
		return err
	}
	return w.WriteFile(results.ReportMD, []byte(md))
}

// csvHead and csvTail are summary.csv's columns before and after the
// grades, one grade_<key> column per KPI the run's SLA grades (CSVHeader).
var (
	csvHead = []string{
		"run_id", "target", "model", "gpus", "precision", "scenario", "concurrency", "phase",
		"started", "successful", "errored", "incomplete", "success_rate", "concurrency_achieved",
		"ttft_p50_s", "ttft_p95_s", "ttft_p99_s", "tpot_p50_s", "tpot_p95_s", "itl_p50_s", "itl_p95_s", "e2e_p50_s", "e2e_p95_s",
		"requests_per_s", "output_tok_per_s", "total_tok_per_s", "output_tok_per_s_per_gpu", "goodput_req_per_s",
		"waiting_mean", "waiting_max", "waiting_fraction", "running_mean", "kv_cache_max", "preemptions", "server_ttft_p95_s",
	}
	csvTail = []string{"at_sla", "broken", "rule", "power_w", "output_tok_per_joule"}
)

// CSVHeader are summary.csv's columns for a run graded by sla.
func CSVHeader(sla v1alpha1.SLA) []string {
	out := append([]string(nil), csvHead...)
	for _, x := range kpi.Graded(sla) {
		out = append(out, "grade_"+x.Key)
	}
	return append(out, csvTail...)
}

// grades are a step's grades of the KPIs sla grades, in the table's order.
func grades(s results.Step, sla v1alpha1.SLA) []string {
	var out []string
	for _, x := range kpi.Graded(sla) {
		out = append(out, s.Grades.Of(x.KPI))
	}
	return out
}

// GradesHead is the Markdown tables' grades column head
// ("grades TTFT/read/KV/succ").
func GradesHead(sla v1alpha1.SLA) string {
	var short []string
	for _, x := range kpi.Graded(sla) {
		short = append(short, x.Short)
	}
	return "grades " + strings.Join(short, "/")
}

// serverCells are a step's waiting and KV cache cells in report.md, from
// its /metrics samples (the waiting share with its interval).
func serverCells(s results.Step) (wait, kv string) {
	wait, kv = UnknownQueue, "-"
	if s.Server == nil || s.Server.Samples == 0 {
		return wait, kv
	}
	wait = fmt.Sprintf("%.1f (%.0f %%)", s.Server.Waiting.Mean, s.Server.WaitingFraction*100)
	if c := s.Confidence; c != nil && c.WaitingFraction != nil {
		wait = fmt.Sprintf("%.1f (%.0f %% [%.0f, %.0f])", s.Server.Waiting.Mean, s.Server.WaitingFraction*100, c.WaitingFraction.Low*100, c.WaitingFraction.High*100)
	}
	if s.Server.Generation != "" {
		kv = fmt.Sprintf("%.0f %%", s.Server.KVCacheUsage.Max*100)
	}
	return wait, kv
}

// SLAThresholds are the graded KPIs' thresholds in words, from the table.
func SLAThresholds(sla v1alpha1.SLA) string {
	var out []string
	for _, x := range kpi.Graded(sla) {
		out = append(out, x.States())
	}
	return strings.Join(out, "; ")
}

// BreakingRules are the breaking rules at the SLA's thresholds in words
// ("TTFT p95 > 2s, ..., or success < 95 %").
func BreakingRules(sla v1alpha1.SLA) string {
	var out []string
	for _, r := range kpi.Rules {
		out = append(out, r.Says(r.Threshold(sla)))
	}
	if n := len(out); n > 1 {
		return strings.Join(out[:n-1], ", ") + ", or " + out[n-1]
	}
	return strings.Join(out, "")
}

// GradesCell is a step's grades in one Markdown cell.
func GradesCell(s results.Step, sla v1alpha1.SLA) string { return strings.Join(grades(s, sla), "/") }

// CSV renders one row per step.
func CSV(sum *results.Summary) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	pop, open := hasPopulation(sum), hasOpenLoop(sum)
	w.Write(append(csvHeader(sum.SLA, pop), rateCSVHead(open)...))
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	for _, r := range sum.Results {
		for _, s := range r.Steps {
			srv := results.Server{}
			if s.Server != nil {
				srv = *s.Server
			}
			power, tpj := "", ""
			if s.PowerWatts != nil {
				power, tpj = f(*s.PowerWatts), f(TokensPerJoule(s))
			}
			w.Write(append([]string{
				sum.RunID, s.Target, s.Model, strconv.Itoa(s.GPUs), s.Precision, s.Scenario, strconv.Itoa(s.Concurrency), s.Phase,
				strconv.Itoa(s.Requests.Started), strconv.Itoa(s.Requests.Successful), strconv.Itoa(s.Requests.Errored), strconv.Itoa(s.Requests.Incomplete),
				f(s.SuccessRate), f(s.ConcurrencyAchieved),
				f(s.Latency.TTFT.Percentiles.P50), f(s.Latency.TTFT.Percentiles.P95), f(s.Latency.TTFT.Percentiles.P99),
				f(s.Latency.TPOT.Percentiles.P50), f(s.Latency.TPOT.Percentiles.P95),
				f(s.Latency.ITL.Percentiles.P50), f(s.Latency.ITL.Percentiles.P95),
				f(s.Latency.E2E.Percentiles.P50), f(s.Latency.E2E.Percentiles.P95),
				f(s.Throughput.RequestsPerSecond), f(s.Throughput.OutputTokensPerSecond), f(s.Throughput.TotalTokensPerSecond),
				f(s.Throughput.OutputTokensPerSecondPerGPU), f(s.Throughput.GoodputRequestsPerSecond),
				f(srv.Waiting.Mean), f(srv.Waiting.Max), f(srv.WaitingFraction), f(srv.Running.Mean), f(srv.KVCacheUsage.Max),
				f(srv.Preemptions), f(srv.TTFTP95Seconds),
			}, append(append(grades(s, sum.SLA),
				strconv.FormatBool(s.AtSLA), strconv.FormatBool(s.Broken), s.Rule,
				power, tpj,
			), append(popCSV(pop, s), rateCSV(open, s)...)...)...))
		}
	}
	w.Flush()
	return buf.Bytes()
}

// SizingTable is the answer in one Markdown table: per model and scenario,
// the breaking point, max users at SLA, users and output tok/s per GPU.
func SizingTable(sum *results.Summary) string {
	if onlyOpenLoop(sum) {
		return RateTable(sum)
	}
	var b strings.Builder
	b.WriteString("| model | GPUs | scenario | breaking point (rule) | predicted | max users at SLA | users/GPU | output tok/s at SLA | output tok/s/GPU | TTFT p95 at SLA | GPU-min |\n")
	b.WriteString("| --- | ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range sum.Results {
		if r.OpenLoop != nil {
			continue // RateTable
		}
		bp := breakingPoint(r)
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %.2f | %.0f | %.0f | %s | %s |\n",
			r.Target, r.GPUs, r.Scenario, bp, PredictionCell(r), UsersAtSLA(r), r.UsersPerGPUAtSLA,
			r.OutputTokensPerSecondAtSLA, r.OutputTokensPerSecondPerGPUAtSLA, ms(r.TTFTP95AtSLASeconds, r.MaxConcurrencyAtSLA > 0), CostCell(r))
	}
	return b.String() + RateTable(sum)
}

func ms(sec float64, ok bool) string {
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.0f ms", sec*1000)
}

// MarkdownOpts renders report.md: the sizing table, the capacity plan for
// opts' users, links to the PNG charts (paths relative to the run
// directory), the steps and the definitions.
func MarkdownOpts(sum *results.Summary, opts Options, pngs []string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "# Sweep %s\n\n", sum.RunID)
	fmt.Fprintf(&b, "Status: **%s**", sum.Status)
	if sum.Version != "" {
		fmt.Fprintf(&b, " · sweep-runner %s", sum.Version)
	}
	fmt.Fprintf(&b, " · started %s\n\n", sum.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC"))
	b.WriteString("## Sizing\n\n")
	b.WriteString(SizingTable(sum))
	if len(sum.Comparisons) > 0 {
		b.WriteString("\n| scenario | model | vs | users/GPU ratio | output tok/s/GPU ratio |\n| --- | --- | --- | ---: | ---: |\n")
		for _, c := range sum.Comparisons {
			fmt.Fprintf(&b, "| %s | %s | %s | %.2f× | %.2f× |\n", c.Scenario, c.Target, c.Baseline, c.UsersPerGPURatio, c.OutputTokensPerGPURatio)
		}
	}
	if note := CostNote(sum); note != "" {
		fmt.Fprintf(&b, "\n%s The breaking point rests on two certified steps (clear at 95 %%: the one at it and the one below); the other steps explored, stopping once their verdict was plain. *predicted*: where the server's gauges said it would saturate (the search aimed there).\n", note)
	}
	var unsure []string
	for _, r := range sum.Results {
		if len(r.UncertainSteps) > 0 || len(r.NotSteady) > 0 {
			line := fmt.Sprintf("- %s / %s:", r.Target, r.Scenario)
			if len(r.UncertainSteps) > 0 {
				line += fmt.Sprintf(" verdict not clear at 95 %% when the re-measure budget ran out at concurrency %s;", ints(r.UncertainSteps))
			}
			if len(r.NotSteady) > 0 {
				line += fmt.Sprintf(" steady state not reached at concurrency %s (see the steps);", ints(r.NotSteady))
			}
			unsure = append(unsure, strings.TrimSuffix(line, ";"))
		}
	}
	if len(unsure) > 0 {
		b.WriteString("\nA breaking point marked *uncertain* rests on a step, or the step below it, whose verdict was not clear at 95 %:\n\n")
		b.WriteString(strings.Join(unsure, "\n") + "\n")
	}
	if notes := ClusterNotes(sum); len(notes) > 0 {
		b.WriteString("\nWhat the cluster did to the run (docs/measuring.md, \"On a shared cluster\"):\n\n")
		b.WriteString(strings.Join(notes, "\n") + "\n")
	}
	if sum.TimeScale != 0 {
		fmt.Fprintf(&b, "\n**Time-scaled simulator**: the targets ran at time scale %g (vllm-sim --time-scale), so every latency is %g times and every rate %g times what the modelled GPU would show; the SLA's time thresholds below are scaled by the same factor (reading speeds by its inverse). Limits of the KV cache and the batch do not move with the scale; the client's round trip does not scale, so where many short requests make arrivals wait for the iteration in progress the queue rule trips a little later than in real time.\n", sum.TimeScale, sum.TimeScale, 1/sum.TimeScale)
	}
	fmt.Fprintf(&b, "\nSLA thresholds (excellent / acceptable / degraded): %s. A step breaks when %s.\n", SLAThresholds(sum.SLA), BreakingRules(sum.SLA))
	if note := unknownServerNote(sum); note != "" {
		fmt.Fprintf(&b, "\n%s\n", note)
	}
	lines, err := Plan(sum, opts.users(), opts.Costs)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "\n## Capacity plan for %d concurrent users\n\n", opts.users())
	b.WriteString(PlanTable(opts.users(), lines))
	peak, err := peakOf(sum, opts)
	if err != nil {
		return "", err
	}
	if peak != nil {
		fmt.Fprintf(&b, "\n### Planned for %s\n\n", peak.Heading)
		b.WriteString(PeakTable(peak.demand, peak.lines))
	}
	if len(pngs) > 0 {
		b.WriteString("\n## Charts\n\nThe same charts, inline, in [report.html](report.html).\n\n")
		for _, p := range pngs {
			fmt.Fprintf(&b, "- [%s](%s)\n", p, p)
		}
	}
	b.WriteString("\n## Steps\n")
	for _, r := range sum.Results {
		if len(r.Steps) > 0 {
			stepsMarkdown(&b, r, sum.SLA)
		}
	}
	b.WriteString("\n## Definitions\n\n")
	keys := make([]string, 0, len(sum.Definitions))
	for k := range sum.Definitions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "- **%s**: %s\n", k, sum.Definitions[k])
	}
	return b.String(), nil
}

// StepVerdict is a step's verdict in words, with its confidence and
// whether it measured steady state.
func StepVerdict(s results.Step) string {
	v := "at SLA"
	if s.Broken {
		v = "BROKEN: " + strings.Join(s.Rules, ", ")
	} else if !s.AtSLA {
		v = "below SLA"
	}
	if c := s.Confidence; c != nil {
		if c.Clear {
			v += " (clear)"
		} else {
			v += " (uncertain: " + strings.Join(c.Uncertain, ", ") + ")"
		}
	}
	if s.Unsteady() {
		v += "; not steady: " + strings.Join(s.Steady.Reasons, "; ")
	}
	return v
}

// TTFTWithCI formats TTFT p95 with its distribution-free 95 % interval.
func TTFTWithCI(s results.Step) string {
	v := msv(s.Latency.TTFT.Percentiles.P95)
	if c := s.Confidence; c != nil && s.Latency.TTFT.Count > 0 {
		hi := "unbounded"
		if !c.TTFTP95.Unbounded {
			hi = msv(c.TTFTP95.High)
		}
		v += fmt.Sprintf(" [%s, %s]", msv(c.TTFTP95.Low), hi)
	}
	return v
}

func ints(v []int) string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = strconv.Itoa(x)
	}
	return strings.Join(out, ", ")
}

func msv(sec float64) string {
	if sec >= 10 {
		return fmt.Sprintf("%.1f s", sec)
	}
	return fmt.Sprintf("%.0f ms", sec*1000)
}
