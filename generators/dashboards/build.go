package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"

	"github.com/rhoai-demo/step07/api/v1alpha1"
)

// gridWidth is Grafana's grid: 24 columns.
const gridWidth = 24

// dsRef points panels, queries and variables at the local Prometheus by
// uid: it holds every series the dashboards read (vLLM and DCGM at the
// scrape interval, the sweep results it receives by remote write), on
// OpenShift as on Kubernetes. No datasource variable: switching one panel's
// source would leave the others without their series.
func dsRef() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr(v1alpha1.LocalDatasourceUID)}
}

// query is one PromQL target of a panel.
type query struct {
	expr   string
	legend string
	// instant queries are evaluated once (stat, gauge, table, xychart).
	instant bool
	// table asks for the table format (one row per series, labels as columns).
	table bool
}

// board accumulates the panels of one dashboard and lays them out on the
// grid left to right, top to bottom, so that no two panels overlap.
type board struct {
	panels []dashboard.PanelOrRowPanel
	nextID uint32
	x, y   uint32
	rowH   uint32
	// err is the first build error; later adds are skipped.
	err error
}

func (b *board) newline() {
	if b.x > 0 {
		b.y += b.rowH
		b.x, b.rowH = 0, 0
	}
}

func (b *board) place(w, h uint32) *dashboard.GridPos {
	if b.x+w > gridWidth {
		b.newline()
	}
	gp := &dashboard.GridPos{X: b.x, Y: b.y, W: w, H: h}
	b.x += w
	b.rowH = max(b.rowH, h)
	if b.x >= gridWidth {
		b.newline()
	}
	return gp
}

func (b *board) id() uint32 {
	b.nextID++
	return b.nextID
}

// row starts a new, expanded row.
func (b *board) row(title string) {
	b.newline()
	r := dashboard.NewRowPanel()
	r.Title = cog.ToPtr(title)
	r.Id = b.id()
	r.GridPos = &dashboard.GridPos{X: 0, Y: b.y, W: gridWidth, H: 1}
	r.Panels = []dashboard.Panel{}
	b.y++
	b.panels = append(b.panels, dashboard.PanelOrRowPanel{RowPanel: r})
}

// spec is what every panel has, whatever its visualisation.
type spec struct {
	title, desc, unit string
	w, h              uint32
	queries           []query
	thresholds        []dashboard.Threshold
	min, max          *float64
	transformations   []dashboard.DataTransformerConfig
	overrides         []dashboard.DashboardFieldConfigSourceOverrides
}

// add builds the visualisation-specific part with the SDK builder, then sets
// the common fields on the built panel.
func (b *board) add(builder cog.Builder[dashboard.Panel], s spec) {
	if b.err != nil {
		return
	}
	if err := b.addPanel(builder, s); err != nil {
		b.err = fmt.Errorf("panel %q: %w", s.title, err)
	}
}

func (b *board) addPanel(builder cog.Builder[dashboard.Panel], s spec) error {
	p, err := builder.Build()
	if err != nil {
		return err
	}
	p.Id = cog.ToPtr(b.id())
	p.Title = cog.ToPtr(s.title)
	p.Description = cog.ToPtr(s.desc)
	ds := dsRef()
	p.Datasource = &ds
	p.GridPos = b.place(s.w, s.h)
	refs := "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for i, q := range s.queries {
		qb := prometheus.NewDataqueryBuilder().
			Expr(q.expr).
			RefId(string(refs[i])).
			Datasource(dsRef())
		if q.legend != "" {
			qb.LegendFormat(q.legend)
		}
		if q.instant {
			qb.Instant()
		} else {
			qb.Range()
		}
		if q.table {
			qb.Format(prometheus.PromQueryFormatTable)
		} else {
			qb.Format(prometheus.PromQueryFormatTimeSeries)
		}
		dq, err := qb.Build()
		if err != nil {
			return err
		}
		p.Targets = append(p.Targets, variants.Dataquery(dq))
	}
	if p.FieldConfig == nil {
		p.FieldConfig = dashboard.NewFieldConfigSource()
	}
	d := &p.FieldConfig.Defaults
	d.Unit = cog.ToPtr(s.unit)
	if s.thresholds != nil {
		d.Thresholds = &dashboard.ThresholdsConfig{Mode: dashboard.ThresholdsModeAbsolute, Steps: s.thresholds}
		d.Color = &dashboard.FieldColor{Mode: dashboard.FieldColorModeIdThresholds}
	}
	d.Min, d.Max = s.min, s.max
	p.Transformations = s.transformations
	p.FieldConfig.Overrides = append(p.FieldConfig.Overrides, s.overrides...)
	b.panels = append(b.panels, dashboard.PanelOrRowPanel{Panel: &p})
	return nil
}

func f64(v float64) *float64 { return &v }

// Colours of the SLA grades.
const (
	colExcellent  = "green"
	colAcceptable = "#73BF69"
	colWarning    = "orange"
	colDegraded   = "red"
)

// lowerIsBetter turns excellent/acceptable/degraded into Grafana threshold
// steps: below excellent green, then light green, orange from acceptable, red
// from degraded.
func lowerIsBetter(excellent, acceptable, degraded float64) []dashboard.Threshold {
	return []dashboard.Threshold{
		{Value: nil, Color: colExcellent},
		{Value: f64(excellent), Color: colAcceptable},
		{Value: f64(acceptable), Color: colWarning},
		{Value: f64(degraded), Color: colDegraded},
	}
}

// higherIsBetter: red below degraded, orange from degraded, light green from
// acceptable, green from excellent.
func higherIsBetter(excellent, acceptable, degraded float64) []dashboard.Threshold {
	return []dashboard.Threshold{
		{Value: nil, Color: colDegraded},
		{Value: f64(degraded), Color: colWarning},
		{Value: f64(acceptable), Color: colAcceptable},
		{Value: f64(excellent), Color: colExcellent},
	}
}

// neutral thresholds for panels without an SLA.
func neutral() []dashboard.Threshold {
	return []dashboard.Threshold{{Value: nil, Color: "green"}}
}

type dashboardOverride = dashboard.DashboardFieldConfigSourceOverrides

type statBuilder = stat.PanelBuilder
