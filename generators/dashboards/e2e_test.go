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
	"sync/atomic"
	"testing"
	"time"

	sm "github.com/rhoai-demo/step07/api/sweepmetrics"
	"github.com/rhoai-demo/step07/api/v1alpha1"
	vm "github.com/rhoai-demo/step07/api/vllmmetrics"
	promgen "github.com/rhoai-demo/step07/generators/prometheus"
	"github.com/rhoai-demo/step07/generators/rules"
	"github.com/rhoai-demo/step07/internal/testenv"
	"github.com/rhoai-demo/step07/sweep-runner/remotewrite"
	"github.com/rhoai-demo/step07/vllmsim"
	"sigs.k8s.io/yaml"
)

// e2eRunID is the run id of the sweep results the test writes.
const e2eRunID = "20260101T020000Z"

// dupJob is the second job scraping every simulated vLLM pod, as RHOAI's
// <isvc>-metrics ServiceMonitor does next to ours.
const dupJob = "vllm-rhoai-metrics"

// TestE2EEveryQueryReturnsData runs the cluster's monitoring topology with
// two real Prometheus servers (Debian package) and checks that every panel
// finds its series in the datasource it reads, as Grafana resolves it when
// the dashboard opens and nobody touches a variable:
//
//   - "local" is perf-prometheus: it scrapes the simulated vLLM servers,
//     and whatever else the generated prometheus.yml scrapes (the DCGM
//     exporter, when a job discovers it in spec.monitoring.dcgmNamespace:
//     that job's relabelling runs here on the labels kubernetes_sd would
//     give the GPU operator's nvidia-dcgm-exporter endpoints), loads the
//     generated rules and receives the sweep's remote write (the plan's
//     remoteWriteURL).
//   - "platform" is what the Thanos Querier answers from on OpenShift: the
//     platform Prometheus scraping the DCGM exporter (the workload's pod
//     label arrives as exported_pod) and user-workload monitoring scraping
//     the simulators. It receives no remote write.
//
// Each datasource of the generated datasources ConfigMap maps to its server
// by URL. The simulators are one with V1 metric names and one with the
// older names, each scraped under two jobs at two addresses by each server
// (ours and dupJob, as on OpenShift AI where RHOAI's <isvc>-metrics
// ServiceMonitor scrapes the pod too). The test sends load, writes sweep
// results by remote write with the shared series names, and checks that
// every query of every dashboard and every query variable returns at least
// one series from the server of its datasource: once with the acceptance
// check's variable substitution (a matcher holding a variable matches
// anything) and once with real values (so that model and pod matching is
// exercised). A panel bound to a datasource without its series, or one that
// needs a variable switched, fails. Then it checks that no query double
// counts (see noDoubleCounting).
func TestE2EEveryQueryReturnsData(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: skipped in -short mode")
	}
	prom := testenv.Prometheus(t)
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
		// listeners: local vllm, local dupJob, platform vllm, platform dupJob
		s.scrape = newSnapshotter(t, s.api.URL+"/metrics", 4, time.Second)
	}
	hostport := func(u string) string { return strings.TrimPrefix(u, "http://") }
	// another Service's port in the GPU operator's namespace: the local
	// Prometheus must not scrape it
	var decoyHits atomic.Int64
	decoy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		decoyHits.Add(1)
		fmt.Fprintln(w, "node_status_ok 1")
	}))
	t.Cleanup(decoy.Close)

	c := defaulted(t)
	if c.Spec.Platform != v1alpha1.PlatformOpenShift || c.Spec.Monitoring.ThanosQuerierURL == "" {
		t.Fatalf("the demo config is not OpenShift with a Thanos Querier: %s, %q", c.Spec.Platform, c.Spec.Monitoring.ThanosQuerierURL)
	}
	rulesFile, err := rules.RulesFile(c)
	if err != nil {
		t.Fatal(err)
	}
	vllmJobs := func(cfg *strings.Builder, first int) {
		// every simulator under two jobs at two addresses (as two scrape
		// configs reaching one pod on different ports), with the same pod
		// labels, through its snapshotter so that both jobs store the same
		// samples
		for i, job := range []string{"vllm", dupJob} {
			fmt.Fprintf(cfg, "- job_name: %s\n  scrape_interval: 250ms\n  scrape_timeout: 250ms\n  static_configs:\n", job)
			for _, s := range sims {
				fmt.Fprintf(cfg, "  - targets: ['%s']\n    labels: {namespace: private-ai, pod: %s}\n", s.scrape.addrs[first+i], s.pod)
			}
		}
	}
	header := func(dir string) *strings.Builder {
		if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), rulesFile, 0o644); err != nil {
			t.Fatal(err)
		}
		var cfg strings.Builder
		fmt.Fprintf(&cfg, "global: {scrape_interval: 1s, evaluation_interval: 1s}\nrule_files: [%s]\nscrape_configs:\n", filepath.Join(dir, "rules.yaml"))
		return &cfg
	}

	// local: perf-prometheus as generated
	localDir := t.TempDir()
	localCfg := header(localDir)
	vllmJobs(localCfg, 0)
	var exporters []string
	for _, s := range sims {
		exporters = append(exporters, hostport(s.dcgm.URL))
	}
	localDCGM := generatedDCGMJobs(t, c, exporters, hostport(decoy.URL))
	localCfg.WriteString(localDCGM)
	writeFile(t, filepath.Join(localDir, "prometheus.yml"), localCfg.String())

	// platform: OpenShift's platform Prometheus and user-workload monitoring
	// behind the Thanos Querier. The target is the exporter pod, so the
	// workload's pod label arrives as exported_pod.
	platformDir := t.TempDir()
	platformCfg := header(platformDir)
	vllmJobs(platformCfg, 2)
	fmt.Fprintf(platformCfg, "- job_name: nvidia-dcgm-exporter\n  static_configs:\n  - targets: ['%s', '%s']\n    labels: {namespace: nvidia-gpu-operator, pod: nvidia-dcgm-exporter-x1}\n",
		hostport(sims[0].dcgm.URL), hostport(sims[1].dcgm.URL))
	writeFile(t, filepath.Join(platformDir, "prometheus.yml"), platformCfg.String())

	local := startPrometheus(t, ctx, prom, localDir, true)
	platform := startPrometheus(t, ctx, prom, platformDir, false)
	servers := datasourceServers(t, c, local, platform)

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

	// sweep results, as sweep-runner writes them (see sweepSamples), to
	// the plan's remote-write URL: the local Prometheus
	if rwURL := c.Plan().Spec.RemoteWriteURL; !strings.HasPrefix(hostOf(rwURL), v1alpha1.PrometheusName+".") {
		t.Fatalf("the plan remote-writes to %s, not to the local Prometheus", rwURL)
	}
	samples := sweepSamples(c, time.Now())
	rw, err := remotewrite.New(local+"/api/v1/write", remotewrite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rw.Write(ctx, samples); err != nil {
		t.Fatalf("remote write: %v", err)
	}
	// the platform Prometheus receives none
	if resp, err := http.Post(platform+"/api/v1/write", "application/x-protobuf", strings.NewReader("")); err == nil {
		resp.Body.Close()
		if resp.StatusCode/100 == 2 {
			t.Fatalf("the platform Prometheus accepts remote write (%s)", resp.Status)
		}
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
	q := resolvedQueries(t, ds, provisionedDatasources(t, c))
	empty := append([]string(nil), q.problems...)
	onServer := map[string]int{}
	for _, e := range q.exprs {
		base, ok := servers[e.ds]
		if !ok {
			empty = append(empty, fmt.Sprintf("%s / %q: datasource %s has no server", e.uid, e.title, e.ds))
			continue
		}
		onServer[e.ds]++
		for _, sq := range []struct{ mode, expr string }{{"acceptance", subst(e.expr)}, {"real", real.Replace(e.expr)}} {
			n, err := instant(ctx, base, sq.expr)
			if err != nil || n == 0 {
				empty = append(empty, fmt.Sprintf("%s / %q on %s (%s substitution): %d series, err %v\n    %s", e.uid, e.title, e.ds, sq.mode, n, err, sq.expr))
			}
		}
	}
	for _, v := range q.vars {
		pq, err := labelValuesPromQL(v.query)
		if err == nil {
			var n int
			n, err = instant(ctx, servers[v.ds], real.Replace(pq))
			if err == nil && n == 0 {
				err = fmt.Errorf("no values")
			}
		}
		if err != nil {
			empty = append(empty, fmt.Sprintf("%s: variable %s on %s: %v\n    %s", v.uid, v.name, v.ds, err, v.query))
		}
	}
	if len(empty) > 0 {
		t.Errorf("%d of %d queries and variables return no data from the datasource they read:\n%s", len(empty), 2*len(q.exprs)+len(q.vars), strings.Join(empty, "\n"))
	}
	// the topology: DCGM's workload pod label arrives as exported_pod on
	// the platform; the local Prometheus keeps it as pod when it scrapes
	// the exporter, and scrapes no other Service of the GPU operator
	mustCount := func(base, q string, want bool) {
		n, err := instant(ctx, base, q)
		if err != nil || (n > 0) != want {
			t.Errorf("%s on %s: %d series (err %v), want data: %v", q, base, n, err, want)
		}
	}
	perModel := func(lbl string) string {
		return fmt.Sprintf(`count(%s{%s=~"mistral-3-(bf16|int4)-predictor.*"})`, vm.DCGMPowerUsage, lbl)
	}
	mustCount(platform, perModel("exported_pod"), true)
	if localDCGM != "" {
		mustCount(local, perModel("pod"), true)
		mustCount(local, fmt.Sprintf(`count(%s{exported_pod!=""})`, vm.DCGMPowerUsage), false)
		mustCount(local, fmt.Sprintf(`count(%s{namespace="private-ai"})`, vm.DCGMPowerUsage), true)
		if n := decoyHits.Load(); n > 0 {
			t.Errorf("the local Prometheus scraped another Service of the GPU operator's namespace %d times", n)
		}
	}
	mustCount(platform, fmt.Sprintf("count(%s)", sm.TTFTSeconds), false)
	// every recording rule yields a series for both generations
	for _, r := range []string{rules.RecTTFTP95, rules.RecReadingSpeed, rules.RecKVCacheUsage, rules.RecQueue, rules.RecSuccessRatio} {
		for _, s := range sims {
			q := fmt.Sprintf(`%s{model_name=%q, namespace="private-ai"}`, r, s.model)
			if n, err := instant(ctx, local, q); err != nil || n != 1 {
				t.Errorf("recording rule %s for %s (%s names): %d series, err %v", r, s.model, s.compat, n, err)
			}
		}
	}
	t.Logf("%d queries in %d dashboards (per datasource: %v) and %d variables checked in two substitutions; local Prometheus scrapes DCGM: %v; requests completed: %v",
		len(q.exprs), len(ds), onServer, len(q.vars), localDCGM != "", done)

	noDoubleCounting(t, ctx, local, servers, c, q.exprs, real, during, time.Now())
}

// datasourceServers maps the uid of each datasource Grafana is provisioned
// with to the test server standing for it: the local Prometheus's Service
// to local, the Thanos Querier to platform.
func datasourceServers(t *testing.T, c *v1alpha1.ModelPerformanceMetrics, local, platform string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, d := range provisionedDatasources(t, c) {
		switch {
		case strings.HasPrefix(hostOf(d.URL), v1alpha1.PrometheusName+"."+c.Spec.Namespace+"."):
			out[d.UID] = local
		case d.URL == c.Spec.Monitoring.ThanosQuerierURL:
			out[d.UID] = platform
		default:
			t.Fatalf("datasource %s (%s): no server stands for it", d.UID, d.URL)
		}
	}
	return out
}

// generatedDCGMJobs returns the scrape configs of the generated
// prometheus.yml that discover targets in spec.monitoring.dcgmNamespace, as
// YAML list items, with kubernetes_sd replaced by static targets carrying
// the meta labels kubernetes_sd (roles endpoints, endpointslice and pod)
// gives the GPU operator's exporter pods behind Service nvidia-dcgm-exporter
// port gpu-metrics 9400 (one per GPU node: exporters), and one endpoint of
// another Service of that namespace (decoy). The generated relabelling
// decides what is scraped and which labels stay. Empty when the generated
// Prometheus scrapes nothing there.
func generatedDCGMJobs(t *testing.T, c *v1alpha1.ModelPerformanceMetrics, exporters []string, decoy string) string {
	t.Helper()
	cfg, err := promgen.Config(c)
	if err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		ScrapeConfigs []map[string]any `json:"scrape_configs"`
	}
	if err := yaml.Unmarshal([]byte(cfg), &parsed); err != nil {
		t.Fatal(err)
	}
	ns := c.Spec.Monitoring.DCGMNamespace
	target := func(addr, service, port, pod, node string) map[string]any {
		l := map[string]any{
			"__meta_kubernetes_namespace":                               ns,
			"__meta_kubernetes_service_name":                            service,
			"__meta_kubernetes_service_label_app":                       service,
			"__meta_kubernetes_endpoints_name":                          service,
			"__meta_kubernetes_endpoint_port_name":                      port,
			"__meta_kubernetes_endpoint_port_protocol":                  "TCP",
			"__meta_kubernetes_endpoint_ready":                          "true",
			"__meta_kubernetes_endpoint_node_name":                      node,
			"__meta_kubernetes_endpoint_address_target_kind":            "Pod",
			"__meta_kubernetes_endpoint_address_target_name":            pod,
			"__meta_kubernetes_endpointslice_name":                      service + "-x7k2p",
			"__meta_kubernetes_endpointslice_port_name":                 port,
			"__meta_kubernetes_endpointslice_port_protocol":             "TCP",
			"__meta_kubernetes_endpointslice_endpoint_conditions_ready": "true",
			"__meta_kubernetes_endpointslice_endpoint_node_name":        node,
			"__meta_kubernetes_endpointslice_address_target_kind":       "Pod",
			"__meta_kubernetes_endpointslice_address_target_name":       pod,
			"__meta_kubernetes_pod_name":                                pod,
			"__meta_kubernetes_pod_label_app":                           service,
			"__meta_kubernetes_pod_container_name":                      service,
			"__meta_kubernetes_pod_container_port_name":                 "metrics",
			"__meta_kubernetes_pod_container_port_number":               "9400",
			"__meta_kubernetes_pod_container_port_protocol":             "TCP",
			"__meta_kubernetes_pod_phase":                               "Running",
			"__meta_kubernetes_pod_ready":                               "true",
			"__meta_kubernetes_pod_node_name":                           node,
			"__meta_kubernetes_pod_controller_kind":                     "DaemonSet",
			"__meta_kubernetes_pod_controller_name":                     service,
		}
		return map[string]any{"targets": []string{addr}, "labels": l}
	}
	var statics []any
	for i, addr := range exporters {
		statics = append(statics, target(addr, "nvidia-dcgm-exporter", "gpu-metrics", fmt.Sprintf("nvidia-dcgm-exporter-x%d", i+1), fmt.Sprintf("gpu-node-%d", i+1)))
	}
	statics = append(statics, target(decoy, "nvidia-node-status-exporter", "node-status", "nvidia-node-status-exporter-x1", "gpu-node-1"))
	var jobs []map[string]any
	for _, sc := range parsed.ScrapeConfigs {
		sds, _ := sc["kubernetes_sd_configs"].([]any)
		inDCGM := false
		for _, sd := range sds {
			m, _ := sd.(map[string]any)
			nss, _ := m["namespaces"].(map[string]any)
			names, _ := nss["names"].([]any)
			for _, n := range names {
				inDCGM = inDCGM || n == ns
			}
		}
		if !inDCGM {
			continue
		}
		delete(sc, "kubernetes_sd_configs")
		sc["static_configs"] = statics
		// the test's pace, not the cluster's
		sc["scrape_interval"], sc["scrape_timeout"] = "1s", "1s"
		jobs = append(jobs, sc)
	}
	if len(jobs) == 0 {
		return ""
	}
	b, err := yaml.Marshal(jobs)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// noDoubleCounting evaluates every dashboard query (real substitution) and
// every rule expression (alerts with their recording rules inlined) at fixed
// times (under load, and after it) as it is and again with job!=dupJob in
// every selector: the results must be equal (same label sets, values within
// a relative 1e-9), so a pod scraped by two jobs counts once. It first shows
// under load that the check catches double counting: a plain sum of rates
// or of a gauge, or a dedup that keeps instance, differs by a factor 2.
func noDoubleCounting(t *testing.T, ctx context.Context, local string, servers map[string]string, c *v1alpha1.ModelPerformanceMetrics, exprs []panelExpr, real *strings.Replacer, during, after time.Time) {
	t.Helper()
	at := during
	base := local
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

	// each panel query on the server of its datasource, the rules on the
	// local Prometheus, which loads them
	type named struct{ name, expr, base string }
	var all []named
	for _, e := range exprs {
		all = append(all, named{e.uid + " / " + e.title, real.Replace(e.expr), servers[e.ds]})
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
			all = append(all, named{"rule " + r.Record + r.Alert, expr, local})
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
			base = q.base
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
			n, err := queryAt(ctx, local, `count_over_time(vllm:generation_tokens_total[10m])`, at)
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

// startPrometheus runs Prometheus on dir/prometheus.yml, with the
// remote-write receiver when remoteWrite.
func startPrometheus(t *testing.T, ctx context.Context, bin, dir string, remoteWrite bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var log bytes.Buffer
	args := []string{
		"--config.file=" + filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr,
		"--log.level=warn",
	}
	if remoteWrite {
		args = append(args, "--web.enable-remote-write-receiver")
	}
	cmd := exec.CommandContext(ctx, bin, args...)
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
