package dashboards

import (
	"fmt"
	"strconv"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/xychart"

	sm "github.com/rhoai-demo/step07/api/sweepmetrics"
)

// ssel is a selector on the sweep result series.
func ssel(modelMatcher, scenarioMatcher string, extra ...string) string {
	s := fmt.Sprintf(`%s%s, %s%s, %s="$%s"`, sm.LabelModel, modelMatcher, sm.LabelScenario, scenarioMatcher, sm.LabelRunID, varRunID)
	for _, e := range extra {
		s += ", " + e
	}
	return s
}

// lastRun is the latest value of a sweep series in the time range: the
// samples are written once per step, so a plain selector would go stale
// after five minutes.
func lastRun(metric, sel, by string) string {
	return fmt.Sprintf("max by(%s)(last_over_time(%s{%s}[$__range]))", by, metric, sel)
}

// perConcurrency is a step series of the run, one point per concurrency.
func perConcurrency(metric, sel, by string) string {
	return lastRun(metric, sel, by+", "+sm.LabelConcurrency)
}

// slaLine draws a constant at every concurrency step of the run (the xychart
// has no threshold lines): one point per concurrency with value v.
func slaLine(sel string, v float64) string {
	return fmt.Sprintf("%s * 0 + %s", lastRun(sm.TTFTSeconds, sel+`, quantile="0.95"`, sm.LabelConcurrency), strconv.FormatFloat(v, 'f', -1, 64))
}

// xyTransforms turn the instant table results into frames the xychart
// draws: concurrency becomes a number, the time column goes, rows are sorted
// by concurrency and (where partitionRef is set) the frame of that query is
// split into one frame per model and scenario.
func xyTransforms(partitionRef string) []dashboard.DataTransformerConfig {
	ts := []dashboard.DataTransformerConfig{
		{Id: "convertFieldType", Options: map[string]any{
			"fields":      map[string]any{},
			"conversions": []any{map[string]any{"targetField": sm.LabelConcurrency, "destinationType": "number"}},
		}},
		{Id: "organize", Options: map[string]any{"excludeByName": map[string]any{"Time": true}}},
	}
	if partitionRef != "" {
		ts = append(ts, dashboard.DataTransformerConfig{
			Id:      "partitionByValues",
			Filter:  &dashboard.MatcherConfig{Id: "byRefId", Options: partitionRef},
			Options: map[string]any{"fields": []any{sm.LabelModel, sm.LabelScenario}, "keepFields": false},
		})
	}
	ts = append(ts, dashboard.DataTransformerConfig{Id: "sortBy", Options: map[string]any{
		"fields": map[string]any{},
		"sort":   []any{map[string]any{"field": sm.LabelConcurrency, "desc": false}},
	}})
	return ts
}

// xy is the concurrency chart: points and lines, X = concurrency.
func xy() *xychart.PanelBuilder {
	return xychart.NewPanelBuilder().
		Mapping(xychart.SeriesMappingAuto).
		Show(xychart.XYShowModePointsAndLines).
		PointSize(xychart.NewXychartFieldConfigPointSizeBuilder().Fixed(6)).
		LineWidth(2).
		AxisLabel("").
		Legend(common.NewVizLegendOptionsBuilder().DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom).ShowLegend(true)).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderNone))
}

// dashedRed styles the SLA line query.
func dashedRed(refID, name string) dashboard.DashboardFieldConfigSourceOverrides {
	return dashboard.DashboardFieldConfigSourceOverrides{
		Matcher: dashboard.MatcherConfig{Id: "byFrameRefID", Options: refID},
		Properties: []dashboard.DynamicConfigValue{
			{Id: "displayName", Value: name},
			{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": "red"}},
			{Id: "custom.lineStyle", Value: map[string]any{"fill": "dash", "dash": []any{10, 10}}},
		},
	}
}

// named gives the frame of a query a display name.
func named(refID, name string) dashboard.DashboardFieldConfigSourceOverrides {
	return dashboard.DashboardFieldConfigSourceOverrides{
		Matcher:    dashboard.MatcherConfig{Id: "byFrameRefID", Options: refID},
		Properties: []dashboard.DynamicConfigValue{{Id: "displayName", Value: name}},
	}
}

// renameValue names the value column of a merged table.
func renameValue(refID, name, unit string) dashboard.DashboardFieldConfigSourceOverrides {
	return dashboard.DashboardFieldConfigSourceOverrides{
		Matcher: dashboard.MatcherConfig{Id: "byName", Options: "Value #" + refID},
		Properties: []dashboard.DynamicConfigValue{
			{Id: "displayName", Value: name},
			{Id: "unit", Value: unit},
		},
	}
}

// tbl is a table of instant results merged on their labels.
func tbl() *table.PanelBuilder {
	return table.NewPanelBuilder().ShowHeader(true).CellHeight(common.TableCellHeightSm)
}

func mergeTransforms() []dashboard.DataTransformerConfig {
	return []dashboard.DataTransformerConfig{
		{Id: "merge", Options: map[string]any{}},
		{Id: "organize", Options: map[string]any{"excludeByName": map[string]any{"Time": true}}},
	}
}
