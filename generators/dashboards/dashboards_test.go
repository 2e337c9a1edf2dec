package dashboards

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/prometheus/prometheus/promql/parser"
	corev1 "k8s.io/api/core/v1"

	sm "github.com/rhoai-demo/step07/api/sweepmetrics"
	"github.com/rhoai-demo/step07/api/v1alpha1"
	vm "github.com/rhoai-demo/step07/api/vllmmetrics"
)

func TestEveryQueryParses(t *testing.T) {
	p := parser.NewParser(parser.Options{})
	ds := build(t, defaulted(t))
	n := 0
	for _, e := range allExprs(t, ds) {
		n++
		if _, err := p.ParseExpr(subst(e.expr)); err != nil {
			t.Errorf("%s / %q: %v\n  expr: %s\n  substituted: %s", e.uid, e.title, err, e.expr, subst(e.expr))
		}
		// the realistic substitution (one value per variable) parses too
		real := strings.NewReplacer("$__rate_interval", "1m", "$__range", "1h", "$namespace", "private-ai",
			"$model_a", "mistral-3-bf16", "$model_b", "mistral-3-int4", "$model", "mistral-3-bf16",
			"$scenario", "A", "$run_id", "20260101T020000Z").Replace(e.expr)
		if _, err := p.ParseExpr(real); err != nil {
			t.Errorf("%s / %q: %v\n  expr: %s", e.uid, e.title, err, real)
		}
	}
	if n < 40 {
		t.Errorf("only %d queries in all dashboards", n)
	}
	// variable queries: label_values(<selector>, label)
	reLV := regexp.MustCompile(`^label_values\((.+), *(\w+)\)$`)
	for _, d := range ds {
		for _, v := range parseDash(t, d).Templating.List {
			if v.Type != "query" {
				continue
			}
			var q string
			if err := json.Unmarshal(v.Query, &q); err != nil {
				t.Fatalf("%s: variable %s: query is not a string: %s", d.UID, v.Name, v.Query)
			}
			m := reLV.FindStringSubmatch(q)
			if m == nil {
				t.Errorf("%s: variable %s: %q is not label_values(selector, label)", d.UID, v.Name, q)
				continue
			}
			if _, err := p.ParseExpr(subst(m[1])); err != nil {
				t.Errorf("%s: variable %s: %v", d.UID, v.Name, err)
			}
		}
	}
}

func TestRoundTripThroughSDK(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	for _, d := range build(t, defaulted(t)) {
		var sdk dashboard.Dashboard
		if err := json.Unmarshal(d.JSON, &sdk); err != nil {
			t.Fatalf("%s: unmarshal into dashboard.Dashboard: %v", d.UID, err)
		}
		again, err := marshal(sdk)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, d.JSON) {
			t.Errorf("%s changes on a round trip through the SDK types (-generated +round-tripped):\n%s", d.UID, cmp.Diff(string(d.JSON), string(again)))
		}
		// and through a generic JSON value, so no field is lost by either side
		var a, b any
		_ = json.Unmarshal(d.JSON, &a)
		_ = json.Unmarshal(again, &b)
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("%s: %s", d.UID, diff)
		}
	}
}

func TestDeterministic(t *testing.T) {
	a, b := build(t, defaulted(t)), build(t, defaulted(t))
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatal(diff)
	}
	for _, d := range a {
		if !bytes.HasPrefix(d.JSON, []byte("{\n  \"")) {
			t.Errorf("%s is not pretty-printed", d.UID)
		}
		if regexp.MustCompile(`20\d\d-\d\d-\d\dT`).Match(d.JSON) {
			t.Errorf("%s holds a timestamp", d.UID)
		}
	}
}

