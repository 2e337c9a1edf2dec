package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/rhoai-demo/step07/api/sweepmetrics"
	"github.com/rhoai-demo/step07/api/v1alpha1"
	vm "github.com/rhoai-demo/step07/api/vllmmetrics"
)

// queryVar is a label_values variable refreshed with the time range.
func queryVar(name, label, q string) *dashboard.QueryVariableBuilder {
	return dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Query(dashboard.StringOrMap{String: cog.ToPtr(q)}).
		Definition(q).
		Datasource(dsRef()).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc)
}

func option(v string) dashboard.VariableOption {
	return dashboard.VariableOption{
		Selected: cog.ToPtr(true),
		Text:     dashboard.StringOrArrayOfString{String: cog.ToPtr(v)},
		Value:    dashboard.StringOrArrayOfString{String: cog.ToPtr(v)},
	}
}

func namespaceVar(c *v1alpha1.ModelPerformanceMetrics) cog.Builder[dashboard.VariableModel] {
	return queryVar(varNamespace, "Namespace", fmt.Sprintf("label_values(%s, namespace)", vm.NumRequestsRunning)).
		Current(option(c.Spec.Namespace))
}

// modelQuery lists the served models of the namespace.
func modelQuery() string {
	return fmt.Sprintf(`label_values(%s{namespace="$namespace"}, model_name)`, vm.NumRequestsRunning)
}

// liveVars: namespace and a multi-valued model variable.
func liveVars(c *v1alpha1.ModelPerformanceMetrics) []cog.Builder[dashboard.VariableModel] {
	return []cog.Builder[dashboard.VariableModel]{
		namespaceVar(c),
		queryVar(varModel, "Model", modelQuery()).Multi(true).IncludeAll(true),
	}
}

// modelDefault returns the name of the config's i-th model, or the last.
func modelDefault(c *v1alpha1.ModelPerformanceMetrics, i int) string {
	ms := c.Spec.Models
	if len(ms) == 0 {
		return ""
	}
	if i >= len(ms) {
		i = len(ms) - 1
	}
	return ms[i].Name
}

// sweepSel is the sweep series' label set used by the variables.
func scenarioVar(modelMatch string) *dashboard.QueryVariableBuilder {
	return queryVar(varScenario, "Scenario",
		fmt.Sprintf(`label_values(%s{%s=~"%s"}, %s)`, sweepmetrics.TTFTSeconds, sweepmetrics.LabelModel, modelMatch, sweepmetrics.LabelScenario))
}

// runVar lists the sweep runs, newest first (run ids sort by time), so that
// the default is the latest run.
func runVar(modelMatch string) *dashboard.QueryVariableBuilder {
	return queryVar(varRunID, "Sweep run",
		fmt.Sprintf(`label_values(%s{%s=~"%s"}, %s)`, sweepmetrics.TTFTSeconds, sweepmetrics.LabelModel, modelMatch, sweepmetrics.LabelRunID)).
		Sort(dashboard.VariableSortAlphabeticalDesc)
}

// comparisonVars: two single-valued model variables defaulting to the
// config's first two models (BF16 and INT4 in the demo).
func comparisonVars(c *v1alpha1.ModelPerformanceMetrics) []cog.Builder[dashboard.VariableModel] {
	return []cog.Builder[dashboard.VariableModel]{
		namespaceVar(c),
		queryVar(varModelA, "Model A", modelQuery()).Current(option(modelDefault(c, 0))),
		queryVar(varModelB, "Model B", modelQuery()).Current(option(modelDefault(c, 1))),
		scenarioVar("$model_a|$model_b"),
		runVar("$model_a|$model_b"),
	}
}

// sweepVars: namespace (of the live series, for consistency),
// models and scenarios of the sweep series, and the run.
func sweepVars(c *v1alpha1.ModelPerformanceMetrics) []cog.Builder[dashboard.VariableModel] {
	return []cog.Builder[dashboard.VariableModel]{
		namespaceVar(c),
		queryVar(varModel, "Model", fmt.Sprintf(`label_values(%s, %s)`, sweepmetrics.TTFTSeconds, sweepmetrics.LabelModel)).Multi(true).IncludeAll(true),
		scenarioVar("$model").Multi(true).IncludeAll(true),
		runVar("$model"),
	}
}
