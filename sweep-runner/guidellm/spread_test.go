package guidellm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// planScenario is the first scenario of an imported run's plan as run.
func planScenario(t *testing.T, dir string) v1alpha1.Scenario {
	t.Helper()
	plan, _, _, err := results.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return plan.Spec.Scenarios[0]
}

func spreadOf(sc v1alpha1.Scenario) [7]any {
	return [7]any{sc.InputTokensStdev, sc.InputTokensMin, sc.InputTokensMax, sc.OutputTokensStdev, sc.OutputTokensMin, sc.OutputTokensMax, sc.LengthDistribution}
}

// A GuideLLM report whose synthetic data had prompt_tokens_stdev (and
// min, max, and the output's) imports with those spreads.
func TestImportSpread(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "v2-concurrent.json"))
	if err != nil {
		t.Fatal(err)
	}
	spec := "prompt_tokens=512,prompt_tokens_stdev=64,prompt_tokens_min=256,prompt_tokens_max=1024,output_tokens=128,output_tokens_stdev=32,output_tokens_max=512"
	data := strings.ReplaceAll(string(raw), "prompt_tokens=512,output_tokens=128", spec)
	rep, err := Parse([]byte(data), "spread.json")
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := importRun(t, Options{}, rep)
	sc := planScenario(t, dir)
	if sc.InputTokens != 512 || sc.OutputTokens != 128 || spreadOf(sc) != [7]any{64, 256, 1024, 32, 0, 512, v1alpha1.LengthNormal} {
		t.Errorf("imported scenario %+v, want the data spec's spreads (%s)", sc, spec)
	}
}

// An export carries the plan's spreads in GuideLLM's data spec and in its
// extension; importing it gives the same scenario back.
func TestExportSpreadRoundTrip(t *testing.T) {
	dir := synthRun(t)
	plan, _, _, err := results.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	sc := &plan.Spec.Scenarios[0]
	sc.InputTokensStdev, sc.InputTokensMax = 40, 600
	sc.OutputTokensStdev, sc.OutputTokensMin, sc.LengthDistribution = 20, 8, v1alpha1.LengthLognormal
	y, _ := yaml.Marshal(plan)
	if err := os.WriteFile(filepath.Join(dir, results.PlanFile), y, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := Export(dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"prompt_tokens=256,prompt_tokens_stdev=40,prompt_tokens_max=600,output_tokens=64,output_tokens_stdev=20,output_tokens_min=8"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("export lacks the data spec %q", want)
		}
	}
	rep, err := Parse(out, "export.json")
	if err != nil {
		t.Fatal(err)
	}
	back := planScenario(t, func() string { d, _ := importRun(t, Options{}, rep); return d }())
	if spreadOf(back) != spreadOf(*sc) {
		t.Errorf("round trip: %v, want %v", spreadOf(back), spreadOf(*sc))
	}
}