func TestStructure(t *testing.T) {
	ds := build(t, defaulted(t))
	wantUIDs := []string{UIDProduction, UIDGPU, UIDComparison, UIDSweep}
	var uids []string
	for _, d := range ds {
		uids = append(uids, d.UID)
	}
	if diff := cmp.Diff(wantUIDs, uids); diff != "" {
		t.Errorf("uids (stable, in order) differ: %s", diff)
	}
	titles := map[string]string{}
	for _, d := range ds {
		j := parseDash(t, d)
		if j.UID != d.UID || len(j.UID) > 40 {
			t.Errorf("uid %q in JSON, want %q (<= 40 chars)", j.UID, d.UID)
		}
		if prev, dup := titles[j.Title]; dup {
			t.Errorf("title %q used by %s and %s", j.Title, prev, d.UID)
		}
		titles[j.Title] = d.UID
		vars := map[string]string{}
		for _, v := range j.Templating.List {
			q := ""
			_ = json.Unmarshal(v.Query, &q)
			vars[v.Name] = v.Type + " " + q
		}
		if _, ok := vars["datasource"]; ok {
			t.Errorf("%s: a datasource variable: every panel reads the local Prometheus by uid", d.UID)
		}
		if !strings.HasPrefix(vars[varNamespace], "query label_values(") {
			t.Errorf("%s: namespace variable is not label_values: %q", d.UID, vars[varNamespace])
		}
		models := 0
		for name, v := range vars {
			if strings.HasPrefix(name, "model") {
				models++
				if !strings.HasPrefix(v, "query label_values(") {
					t.Errorf("%s: %s is not label_values: %q", d.UID, name, v)
				}
			}
		}
		if models == 0 {
			t.Errorf("%s: no model variable", d.UID)
		}
		ids := map[int]bool{}
		type rect struct {
			title      string
			x, y, w, h int
		}
		var rects []rect
		for _, p := range flat(j.Panels) {
			if ids[p.ID] {
				t.Errorf("%s: panel id %d used twice", d.UID, p.ID)
			}
			ids[p.ID] = true
			if p.GridPos == nil || p.GridPos.W == 0 || p.GridPos.H == 0 || p.GridPos.X+p.GridPos.W > 24 {
				t.Errorf("%s / %q: bad gridPos %+v", d.UID, p.Title, p.GridPos)
				continue
			}
			rects = append(rects, rect{p.Title, p.GridPos.X, p.GridPos.Y, p.GridPos.W, p.GridPos.H})
			if p.Type == "row" {
				continue
			}
			if strings.TrimSpace(p.Description) == "" {
				t.Errorf("%s / %q: no description", d.UID, p.Title)
			}
			if p.FieldConfig == nil || p.FieldConfig.Defaults.Unit == "" {
				t.Errorf("%s / %q: no unit", d.UID, p.Title)
			}
			if p.Datasource == nil || p.Datasource.UID != v1alpha1.LocalDatasourceUID {
				t.Errorf("%s / %q: datasource is not the local Prometheus: %+v", d.UID, p.Title, p.Datasource)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s / %q: no query", d.UID, p.Title)
			}
		}
		for i := range rects {
			for k := i + 1; k < len(rects); k++ {
				a, b := rects[i], rects[k]
				if a.x < b.x+b.w && b.x < a.x+a.w && a.y < b.y+b.h && b.y < a.y+a.h {
					t.Errorf("%s: %q %+v overlaps %q %+v", d.UID, a.title, a, b.title, b)
				}
			}
		}
	}
}

// TestThresholdsFromConfig changes every SLA threshold and finds the new
// values in the panels that show them.
func TestThresholdsFromConfig(t *testing.T) {
	c := defaulted(t)
	c.Spec.Sweep.SLA = v1alpha1.SLA{
		TTFT:         v1alpha1.DurationThresholds{Excellent: v1alpha1.D(300 * time.Millisecond), Acceptable: v1alpha1.D(time.Second), Degraded: v1alpha1.D(3 * time.Second)},
		ReadingSpeed: v1alpha1.FloatThresholds{Excellent: 40, Acceptable: 15, Degraded: 8},
		KVCache:      v1alpha1.FloatThresholds{Excellent: 60, Acceptable: 85, Degraded: 97},
		Success:      v1alpha1.FloatThresholds{Excellent: 99.9, Acceptable: 99.5, Degraded: 98},
	}
	want := map[string][]float64{
		"ttft":    {0.3, 1, 3},
		"reading": {8, 15, 40},
		"kv":      {60, 85, 97},
		"success": {98, 99.5, 99.9},
	}
	kind := func(p jpanel) string {
		title := strings.ToLower(p.Title)
		switch {
		case strings.Contains(title, "ttft") || strings.Contains(title, "time to first token"):
			return "ttft"
		case strings.Contains(title, "reading speed"):
			return "reading"
		case strings.Contains(title, "kv cache"):
			return "kv"
		case strings.Contains(title, "success"):
			return "success"
		}
		return ""
	}
	seen := map[string]int{}
	for _, d := range build(t, c) {
		for _, p := range flat(parseDash(t, d).Panels) {
			k := kind(p)
			if k == "" || p.Type == "row" || p.Type == "table" || strings.Contains(p.Title, "Breaking point and") {
				continue
			}
			if p.FieldConfig.Defaults.Thresholds == nil {
				t.Errorf("%s / %q: no thresholds", d.UID, p.Title)
				continue
			}
			var got []float64
			for _, s := range p.FieldConfig.Defaults.Thresholds.Steps {
				if s.Value != nil {
					got = append(got, *s.Value)
				}
			}
			if diff := cmp.Diff(want[k], got); diff != "" {
				t.Errorf("%s / %q: thresholds are not the config's SLA: %s", d.UID, p.Title, diff)
			}
			seen[k]++
		}
	}
	for k := range want {
		if seen[k] == 0 {
			t.Errorf("no panel shows the %s SLA", k)
		}
	}
	// the TTFT line of the breaking point charts is the degraded threshold
	for _, d := range build(t, c) {
		if d.UID == UIDComparison || d.UID == UIDSweep {
			if !bytes.Contains(d.JSON, []byte(`* 0 + 3"`)) {
				t.Errorf("%s: no 3 s SLA line", d.UID)
			}
		}
	}
}

