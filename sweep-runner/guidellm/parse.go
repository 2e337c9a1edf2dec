package guidellm

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// Report is a GuideLLM report as read by Parse.
type Report struct {
	File string
	// Version is the report schema version: 2 (GuideLLM 0.7+, config) or 1
	// (0.5-0.6 with metadata.version 1, and 0.4 without metadata; args).
	Version int
	// GuideLLMVersion is metadata.guidellm_version ("" without metadata).
	GuideLLMVersion string
	// Model is the served model name the benchmarks sent (config/args
	// model, else the first benchmark's backend model; "" when absent).
	Model string
	// TargetURL is the endpoint benchmarked (config/args target).
	TargetURL string
	// API is completions or chat when the report names its request type.
	API string
	// InputTokens and OutputTokens are the workload's nominal shape: from
	// a synthetic data spec (prompt_tokens=..,output_tokens=..) when the
	// report has one, else the median of the benchmarks' mean token counts
	// of successful requests.
	InputTokens, OutputTokens int
	// Spread holds the synthetic data spec's length distributions
	// (prompt_tokens_stdev, _min, _max and the same for output_tokens) in
	// the scenario's fields of the same meaning; zero when it has none.
	Spread v1alpha1.Scenario
	// Extension is the report's "sweep_runner" object (our own exports).
	Extension *RunExtension
	// Benchmarks in the report's order.
	Benchmarks []Benchmark
}

// Benchmark is one GuideLLM benchmark and the step it maps to.
type Benchmark struct {
	// Index in the report's benchmarks list.
	Index int
	// Strategy is config.strategy.type_; Streams, Rate and MaxConcurrency
	// its parameters (0 when the strategy has none).
	Strategy       string
	Streams        int
	Rate           float64
	MaxConcurrency int
	// Step holds every field GuideLLM's benchmark gives (see stepOf);
	// target, scenario, GPUs, server gauges and the verdict are filled by
	// Import.
	Step results.Step
	// Extension is the benchmark's "sweep_runner" object (our own exports).
	Extension *StepExtension
}

