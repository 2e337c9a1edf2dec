package krm

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/yaml"
)

const foreign = "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: not-ours, namespace: x}\n"

func execute(t *testing.T, in string) (map[string]any, error) {
	t.Helper()
	var out bytes.Buffer
	err := framework.Execute(framework.ResourceListProcessorFunc(Process), &kio.ByteReadWriter{Reader: strings.NewReader(in), Writer: &out, KeepReaderAnnotations: true})
	var rl map[string]any
	if uerr := yaml.Unmarshal(out.Bytes(), &rl); uerr != nil {
		t.Fatalf("output: %v\n%s", uerr, out.String())
	}
	return rl, err
}

// TestResultsOnError: a bad functionConfig fails the function with its
// config errors and lists each, kpt style, in the ResourceList's results:
// severity error, the field path, the functionConfig as the resource. The
// items stay as they came.
func TestResultsOnError(t *testing.T) {
	rl, err := execute(t, "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"+foreign+
		"functionConfig:\n  apiVersion: step07.rhoai-demo.io/v1alpha1\n  kind: ModelPerformanceMetrics\n  metadata: {name: step07}\n"+
		"  spec:\n    platform: x\n    models:\n    - {name: m, gpus: 0}\n")
	var errs v1alpha1.Errors
	if !errors.As(err, &errs) || len(errs) != 2 {
		t.Fatalf("want the two config errors, got %v", err)
	}
	results, _ := rl["results"].([]any)
	if len(results) != len(errs) {
		t.Fatalf("results %v, want one per error (%v)", rl["results"], errs)
	}
	fields := map[string]bool{}
	for _, r := range results {
		m := r.(map[string]any)
		field, _ := m["field"].(map[string]any)
		ref, _ := m["resourceRef"].(map[string]any)
		if m["severity"] != "error" || field["path"] == nil || m["message"] == "" ||
			ref["kind"] != v1alpha1.Kind || ref["name"] != "step07" {
			t.Errorf("result %v", m)
		}
		fields[field["path"].(string)] = true
	}
	if !fields["spec.platform"] || !fields["spec.models[0].gpus"] {
		t.Errorf("fields %v", fields)
	}
	if items, _ := rl["items"].([]any); len(items) != 1 {
		t.Errorf("items changed on error: %v", items)
	}
}

// TestNoResults: a good config yields no results, the foreign item kept
// first and the generated objects after it.
func TestNoResults(t *testing.T) {
	rl, err := execute(t, "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"+foreign+
		"functionConfig:\n  apiVersion: step07.rhoai-demo.io/v1alpha1\n  kind: ModelPerformanceMetrics\n  spec: {}\n")
	if err != nil {
		t.Fatal(err)
	}
	if rl["results"] != nil {
		t.Errorf("results: %v", rl["results"])
	}
	items, _ := rl["items"].([]any)
	if len(items) < 10 || items[0].(map[string]any)["metadata"].(map[string]any)["name"] != "not-ours" {
		t.Errorf("%d items, first %v", len(items), items[0])
	}
}

// TestMissingFunctionConfig: no functionConfig is an error result too.
func TestMissingFunctionConfig(t *testing.T) {
	rl, err := execute(t, "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n")
	results, _ := rl["results"].([]any)
	if err == nil || len(results) != 1 || !strings.Contains(results[0].(map[string]any)["message"].(string), "functionConfig") {
		t.Errorf("err %v, results %v", err, rl["results"])
	}
}