func TestBothGenerationsAndPodLabels(t *testing.T) {
	var all strings.Builder
	for _, d := range build(t, defaulted(t)) {
		all.Write(d.JSON)
	}
	exprs := allExprs(t, build(t, defaulted(t)))
	for _, e := range exprs {
		x := e.expr
		pairs := [][2]string{
			{vm.KVCacheUsagePerc, vm.GPUCacheUsagePerc}, {vm.InterTokenLatencySeconds, vm.TimePerOutputTokenSeconds}, {vm.PrefixCacheHitsTotal, vm.GPUPrefixCacheHitsTotal}, {vm.PrefixCacheQueriesTotal, vm.GPUPrefixCacheQueriesTotal},
			{`exported_pod=~`, `pod=~`},
		}
		for _, p := range pairs {
			if strings.Contains(x, p[0]) != strings.Contains(x, p[1]) && !(p[0] == `exported_pod=~` && !strings.Contains(x, "DCGM_")) {
				t.Errorf("%s / %q uses only one of %s and %s: %s", e.uid, e.title, p[0], p[1], x)
			}
		}
		if strings.Contains(x, "DCGM_") && !strings.Contains(x, "exported_pod=~") {
			t.Errorf("%s / %q: DCGM query without exported_pod: %s", e.uid, e.title, x)
		}
	}
}

func TestComparisonDashboard(t *testing.T) {
	c := defaulted(t)
	c.Spec.Models = []v1alpha1.Model{
		{Name: "granite-fp8", GPUs: ptr(2)},
		{Name: "granite-int4", GPUs: ptr(1)},
		{Name: "granite-bf16", GPUs: ptr(8)},
	}
	var d Dashboard
	for _, x := range build(t, c) {
		if x.UID == UIDComparison {
			d = x
		}
	}
	j := parseDash(t, d)
	cur := map[string]string{}
	for _, v := range j.Templating.List {
		if v.Current != nil {
			var s string
			_ = json.Unmarshal(v.Current.Value, &s)
			cur[v.Name] = s
		}
	}
	if cur[varModelA] != "granite-fp8" || cur[varModelB] != "granite-int4" {
		t.Errorf("model variables default to %q and %q, want the config's first two models", cur[varModelA], cur[varModelB])
	}
	for _, want := range []string{
		`label_replace(vector(2), \"model_name\", \"granite-fp8\", \"\", \"\")`,
		`label_replace(vector(8), \"model_name\", \"granite-bf16\", \"\", \"\")`,
	} {
		if !bytes.Contains(d.JSON, []byte(want)) {
			t.Errorf("GPU count from the config missing: %s", want)
		}
	}
	titles := map[string]jpanel{}
	for _, p := range flat(j.Panels) {
		titles[p.Title] = p
	}
	bp, ok := titles["Breaking Point: TTFT p95 vs concurrency"]
	if !ok || bp.Type != "xychart" {
		t.Fatalf("no Breaking Point xychart: %+v", bp)
	}
	for _, tg := range bp.Targets {
		if !strings.Contains(tg.Expr, sm.TTFTSeconds) || !strings.Contains(tg.Expr, sm.LabelConcurrency) || !tg.Instant || tg.Format != "table" {
			t.Errorf("breaking point query %s: %q", tg.RefID, tg.Expr)
		}
	}
	for _, title := range []string{"Efficiency: output tok/s per GPU (live)", "Users per GPU at SLA (sweep)", "KV Cache Wall",
		"Power per model (all its GPUs)", "tok/s per GPU: B / A", "Users per GPU at SLA: B / A", "Watts per token: B / A"} {
		if _, ok := titles[title]; !ok {
			t.Errorf("panel %q missing", title)
		}
	}
}

func TestObjects(t *testing.T) {
	c := defaulted(t)
	c.Spec.Namespace = "perf-ns"
	objs, err := Objects(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 4 {
		t.Fatalf("%d objects, want 4", len(objs))
	}
	names := map[string]bool{}
	for _, o := range objs {
		cm, ok := o.(*corev1.ConfigMap)
		if !ok {
			t.Fatalf("%T is not a ConfigMap", o)
		}
		if cm.APIVersion != "v1" || cm.Kind != "ConfigMap" || cm.Namespace != "perf-ns" || cm.Labels[v1alpha1.DashboardLabel] != "1" {
			t.Errorf("%s: meta %+v %+v", cm.Name, cm.TypeMeta, cm.ObjectMeta)
		}
		if names[cm.Name] {
			t.Errorf("duplicate %s", cm.Name)
		}
		names[cm.Name] = true
		if len(cm.Data) != 1 {
			t.Errorf("%s: %d keys", cm.Name, len(cm.Data))
		}
		js, ok := cm.Data[cm.Name+".json"]
		if !ok || !json.Valid([]byte(js)) {
			t.Errorf("%s: no valid %s.json", cm.Name, cm.Name)
		}
	}
	if _, err := Objects(nil); err == nil {
		t.Error("nil config accepted")
	}
}

func ptr[T any](v T) *T { return &v }