// Parse reads a GuideLLM report (JSON, or the same tree as YAML). file
// names it in errors. Every problem is reported in one *Error, each at its
// JSON path.
func Parse(data []byte, file string) (*Report, error) {
	top, err := decodeTop(data, file)
	if err != nil {
		return nil, err
	}
	c := &checker{file: file}
	val := func(key string) node {
		raw, ok := top[key]
		if !ok {
			return node{path: key, missing: true}
		}
		v, err := decodeValue(raw)
		if err != nil {
			c.add(key, "invalid: %s", oneLine(err.Error()))
			return node{path: key, bad: true}
		}
		return node{path: key, v: v, missing: v == nil}
	}
	rep := &Report{File: file}
	meta := val("metadata")
	var cfg node
	switch {
	case meta.has():
		ver, ok := c.optInt(c.get(meta, "version"))
		if !ok && c.get(meta, "version").missing {
			c.add("metadata.version", "missing")
		}
		rep.GuideLLMVersion, _ = c.optStr(c.get(meta, "guidellm_version"))
		switch {
		case !ok:
		case ver == 2:
			rep.Version, cfg = 2, val("config")
			if !cfg.has() {
				c.add("config", "missing (a version-2 report, GuideLLM 0.7+, holds its settings in config)")
			}
		case ver == 1:
			rep.Version, cfg = 1, val("args")
			if !cfg.has() {
				c.add("args", "missing (a version-1 report, GuideLLM 0.5-0.6, holds its settings in args)")
			}
		default:
			c.add("metadata.version", "unknown report version %d (this import reads versions 1 and 2: GuideLLM 0.4 and later)", ver)
		}
	case meta.bad:
	default:
		// GuideLLM 0.4 wrote args and benchmarks without metadata; 0.3 and
		// older kept args on each benchmark (with run_stats).
		cfg = val("args")
		if !cfg.has() {
			c.add("metadata", "missing, and no top-level args: a GuideLLM 0.3 or older report (this import reads GuideLLM 0.4 and later)")
		}
		rep.Version = 1
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	rep.Model, _ = c.optStr(c.get(cfg, "model"))
	rep.TargetURL, _ = c.optStr(c.get(cfg, "target"))
	rep.API = apiOf(c, cfg)
	shape := dataShape(c.get(cfg, "data"))
	in, out := shape.InputTokens, shape.OutputTokens
	rep.Spread = shape
	if raw, ok := top[ExtensionKey]; ok && string(raw) != "null" {
		var ext RunExtension
		if err := json.Unmarshal(raw, &ext); err != nil {
			c.add(ExtensionKey, "invalid: %s", oneLine(err.Error()))
		} else {
			rep.Extension = &ext
		}
	}

	braw, ok := top["benchmarks"]
	if !ok || string(braw) == "null" {
		c.add("benchmarks", "missing")
		return nil, c.err()
	}
	var bs []map[string]json.RawMessage
	if err := json.Unmarshal(braw, &bs); err != nil {
		c.add("benchmarks", "must be a list of benchmark objects")
		return nil, c.err()
	}
	if len(bs) == 0 {
		c.add("benchmarks", "empty: nothing to import")
		return nil, c.err()
	}
	for i, b := range bs {
		path := fmt.Sprintf("benchmarks[%d]", i)
		if b == nil {
			c.add(path, "must be a benchmark object, got null")
			continue
		}
		// The per-request records (requests) are never decoded: they may
		// be reservoir-sampled, are not filtered to the window, and make
		// most of a report's size.
		m := map[string]any{}
		for k, raw := range b {
			if k == "requests" || k == ExtensionKey {
				continue
			}
			v, err := decodeValue(raw)
			if err != nil {
				c.add(joinPath(path, k), "invalid: %s", oneLine(err.Error()))
				continue
			}
			m[k] = v
		}
		bm := benchmarkOf(c, node{path: path, v: m}, i)
		if raw, ok := b[ExtensionKey]; ok && string(raw) != "null" {
			var ext StepExtension
			if err := json.Unmarshal(raw, &ext); err != nil {
				c.add(joinPath(path, ExtensionKey), "invalid: %s", oneLine(err.Error()))
			} else {
				bm.Extension = &ext
			}
		}
		rep.Benchmarks = append(rep.Benchmarks, bm)
		if rep.Model == "" {
			rep.Model, _ = c.optStr(c.get(c.get(c.get(node{path: path, v: m}, "config"), "backend"), "model"))
		}
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	rep.InputTokens, rep.OutputTokens = in, out
	if in == 0 || out == 0 {
		var ins, outs []float64
		for _, b := range rep.Benchmarks {
			if b.Step.Tokens.Prompt.Count > 0 {
				ins = append(ins, b.Step.Tokens.Prompt.Mean)
			}
			if b.Step.Tokens.Output.Count > 0 {
				outs = append(outs, b.Step.Tokens.Output.Mean)
			}
		}
		if in == 0 {
			rep.InputTokens = int(math.Round(median(ins)))
		}
		if out == 0 {
			rep.OutputTokens = int(math.Round(median(outs)))
		}
	}
	return rep, nil
}

// apiOf maps GuideLLM's request type to our API names ("" when the report
// does not say).
func apiOf(c *checker, cfg node) string {
	for _, k := range []string{"request_type", "request_format"} {
		s, _ := c.optStr(c.get(cfg, k))
		switch {
		case strings.Contains(s, "chat"):
			return v1alpha1.APIChat
		case strings.Contains(s, "text") || strings.Contains(s, "completions"):
			return v1alpha1.APICompletions
		}
	}
	return ""
}

// dataKeyRe matches a synthetic data spec's length keys: prompt_tokens and
// output_tokens, and their _stdev, _min and _max.
var dataKeyRe = regexp.MustCompile(`(prompt|output)_tokens(_stdev|_min|_max)?["']?\s*[:=]\s*(\d+)`)

// dataShape reads the lengths of a synthetic data spec
// ("prompt_tokens=256,prompt_tokens_stdev=64,output_tokens=128", or the
// same as JSON), a string or a list of strings, into a scenario's fields
// (GuideLLM's synthetic data draws them from a normal distribution clipped
// to min..max); zero when there is none. The first value of a key counts.
func dataShape(n node) v1alpha1.Scenario {
	var texts []string
	switch x := n.v.(type) {
	case string:
		texts = []string{x}
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok {
				texts = append(texts, s)
			}
		}
	case map[string]any:
		b, _ := json.Marshal(x)
		texts = []string{string(b)}
	}
	var sc v1alpha1.Scenario
	fields := map[string]*int{
		"prompt": &sc.InputTokens, "prompt_stdev": &sc.InputTokensStdev, "prompt_min": &sc.InputTokensMin, "prompt_max": &sc.InputTokensMax,
		"output": &sc.OutputTokens, "output_stdev": &sc.OutputTokensStdev, "output_min": &sc.OutputTokensMin, "output_max": &sc.OutputTokensMax,
	}
	for _, t := range texts {
		for _, m := range dataKeyRe.FindAllStringSubmatch(t, -1) {
			if f := fields[m[1]+m[2]]; *f == 0 {
				*f, _ = strconv.Atoi(m[3])
			}
		}
	}
	if sc.InputTokensStdev > 0 || sc.OutputTokensStdev > 0 {
		sc.LengthDistribution = v1alpha1.LengthNormal
	}
	return sc
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// benchmarkOf reads one benchmark and maps it to a step (stepOf's fields).
func benchmarkOf(c *checker, b node, index int) Benchmark {
	bm := Benchmark{Index: index}
	if t, ok := c.optStr(c.get(b, "type_")); ok && t != BenchmarkType {
		c.add(joinPath(b.path, "type_"), "unknown benchmark type %q (this import reads %s)", t, BenchmarkType)
	} else if !ok && c.get(b, "type_").missing {
		c.add(joinPath(b.path, "type_"), "missing")
	}
	strat := c.get(c.get(b, "config"), "strategy")
	bm.Strategy = c.str(c.get(strat, "type_"))
	switch bm.Strategy {
	case StrategySynchronous:
	case StrategyConcurrent:
		bm.Streams = c.integer(c.get(strat, "streams"))
		if bm.Streams < 1 && c.get(strat, "streams").has() {
			c.add(joinPath(strat.path, "streams"), "must be at least 1, got %d", bm.Streams)
		}
	case StrategyThroughput:
		bm.MaxConcurrency, _ = c.optInt(c.get(strat, "max_concurrency"))
	case StrategyConstant, StrategyPoisson:
		bm.Rate = c.num(c.get(strat, "rate"))
		if bm.Rate <= 0 && c.get(strat, "rate").has() {
			c.add(joinPath(strat.path, "rate"), "must be above 0, got %v", bm.Rate)
		}
	case StrategyTrace:
		bm.Rate, _ = c.optNum(c.get(strat, "rate"))
	case "":
	default:
		c.add(joinPath(strat.path, "type_"), "unknown strategy %q (known: synchronous, concurrent, throughput, constant, poisson, trace)", bm.Strategy)
	}
	if mc, ok := c.optInt(c.get(strat, "max_concurrency")); ok {
		bm.MaxConcurrency = mc
	}
	bm.Step = stepOf(c, b, &bm)
	return bm
}

// dist reads a GuideLLM distribution summary, multiplying its values by
// scale (1e-3 turns GuideLLM's milliseconds into our seconds). mode and
// variance are not read (we keep std_dev; a mode has no counterpart).
func (c *checker) dist(n node, scale float64) results.Distribution {
	if n.missing {
		c.add(n.path, "missing")
		return results.Distribution{}
	}
	f := func(k string) float64 { return c.num(c.get(n, k)) * scale }
	p := c.get(n, "percentiles")
	q := func(k string) float64 { return c.num(c.get(p, k)) * scale }
	return results.Distribution{
		Mean: f("mean"), Median: f("median"), StdDev: f("std_dev"), Min: f("min"), Max: f("max"),
		Count: c.integer(c.get(n, "count")), TotalSum: f("total_sum"),
		Percentiles: results.Percentiles{
			P001: q("p001"), P01: q("p01"), P05: q("p05"), P10: q("p10"), P25: q("p25"), P50: q("p50"),
			P75: q("p75"), P90: q("p90"), P95: q("p95"), P99: q("p99"), P999: q("p999"),
		},
	}
}

// stepOf maps a GuideLLM benchmark to our step. The mapping, field by field:
//
//   - concurrency: config.strategy: synchronous 1; concurrent streams;
//     throughput max_concurrency when set. Rate strategies (constant,
//     poisson, trace) have no fixed concurrency: the step's concurrency is
//     the achieved one (metrics.request_concurrency mean, rounded, at least
//     1) and the rate is kept in the phase ("guidellm poisson 2.5/s").
//   - window: start_time..end_time (GuideLLM's measurement window, epoch
//     seconds); warmup_duration before it; started_at = start_time -
//     warmup_duration, ended_at = end_time + cooldown_duration.
//   - requests: metrics.request_totals {successful, errored, incomplete,
//     total}. GuideLLM's incomplete are the requests cancelled when the
//     benchmark ended, as ours. Errors by kind: GuideLLM's metrics do not
//     classify errors; they count as "unclassified".
//   - TTFT: time_to_first_token_ms.successful (ms -> s). Ours also counts
//     incomplete requests that had a first token and the censored waits;
//     GuideLLM's successful covers successful requests only.
//   - TPOT: inter_token_latency_ms.successful. GuideLLM's ITL is
//     (latency - TTFT) / (output tokens - 1) per request, exactly our TPOT
//     (vLLM bench serve's definition); GuideLLM weights each request by
//     its tokens. GuideLLM's own time_per_output_token_ms (latency /
//     output tokens, first token included) has no counterpart and is not
//     read.
//   - ITL: our ITL is the gaps between successive chunks, which GuideLLM
//     does not keep; its per-request mean gap (inter_token_latency_ms) is
//     used, so the ITL percentiles are those of per-request means, narrower
//     than per-chunk ones.
//   - E2E: request_latency.successful (s).
//   - tokens: prompt_token_count / output_token_count .successful.
//   - throughput: requests_per_second, output_tokens_per_second and
//     tokens_per_second .successful.mean. Goodput has no counterpart (0).
//   - achieved concurrency: request_concurrency mean (total, else
//     successful).
//
// No counterpart, left empty: warmup and tail request counts, censored
// requests, the grace after the window, token-count checks, the server's
// /metrics gauges (filled from Prometheus by Import when asked, else
// unknown), confidence intervals (nil: no claim), and steady state, which
// is marked not reached with the reason NotJudged.
func stepOf(c *checker, b node, bm *Benchmark) results.Step {
	s := results.Step{SchemaVersion: results.SchemaVersion}
	start := c.num(c.get(b, "start_time"))
	end := c.num(c.get(b, "end_time"))
	if c.get(b, "start_time").has() && c.get(b, "end_time").has() && end <= start {
		c.add(joinPath(b.path, "end_time"), "must be after start_time (%v), got %v", start, end)
	}
	dur, ok := c.optNum(c.get(b, "duration"))
	if !ok || dur <= 0 {
		dur = end - start
	}
	warm, _ := c.optNum(c.get(b, "warmup_duration"))
	cool, _ := c.optNum(c.get(b, "cooldown_duration"))
	s.Window = results.Window{
		Start: epoch(start), End: epoch(end),
		WarmupSeconds: math.Max(0, warm), DurationSeconds: dur,
	}
	s.StartedAt = epoch(start - math.Max(0, warm))
	s.EndedAt = epoch(end + math.Max(0, cool))

	m := c.get(b, "metrics")
	tot := c.get(m, "request_totals")
	before := len(c.errs) + c.more
	s.Requests = results.Counts{
		Successful: c.integer(c.get(tot, "successful")),
		Errored:    c.integer(c.get(tot, "errored")),
		Incomplete: c.integer(c.get(tot, "incomplete")),
	}
	s.Requests.Started = s.Requests.Successful + s.Requests.Errored + s.Requests.Incomplete
	total := c.integer(c.get(tot, "total"))
	if len(c.errs)+c.more == before && total != s.Requests.Started {
		c.add(joinPath(tot.path, "total"), "%d is not successful + errored + incomplete (%d)", total, s.Requests.Started)
	}
	if s.Requests.Errored > 0 {
		s.Errors = map[string]int{"unclassified": s.Requests.Errored}
	}
	if fin := s.Requests.Successful + s.Requests.Errored; fin > 0 {
		s.SuccessRate = float64(s.Requests.Successful) / float64(fin)
	}

	succ := func(metric string) node { return c.get(c.get(m, metric), "successful") }
	s.Latency.TTFT = c.dist(succ("time_to_first_token_ms"), 1e-3)
	itl := c.dist(succ("inter_token_latency_ms"), 1e-3)
	s.Latency.TPOT, s.Latency.ITL = itl, itl
	s.Latency.E2E = c.dist(succ("request_latency"), 1)
	s.Tokens.Prompt = c.dist(succ("prompt_token_count"), 1)
	s.Tokens.Output = c.dist(succ("output_token_count"), 1)
	s.Throughput.RequestsPerSecond = c.num(c.get(succ("requests_per_second"), "mean"))
	s.Throughput.OutputTokensPerSecond = c.num(c.get(succ("output_tokens_per_second"), "mean"))
	s.Throughput.TotalTokensPerSecond = c.num(c.get(succ("tokens_per_second"), "mean"))

	// Achieved concurrency: every request in flight (total), else the
	// successful ones.
	rc := c.get(m, "request_concurrency")
	achieved, ok := c.optNum(c.get(c.get(rc, "total"), "mean"))
	if !ok {
		achieved, ok = c.optNum(c.get(c.get(rc, "successful"), "mean"))
	}
	if ok {
		s.ConcurrencyAchieved = achieved
	}
	switch bm.Strategy {
	case StrategySynchronous:
		s.Concurrency = 1
	case StrategyConcurrent:
		s.Concurrency = bm.Streams
	case StrategyThroughput:
		s.Concurrency = bm.MaxConcurrency
		if s.Concurrency == 0 {
			if !ok {
				c.add(joinPath(joinPath(rc.path, "successful"), "mean"), "missing (a throughput benchmark without max_concurrency takes its concurrency from it)")
			}
			s.Concurrency = max(1, int(math.Round(achieved)))
		}
	case StrategyConstant, StrategyPoisson, StrategyTrace:
		if !ok {
			c.add(joinPath(joinPath(rc.path, "successful"), "mean"), "missing (a rate benchmark takes its concurrency from it)")
		}
		s.Concurrency = max(1, int(math.Round(achieved)))
	}
	s.Phase = "guidellm " + bm.Strategy
	if bm.Rate > 0 {
		s.Phase += " " + strconv.FormatFloat(bm.Rate, 'g', 4, 64) + "/s"
	}
	s.Steady = results.SteadyState{Reached: false, Reasons: []string{NotJudged}, LifetimeSeconds: s.Latency.E2E.Mean}
	return s
}

// epoch converts GuideLLM's epoch seconds to a UTC time (microseconds kept).
func epoch(sec float64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.UnixMicro(int64(math.Round(sec * 1e6))).UTC()
}
