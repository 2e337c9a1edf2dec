package v1alpha1

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestDatasetPlan: a dataset in a ConfigMap is read where the Job mounts
// it, DatasetMountPath/<configMap>/<base name>, and the plan no longer
// names the ConfigMap; one on the results PVC keeps its path; the config
// itself is left as written; each ConfigMap is listed once for the Job.
func TestDatasetPlan(t *testing.T) {
	c := mustLoad(t, `spec:
  sweep:
    scenarios:
      - {name: chat, dataset: {path: traffic/chat.jsonl, configMap: chat-traffic}}
      - {name: again, dataset: {path: chat.jsonl, configMap: chat-traffic}}
      - {name: pvc, dataset: {path: /results/datasets/sharegpt.json}}
      - {name: A, inputTokens: 10, outputTokens: 10}
`)
	p := c.Plan()
	got := []string{}
	for _, s := range p.Spec.Scenarios {
		if d := s.Dataset; d != nil {
			got = append(got, d.Path+"|"+d.ConfigMap)
		}
	}
	want := []string{"/datasets/chat-traffic/chat.jsonl|", "/datasets/chat-traffic/chat.jsonl|", "/results/datasets/sharegpt.json|"}
	if !slices.Equal(got, want) {
		t.Errorf("plan datasets %q, want %q", got, want)
	}
	if d := c.Spec.Sweep.Scenarios[0].Dataset; d.Path != "traffic/chat.jsonl" || d.ConfigMap != "chat-traffic" {
		t.Errorf("Plan changed the config: %+v", d)
	}
	if cms := c.Spec.Sweep.DatasetConfigMaps(); !slices.Equal(cms, []string{"chat-traffic"}) {
		t.Errorf("DatasetConfigMaps = %q", cms)
	}
	if err := p.Validate(); err != nil {
		t.Errorf("the plan does not validate: %v", err)
	}
}

// TestDatasetValidation: every problem of a dataset at its field path.
func TestDatasetValidation(t *testing.T) {
	_, err := LoadConfig([]byte(header + `spec:
  sweep:
    scenarios:
      - {name: a, dataset: {format: jsonl}}
      - {name: b, dataset: {path: x.csv, format: csv, configMap: Bad_Name}}
      - {name: c, dataset: {path: "dir/we ird.jsonl", configMap: ok}}
      - {name: d, dataset: {path: "dir/"}}
      - {name: e, dataset: {path: x.json}}
`))
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want field errors, got %v", err)
	}
	got := map[string]string{}
	for _, e := range errs {
		if strings.Contains(e.Path, ".dataset") {
			got[e.Path] = e.Msg
		}
	}
	for path, msg := range map[string]string{
		"spec.sweep.scenarios[0].dataset.path":      "is required",
		"spec.sweep.scenarios[1].dataset.format":    `must be "jsonl" or "sharegpt"`,
		"spec.sweep.scenarios[1].dataset.configMap": "DNS-1123",
		"spec.sweep.scenarios[2].dataset.path":      "key in the ConfigMap",
		"spec.sweep.scenarios[3].dataset.path":      "not a file path",
	} {
		if !strings.Contains(got[path], msg) {
			t.Errorf("%s: %q, want it to say %q", path, got[path], msg)
		}
	}
	if len(got) != 5 {
		t.Errorf("want 5 dataset errors, got %d: %v", len(got), got)
	}
}

func TestDatasetFormatOf(t *testing.T) {
	for _, tc := range []struct{ path, format, want string }{
		{"a.jsonl", "", DatasetJSONL},
		{"a.JSON", "", DatasetShareGPT},
		{"a.txt", "", DatasetJSONL},
		{"a.json", DatasetJSONL, DatasetJSONL},
	} {
		if got := DatasetFormatOf(tc.path, tc.format); got != tc.want {
			t.Errorf("DatasetFormatOf(%q, %q) = %q, want %q", tc.path, tc.format, got, tc.want)
		}
	}
}
