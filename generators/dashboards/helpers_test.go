package dashboards

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/api/v1alpha1"
)

// defaulted returns the demo config.
func defaulted(t testing.TB) *v1alpha1.ModelPerformanceMetrics {
	t.Helper()
	c := &v1alpha1.ModelPerformanceMetrics{}
	if err := c.Default(); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

func build(t testing.TB, c *v1alpha1.ModelPerformanceMetrics) []Dashboard {
	t.Helper()
	ds, err := Dashboards(c)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// jpanel is the part of a panel the checks read, straight from the JSON
// (as the acceptance check and Grafana do).
type jpanel struct {
	Type        string                    `json:"type"`
	ID          int                       `json:"id"`
	Title       string                    `json:"title"`
	Description string                    `json:"description"`
	GridPos     *struct{ H, W, X, Y int } `json:"gridPos"`
	Targets     []struct {
		Expr       string  `json:"expr"`
		RefID      string  `json:"refId"`
		Instant    bool    `json:"instant"`
		Format     string  `json:"format"`
		Datasource *jdsRef `json:"datasource"`
	} `json:"targets"`
	Datasource  *jdsRef `json:"datasource"`
	FieldConfig *struct {
		Defaults struct {
			Unit       string `json:"unit"`
			Thresholds *struct {
				Steps []struct {
					Value *float64 `json:"value"`
					Color string   `json:"color"`
				} `json:"steps"`
			} `json:"thresholds"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Panels []jpanel `json:"panels"`
}

// jdsRef is a datasource reference of a panel, target or variable.
type jdsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// jvar is one template variable.
type jvar struct {
	Type       string          `json:"type"`
	Name       string          `json:"name"`
	Query      json.RawMessage `json:"query"`
	Datasource *jdsRef         `json:"datasource"`
	Current    *struct {
		Value json.RawMessage `json:"value"`
	} `json:"current"`
}

type jdash struct {
	UID        string   `json:"uid"`
	Title      string   `json:"title"`
	Panels     []jpanel `json:"panels"`
	Templating struct {
		List []jvar `json:"list"`
	} `json:"templating"`
}

func parseDash(t testing.TB, d Dashboard) jdash {
	t.Helper()
	var j jdash
	if err := json.Unmarshal(d.JSON, &j); err != nil {
		t.Fatalf("%s: %v", d.UID, err)
	}
	return j
}

// flat lists every panel, rows and the panels inside collapsed rows included.
func flat(ps []jpanel) []jpanel {
	var out []jpanel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, flat(p.Panels)...)
	}
	return out
}

var (
	reMatcherVar = regexp.MustCompile(`(\w+)\s*(=~|=|!=|!~)\s*"([^"]*\$[^"]*)"`)
	reVar        = regexp.MustCompile(`\$\{?\w+(:\w+)?\}?`)
)

// subst replaces Grafana's variables the way the acceptance check does:
// built-in intervals by durations, a label matcher holding a variable by
// "any value", any other variable by 1.
func subst(e string) string {
	for _, r := range [][2]string{
		{"$__rate_interval", "30s"}, {"${__rate_interval}", "30s"},
		{"$__interval", "5s"}, {"${__interval}", "5s"},
		{"$__range", "5m"}, {"${__range}", "5m"},
	} {
		e = strings.ReplaceAll(e, r[0], r[1])
	}
	e = reMatcherVar.ReplaceAllStringFunc(e, func(m string) string {
		sm := reMatcherVar.FindStringSubmatch(m)
		if sm[2] == "=" || sm[2] == "=~" {
			return sm[1] + `=~".+"`
		}
		return sm[1] + `!~"^$"`
	})
	return reVar.ReplaceAllString(e, "1")
}

// exprs lists every (dashboard uid, panel title, expr) of the dashboards.
type panelExpr struct {
	uid, title, expr string
	// ds is the uid of the datasource the query reads, as Grafana resolves
	// it (see datasources.resolve); set by the e2e test only.
	ds string
}

func allExprs(t testing.TB, ds []Dashboard) []panelExpr {
	t.Helper()
	var out []panelExpr
	for _, d := range ds {
		for _, p := range flat(parseDash(t, d).Panels) {
			for _, tg := range p.Targets {
				if tg.Expr != "" {
					out = append(out, panelExpr{uid: d.UID, title: p.Title, expr: tg.Expr})
				}
			}
		}
	}
	return out
}
