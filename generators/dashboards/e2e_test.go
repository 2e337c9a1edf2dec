package dashboards

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sm "github.com/rhoai-demo/step07/api/sweepmetrics"
	"github.com/rhoai-demo/step07/api/v1alpha1"
	vm "github.com/rhoai-demo/step07/api/vllmmetrics"
	"github.com/rhoai-demo/step07/generators/rules"
	"github.com/rhoai-demo/step07/internal/testtools"
	"github.com/rhoai-demo/step07/sweep-runner/remotewrite"
	"github.com/rhoai-demo/step07/vllmsim"
)

// e2eRunID is the run id of the sweep results the test writes.
const e2eRunID = "20260101T020000Z"

// dupJob is the second job scraping every simulated vLLM pod, as RHOAI's
// <isvc>-metrics ServiceMonitor does next to ours.
const dupJob = "vllm-rhoai-metrics"

// TestE2EEveryQueryReturnsData runs a real Prometheus (Debian package)
// scraping two simulated vLLM servers, one with V1 metric names and one with
// the older names, each under two jobs at two addresses (ours and dupJob, as
// on OpenShift AI where RHOAI's <isvc>-metrics ServiceMonitor scrapes the pod
// too), and their DCGM listeners (one scraped so that the pod label stays
// pod, once more so that it arrives as exported_pod), loads the generated
// rules, sends load, writes sweep results by remote write with the shared
// series names, and checks that every query of every dashboard returns at
// least one series: once with the acceptance check's variable substitution
// (a matcher holding a variable matches anything) and once with real values
// (so that model and pod matching is exercised). Then it checks that no
// query double counts (see noDoubleCounting).
func TestE2EEveryQueryReturnsData(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: skipped in -short mode")
	}
	prom := testtools.Prometheus(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	type sim struct {
		model       string
		api, dcgm   *httptest.Server
		maxSeqs     int
		compat, pod string
		scrape      *snapshotter
	}
	sims := []*sim{
		{model: "mistral-3-bf16", maxSeqs: 3, compat: "v1"},
		{model: "mistral-3-int4", maxSeqs: 2, compat: "v0"},
	}
	profiles := map[string]string{"mistral-3-bf16": "mistral-bf16-tp4", "mistral-3-int4": "mistral-int4-tp1"}
	for _, s := range sims {
		cfg, err := vllmsim.Profile(profiles[s.model])
		if err != nil {
			t.Fatal(err)
		}
		cfg.Model, cfg.MaxNumSeqs, cfg.MetricsCompat = s.model, s.maxSeqs, s.compat
		srv, err := vllmsim.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		s.pod = srv.Config().Pod
		s.api = httptest.NewServer(srv.Handler())
		s.dcgm = httptest.NewServer(srv.DCGMHandler())
		t.Cleanup(func() { s.api.Close(); s.dcgm.Close(); srv.Close() })
		s.scrape = newSnapshotter(t, s.api.URL+"/metrics", 2, time.Second)
	}
	hostport := func(u string) string { return strings.TrimPrefix(u, "http://") }

	dir := t.TempDir()
	c := defaulted(t)
	rulesFile, err := rules.RulesFile(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), rulesFile, 0o644); err != nil {
		t.Fatal(err)
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "global: {scrape_interval: 1s, evaluation_interval: 1s}\nrule_files: [%s]\nscrape_configs:\n", filepath.Join(dir, "rules.yaml"))
	// every simulator under two jobs at two addresses (as two scrape
	// configs reaching one pod on different ports), with the same pod
	// labels, through its snapshotter so that both jobs store the same
	// samples
	for i, job := range []string{"vllm", dupJob} {
		fmt.Fprintf(&cfg, "- job_name: %s\n  scrape_interval: 250ms\n  scrape_timeout: 250ms\n  static_configs:\n", job)
		for _, s := range sims {
			fmt.Fprintf(&cfg, "  - targets: ['%s']\n    labels: {namespace: private-ai, pod: %s}\n", s.scrape.addrs[i], s.pod)
		}
	}
	// as the acceptance check: the target has a namespace but no pod label,
	// so DCGM's pod label stays "pod"
	fmt.Fprintf(&cfg, "- job_name: dcgm\n  static_configs:\n  - targets: ['%s', '%s']\n    labels: {namespace: nvidia-gpu-operator}\n",
		hostport(sims[0].dcgm.URL), hostport(sims[1].dcgm.URL))
	// as OpenShift's platform Prometheus: the target is the exporter pod, so
	// the workload's pod label arrives as exported_pod
	fmt.Fprintf(&cfg, "- job_name: dcgm-openshift\n  static_configs:\n  - targets: ['%s', '%s']\n    labels: {namespace: nvidia-gpu-operator, pod: nvidia-dcgm-exporter-x1}\n",
		hostport(sims[0].dcgm.URL), hostport(sims[1].dcgm.URL))
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	base := startPrometheus(t, ctx, prom, dir)

	// Prometheus applies new targets a few seconds after it starts: wait
	// until every job has scraped a few snapshots
	for _, s := range sims {
		s.scrape.waitSnapshots(t, 3)
	}

	// load: a few concurrent streams per server, beyond max-num-seqs so the
	// queue fills, for a few seconds
	var wg sync.WaitGroup
	loadStart := time.Now()
	loadCtx, stopLoad := context.WithTimeout(ctx, 8*time.Second)
	defer stopLoad()
	var mu sync.Mutex
	done := map[string]int{}
	for _, s := range sims {
		for w := 0; w < s.maxSeqs+2; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for loadCtx.Err() == nil {
					if err := complete(loadCtx, s.api.URL, s.model); err == nil {
						mu.Lock()
						done[s.model]++
						mu.Unlock()
					}
				}
			}()
		}
	}

	// sweep results, as sweep-runner writes them (see sweepSamples)
	rw, err := remotewrite.New(base+"/api/v1/write", remotewrite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rw.Write(ctx, sweepSamples(c, time.Now())); err != nil {
		t.Fatalf("remote write: %v", err)
	}
	time.Sleep(time.Until(loadStart.Add(5 * time.Second)))
	during := time.Now() // requests running and waiting
	wg.Wait()
	for _, s := range sims {
		if done[s.model] == 0 {
			t.Fatalf("no request to %s completed", s.model)
		}
	}
	time.Sleep(2 * time.Second) // let the last requests reach a snapshot
	for _, s := range sims {
		s.scrape.freeze(t)
	}
	time.Sleep(time.Second) // let the last scrapes and rule evaluations land

	real := strings.NewReplacer(
		"$__rate_interval", "30s", "$__range", "10m", "$namespace", "private-ai",
		"$model_a", "mistral-3-bf16", "$model_b", "mistral-3-int4",
		"$model", "(mistral-3-bf16|mistral-3-int4)",
		"$scenario", "A", "$run_id", e2eRunID)
	ds := build(t, c)
	exprs := allExprs(t, ds)
	var empty []string
	for _, e := range exprs {
		for _, q := range []struct{ mode, expr string }{{"acceptance", subst(e.expr)}, {"real", real.Replace(e.expr)}} {
			n, err := instant(ctx, base, q.expr)
			if err != nil || n == 0 {
				empty = append(empty, fmt.Sprintf("%s / %q (%s substitution): %d series, err %v\n    %s", e.uid, e.title, q.mode, n, err, q.expr))
			}
		}
	}
	if len(empty) > 0 {
		t.Errorf("%d of %d queries return no data:\n%s", len(empty), 2*len(exprs), strings.Join(empty, "\n"))
	}
	// both DCGM labellings reach the per-model GPU queries
	for _, lbl := range []string{"pod", "exported_pod"} {
		q := fmt.Sprintf(`count(%s{%s=~"mistral-3-(bf16|int4)-predictor.*"})`, vm.DCGMPowerUsage, lbl)
		if n, err := instant(ctx, base, q); err != nil || n == 0 {
			t.Errorf("%s: no series (err %v)", q, err)
		}
	}
	// every recording rule yields a series for both generations
	for _, r := range []string{rules.RecTTFTP95, rules.RecReadingSpeed, rules.RecKVCacheUsage, rules.RecQueue, rules.RecSuccessRatio} {
		for _, s := range sims {
			q := fmt.Sprintf(`%s{model_name=%q, namespace="private-ai"}`, r, s.model)
			if n, err := instant(ctx, base, q); err != nil || n != 1 {
				t.Errorf("recording rule %s for %s (%s names): %d series, err %v", r, s.model, s.compat, n, err)
			}
		}
	}
	t.Logf("%d queries in %d dashboards checked in two substitutions; requests completed: %v", len(exprs), len(ds), done)

	noDoubleCounting(t, ctx, base, c, exprs, real, during, time.Now())
}

