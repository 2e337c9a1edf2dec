package dashboards

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/generators/grafana"
)

// provisioned is one datasource of the generated datasources ConfigMap.
type provisioned struct {
	Name      string `json:"name"`
	Type      string `json:"type"`
	UID       string `json:"uid"`
	URL       string `json:"url"`
	IsDefault bool   `json:"isDefault"`
}

// provisionedDatasources reads the datasources.yaml Grafana is provisioned
// with for config c (the grafana generator's, as in the ConfigMap).
func provisionedDatasources(t testing.TB, c *v1alpha1.ModelPerformanceMetrics) []provisioned {
	t.Helper()
	y, err := grafana.Datasources(c)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Datasources []provisioned `json:"datasources"`
	}
	if err := yaml.Unmarshal([]byte(y), &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Datasources) == 0 {
		t.Fatal("no datasource provisioned")
	}
	return f.Datasources
}

// Grafana's special datasource uids.
const (
	dsMixed     = "-- Mixed --"
	dsDashboard = "-- Dashboard --"
)

var reDSVar = regexp.MustCompile(`^(?:\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\])$`)

// dsResolver resolves datasource references of one dashboard as Grafana
// does when the dashboard opens, with nobody touching a variable: no
// reference is the default datasource; a datasource variable is its saved
// current value or, without one, the default datasource when it is of the
// variable's type, else the first datasource of that type; a uid or a name
// must be provisioned.
type dsResolver struct {
	list []provisioned
	vars map[string]jvar
}

func newResolver(list []provisioned, d jdash) dsResolver {
	r := dsResolver{list: list, vars: map[string]jvar{}}
	for _, v := range d.Templating.List {
		r.vars[v.Name] = v
	}
	return r
}

func (r dsResolver) defaultDS(typ string) (string, error) {
	for _, d := range r.list {
		if d.IsDefault && (typ == "" || d.Type == typ) {
			return d.UID, nil
		}
	}
	for _, d := range r.list {
		if typ == "" || d.Type == typ {
			return d.UID, nil
		}
	}
	return "", fmt.Errorf("no datasource of type %q provisioned", typ)
}

// lookup finds a provisioned datasource by uid or by name.
func (r dsResolver) lookup(s string) (string, error) {
	for _, d := range r.list {
		if d.UID == s || d.Name == s {
			return d.UID, nil
		}
	}
	return "", fmt.Errorf("datasource %q is not provisioned", s)
}

// resolve returns the uid of the datasource a reference reads (dsMixed
// for a mixed panel).
func (r dsResolver) resolve(ref *jdsRef) (string, error) {
	if ref == nil || ref.UID == "" {
		typ := ""
		if ref != nil {
			typ = ref.Type
		}
		return r.defaultDS(typ)
	}
	if ref.UID == dsMixed || ref.UID == dsDashboard {
		return ref.UID, nil
	}
	m := reDSVar.FindStringSubmatch(ref.UID)
	if m == nil {
		return r.lookup(ref.UID)
	}
	name := m[1] + m[2] + m[3]
	v, ok := r.vars[name]
	if !ok {
		return "", fmt.Errorf("datasource variable $%s is not defined", name)
	}
	if v.Type != "datasource" {
		return "", fmt.Errorf("$%s is a %s variable, not a datasource", name, v.Type)
	}
	if v.Current != nil {
		var cur string
		if json.Unmarshal(v.Current.Value, &cur) == nil && cur != "" && cur != "default" {
			return r.lookup(cur)
		}
	}
	var typ string
	_ = json.Unmarshal(v.Query, &typ)
	return r.defaultDS(typ)
}

// panelQueries are the queries of dashboards, each with the datasource it
// reads.
type panelQueries struct {
	exprs []panelExpr
	// vars are the query variables: label_values(...) on their datasource.
	vars []varQuery
	// problems are references that do not resolve, or a target reading
	// another datasource than its (non-mixed) panel.
	problems []string
}

type varQuery struct {
	uid, name, query, ds string
}

// resolvedQueries lists every panel query and query variable of the
// dashboards with the datasource each reads, as Grafana resolves them.
func resolvedQueries(t testing.TB, ds []Dashboard, list []provisioned) panelQueries {
	t.Helper()
	var out panelQueries
	for _, d := range ds {
		j := parseDash(t, d)
		r := newResolver(list, j)
		for _, p := range flat(j.Panels) {
			if p.Type == "row" {
				continue
			}
			pds, err := r.resolve(p.Datasource)
			if err != nil {
				out.problems = append(out.problems, fmt.Sprintf("%s / %q: panel datasource: %v", d.UID, p.Title, err))
				continue
			}
			for _, tg := range p.Targets {
				uid := pds
				if tg.Datasource != nil {
					tds, err := r.resolve(tg.Datasource)
					switch {
					case err != nil:
						out.problems = append(out.problems, fmt.Sprintf("%s / %q / %s: query datasource: %v", d.UID, p.Title, tg.RefID, err))
						continue
					case pds == dsMixed:
						uid = tds
					case tds != pds:
						out.problems = append(out.problems, fmt.Sprintf("%s / %q / %s: query reads %s, its panel %s", d.UID, p.Title, tg.RefID, tds, pds))
						continue
					}
				}
				if uid == dsMixed || uid == dsDashboard {
					out.problems = append(out.problems, fmt.Sprintf("%s / %q / %s: reads %s", d.UID, p.Title, tg.RefID, uid))
					continue
				}
				if tg.Expr != "" {
					out.exprs = append(out.exprs, panelExpr{uid: d.UID, title: p.Title, expr: tg.Expr, ds: uid})
				}
			}
		}
		for _, v := range j.Templating.List {
			if v.Type != "query" {
				continue
			}
			uid, err := r.resolve(v.Datasource)
			if err != nil {
				out.problems = append(out.problems, fmt.Sprintf("%s: variable %s: %v", d.UID, v.Name, err))
				continue
			}
			var q string
			if err := json.Unmarshal(v.Query, &q); err != nil {
				t.Fatalf("%s: variable %s: query is not a string: %s", d.UID, v.Name, v.Query)
			}
			out.vars = append(out.vars, varQuery{uid: d.UID, name: v.Name, query: q, ds: uid})
		}
	}
	return out
}