// noDoubleCounting evaluates every dashboard query (real substitution) and
// every rule expression (alerts with their recording rules inlined) at fixed
// times (under load, and after it) as it is and again with job!=dupJob in
// every selector: the results must be equal (same label sets, values within
// a relative 1e-9), so a pod scraped by two jobs counts once. It first shows
// under load that the check catches double counting: a plain sum of rates
// or of a gauge, or a dedup that keeps instance, differs by a factor 2.
func noDoubleCounting(t *testing.T, ctx context.Context, base string, c *v1alpha1.ModelPerformanceMetrics, exprs []panelExpr, real *strings.Replacer, during, after time.Time) {
	t.Helper()
	at := during
	eval := func(expr string) (with, without map[string]float64, err error) {
		ex, err := excludeJob(expr, dupJob)
		if err != nil {
			return nil, nil, err
		}
		if with, err = queryAt(ctx, base, expr, at); err != nil {
			return nil, nil, err
		}
		without, err = queryAt(ctx, base, ex, at)
		return with, without, err
	}

	// the duplicate job scrapes both simulators
	if n, err := queryAt(ctx, base, fmt.Sprintf(`count by(pod)(vllm:generation_tokens_total{job=%q})`, dupJob), at); err != nil || len(n) != 2 {
		t.Fatalf("the duplicate job %s: %v series, err %v", dupJob, n, err)
	}
	// the check fails without the dedup, and with one that keeps instance
	// (the two jobs reach the pod at different addresses)
	rateGen := `rate(vllm:generation_tokens_total{namespace="private-ai"}[30s])`
	running := `vllm:num_requests_running{namespace="private-ai"}`
	for _, q := range []string{
		"sum by(model_name)(" + rateGen + ")",
		"sum by(model_name)(" + running + ")",
		"sum by(model_name)(max without(job, service, endpoint)(" + rateGen + "))",
	} {
		with, without, err := eval(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if len(with) != 2 || sameResult(with, without) == "" {
			t.Fatalf("the check misses double counting: %s\nwith %s: %v\nwithout: %v", q, dupJob, with, without)
		}
		for k, v := range with {
			if !closeTo(v, 2*without[k]) || v == 0 {
				t.Errorf("%s: %s is %g with %s, %g without: not twice", q, k, v, dupJob, without[k])
			}
		}
	}
	// and passes with it
	if with, without, err := eval("sum by(model_name)(" + vm.DedupScrapes(rateGen) + ")"); err != nil || len(with) != 2 || sameResult(with, without) != "" {
		t.Errorf("deduplicated rate: %v vs %v, err %v", with, without, err)
	}

	type named struct{ name, expr string }
	var all []named
	for _, e := range exprs {
		all = append(all, named{e.uid + " / " + e.title, real.Replace(e.expr)})
	}
	recorded := map[string]string{}
	for _, g := range rules.Groups(c) {
		for _, r := range g.Rules {
			if r.Record != "" {
				recorded[r.Record] = r.Expr
			}
		}
	}
	for _, g := range rules.Groups(c) {
		for _, r := range g.Rules {
			expr := r.Expr
			for rec, e := range recorded {
				expr = strings.ReplaceAll(expr, rec, "("+e+")")
			}
			all = append(all, named{"rule " + r.Record + r.Alert, expr})
		}
	}
	vllm := 0
	for _, q := range all {
		if touchesVLLM(q.expr) {
			vllm++
		}
	}
	for _, when := range []struct {
		name string
		at   time.Time
	}{{"under load", during}, {"after the load", after}} {
		at = when.at
		var bad []string
		for _, q := range all {
			with, without, err := eval(q.expr)
			switch {
			case err != nil:
				bad = append(bad, fmt.Sprintf("%s: %v\n    %s", q.name, err, q.expr))
				continue
			case sameResult(with, without) != "":
				bad = append(bad, fmt.Sprintf("%s: %s\n    %s", q.name, sameResult(with, without), q.expr))
			}
			// alerts that do not fire are empty; every other vLLM query has data
			if touchesVLLM(q.expr) && len(with) == 0 && !strings.HasPrefix(q.name, "rule VLLM") {
				bad = append(bad, fmt.Sprintf("%s: no data\n    %s", q.name, q.expr))
			}
		}
		if len(bad) > 0 {
			t.Errorf("%s: %d of %d queries differ with and without the duplicate job %s:\n%s", when.name, len(bad), len(all), dupJob, strings.Join(bad, "\n"))
			// both jobs should hold the same samples: if not, the
			// snapshotter missed a scrape
			n, err := queryAt(ctx, base, `count_over_time(vllm:generation_tokens_total[10m])`, at)
			t.Logf("samples per job: %v (err %v)", n, err)
		}
	}
	t.Logf("no double counting: %d queries and rules (%d over vLLM series) equal with and without the duplicate job, under load and after it", len(all), vllm)
}

// sweepSamples is one run of results for the config's models in scenario A,
// concurrency 1, 2, 4, with the names and labels of api/sweepmetrics: what
// sweep-runner's --remote-write sends for every step and run.
func sweepSamples(c *v1alpha1.ModelPerformanceMetrics, now time.Time) []remotewrite.Sample {
	ms := now.UnixMilli()
	var out []remotewrite.Sample
	add := func(name string, v float64, labels map[string]string) {
		out = append(out, remotewrite.Sample{Name: name, Labels: labels, Value: v, TimeMs: ms})
	}
	for _, m := range c.Spec.Models {
		gpus := float64(m.GPUCount())
		run := func() map[string]string {
			return map[string]string{sm.LabelModel: m.Name, sm.LabelScenario: "A", sm.LabelRunID: e2eRunID}
		}
		for _, conc := range []int{1, 2, 4} {
			step := func() map[string]string {
				l := run()
				l[sm.LabelConcurrency] = strconv.Itoa(conc)
				return l
			}
			f := float64(conc)
			for i, q := range sm.Quantiles {
				for _, n := range []string{sm.TTFTSeconds, sm.TPOTSeconds, sm.ITLSeconds} {
					l := step()
					l[sm.LabelQuantile] = q
					add(n, 0.05*f*float64(i+1), l)
				}
			}
			add(sm.OutputTokensPerSecond, 40*f, step())
			add(sm.OutputTokensPerSecondPerGPU, 40*f/gpus, step())
			add(sm.RequestsPerSecond, f, step())
			add(sm.SuccessRatio, 1, step())
			add(sm.QueueWaitingMean, max(0, f-3), step())
			add(sm.KVCacheUsageMax, 0.1*f, step())
			add(sm.PowerWatts, 300*gpus, step())
			add(sm.StepBroken, map[bool]float64{true: 1, false: 0}[conc == 4], step())
		}
		add(sm.BreakingPointConcurrency, 4, run())
		add(sm.MaxConcurrencyAtSLA, 2, run())
		add(sm.UsersPerGPUAtSLA, 2/gpus, run())
		add(sm.OutputTokensPerSecondPerGPUAtSLA, 80/gpus, run())
		add(sm.RunTimestamp, float64(now.Unix()), run())
	}
	return out
}

func startPrometheus(t *testing.T, ctx context.Context, bin, dir string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var log bytes.Buffer
	cmd := exec.CommandContext(ctx, bin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--web.enable-remote-write-receiver",
		"--log.level=warn")
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", log.String())
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready on %s: %v\n%s", addr, err, log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// complete sends one streaming completion and reads it to the end.
func complete(ctx context.Context, base, model string) error {
	body := fmt.Sprintf(`{"model":%q,"prompt":"hello world, tell me a story","max_tokens":24,"ignore_eos":true,"stream":true}`, model)
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/v1/completions", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// instant runs an instant query and returns the number of series.
func instant(ctx context.Context, base, q string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/query?"+url.Values{"query": {q}}.Encode(), nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, err
	}
	if r.Status != "success" {
		return 0, fmt.Errorf("%s", r.Error)
	}
	return len(r.Data.Result), nil
}