var reLabelValues = regexp.MustCompile(`^label_values\((.+), *(\w+)\)$`)

// labelValuesPromQL turns label_values(selector, label) into a PromQL query
// with one series per value.
func labelValuesPromQL(q string) (string, error) {
	m := reLabelValues.FindStringSubmatch(q)
	if m == nil {
		return "", fmt.Errorf("%q is not label_values(selector, label)", q)
	}
	return fmt.Sprintf("count by(%s)(%s)", m[2], m[1]), nil
}

// TestDatasourceResolver checks the resolver on hand-written references, so
// that a permissive resolver cannot make the e2e test pass.
func TestDatasourceResolver(t *testing.T) {
	list := []provisioned{
		{Name: "Local Prometheus", Type: "prometheus", UID: "local", IsDefault: true},
		{Name: "Thanos Querier", Type: "prometheus", UID: "thanos"},
	}
	var d jdash
	if err := json.Unmarshal([]byte(`{"templating":{"list":[
		{"type":"datasource","name":"datasource","query":"prometheus"},
		{"type":"datasource","name":"saved","query":"prometheus","current":{"value":"thanos"}},
		{"type":"datasource","name":"byname","query":"prometheus","current":{"value":"Thanos Querier"}},
		{"type":"query","name":"model","query":"label_values(x, y)"}]}}`), &d); err != nil {
		t.Fatal(err)
	}
	r := newResolver(list, d)
	for ref, want := range map[string]string{
		"": "local", "local": "local", "thanos": "thanos", "Thanos Querier": "thanos",
		"${datasource}": "local", "$datasource": "local", "[[datasource]]": "local",
		"${saved}": "thanos", "$byname": "thanos", dsMixed: dsMixed,
		"${model}": "error", "${nope}": "error", "elsewhere": "error",
	} {
		got, err := r.resolve(&jdsRef{Type: "prometheus", UID: ref})
		if err != nil {
			got = "error"
		}
		if got != want {
			t.Errorf("resolve(%q) = %q (err %v), want %q", ref, got, err, want)
		}
	}
	if got, err := r.resolve(nil); err != nil || got != "local" {
		t.Errorf("resolve(nil) = %q, %v; want the default", got, err)
	}
	if got, _ := (dsResolver{list: list[1:]}).resolve(nil); got != "thanos" {
		t.Errorf("without a default: %q, want the first of the type", got)
	}
	if q, err := labelValuesPromQL(`label_values(m{a="$b"}, c)`); err != nil || q != `count by(c)(m{a="$b"})` {
		t.Errorf("labelValuesPromQL: %q, %v", q, err)
	}
}

// TestEveryReferenceIsProvisioned: on both platforms every panel, query and
// query variable of every dashboard reads a datasource Grafana is
// provisioned with, by its uid: no datasource variable (the user would have
// to pick the right one per panel), no reference that only resolves on one
// platform.
func TestEveryReferenceIsProvisioned(t *testing.T) {
	for _, platform := range []string{v1alpha1.PlatformOpenShift, v1alpha1.PlatformKubernetes} {
		t.Run(platform, func(t *testing.T) {
			c := &v1alpha1.ModelPerformanceMetrics{}
			c.Spec.Platform = platform
			if err := c.Default(); err != nil {
				t.Fatal(err)
			}
			list := provisionedDatasources(t, c)
			ds := build(t, c)
			q := resolvedQueries(t, ds, list)
			for _, p := range q.problems {
				t.Error(p)
			}
			if len(q.exprs) < 40 || len(q.vars) == 0 {
				t.Errorf("%d queries and %d variables resolved", len(q.exprs), len(q.vars))
			}
			for _, d := range ds {
				j := parseDash(t, d)
				for _, v := range j.Templating.List {
					if v.Type == "datasource" {
						t.Errorf("%s: datasource variable %s: every panel reads where its series are, nothing to switch", d.UID, v.Name)
					}
				}
				refs := []*jdsRef{}
				for _, p := range flat(j.Panels) {
					if p.Type == "row" {
						continue
					}
					refs = append(refs, p.Datasource)
					for _, tg := range p.Targets {
						refs = append(refs, tg.Datasource)
					}
				}
				for _, v := range j.Templating.List {
					if v.Type == "query" {
						refs = append(refs, v.Datasource)
					}
				}
				for _, ref := range refs {
					if ref == nil || ref.Type != "prometheus" || strings.Contains(ref.UID, "$") {
						t.Errorf("%s: datasource reference %+v is not a Prometheus datasource by uid", d.UID, ref)
					}
				}
			}
		})
	}
}
