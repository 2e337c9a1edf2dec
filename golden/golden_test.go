package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rhoai-demo/step07/cmd/step07gen/tree"
)

// TestValidConfigs compares the whole generated tree of each valid config
// with testdata/valid/<name>/.
func TestValidConfigs(t *testing.T) {
	for _, name := range configs(t, "valid") {
		t.Run(name, func(t *testing.T) {
			c, raw := load(t, filepath.Join("testdata", "valid", name+".yaml"))
			files, err := tree.Files(c, raw, tree.Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for p, data := range files {
				got[p] = string(data)
			}
			dir := filepath.Join("testdata", "valid", name)
			if *update {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				if _, err := tree.Write(dir, files); err != nil {
					t.Fatal(err)
				}
			}
			want := readTree(t, dir)
			if len(want) == 0 {
				t.Fatalf("no expected files in %s: run go test ./golden -update", dir)
			}
			if d := cmp.Diff(keys(want), keys(got)); d != "" {
				t.Errorf("file list differs (-want +got):\n%s", d)
			}
			for p, w := range want {
				if g, ok := got[p]; ok && g != w {
					t.Errorf("%s differs (-want +got):\n%s", p, diffText(w, g))
				}
			}
		})
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}

// TestInvalidConfigs runs the real command on each invalid config: exit 2,
// the expected message (testdata/invalid/<name>.err), and no file written
// by generate, diff or fn.
func TestInvalidConfigs(t *testing.T) {
	names := configs(t, "invalid")
	if len(names) < 25 {
		t.Fatalf("want at least 25 invalid configs, have %d", len(names))
	}
	dir := filepath.Join("testdata", "invalid")
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "tree")
			_, stderr, code := step07gen(t, dir, nil, "generate", "--config", name+".yaml", "--out", out)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr:\n%s", code, stderr)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("generate wrote %s after a config error", out)
			}
			errFile := filepath.Join(dir, name+".err")
			if *update {
				if err := os.WriteFile(errFile, []byte(stderr), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(errFile)
			if err != nil {
				t.Fatalf("%v: run go test ./golden -update", err)
			}
			if d := diffText(string(want), stderr); d != "" {
				t.Errorf("message differs (-want +got):\n%s", d)
			}
			if !strings.Contains(stderr, "nothing was written") {
				t.Errorf("message does not say nothing was written:\n%s", stderr)
			}
			if _, _, code := step07gen(t, dir, nil, "diff", "--config", name+".yaml", "--out", out); code != 2 {
				t.Errorf("diff: exit %d, want 2", code)
			}
			if stdout, _, code := step07gen(t, dir, nil, "fn", name+".yaml"); code != 2 || stdout != "" {
				t.Errorf("fn: exit %d, want 2, stdout %q", code, stdout)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s exists after diff/fn on a bad config", out)
			}
		})
	}
}

// TestExpectedMessages pins the field path and message of each required
// kind of invalid config, so a golden refresh cannot lose them silently.
func TestExpectedMessages(t *testing.T) {
	want := map[string]string{
		"unknown-field":        "spec.replicas: unknown field",
		"wrong-type":           `spec.models[0].gpus: must be an integer, got string "four"`,
		"missing-model-name":   "spec.models[0].name: is required",
		"duplicate-model-name": `spec.models[1].name: duplicate model "m"`,
		"name-not-dns1123":     `spec.models[0].name: "Mistral_3" is not a DNS-1123 label`,
		"gpus-zero":            "spec.models[0].gpus: must be at least 1",
		"bad-cron":             `spec.sweep.schedule: invalid cron schedule "every day"`,
		"bad-duration":         `spec.sweep.stepDuration: invalid duration "5 minutes"`,
		"bad-quantity":         `spec.sweep.results.size: invalid quantity "lots"`,
		"bad-url":              `spec.models[0].endpoint: invalid URL "predictor:8080"`,
		"sla-out-of-order":     "spec.sweep.sla.ttft: thresholds out of order",
		"empty-scenarios":      "spec.sweep.scenarios: must list at least one scenario",
		"bad-platform":         `spec.platform: must be "openshift" or "kubernetes", got "eks"`,
		"bad-retention":        `spec.prometheus.retention: invalid retention "forever"`,
		"wrong-kind":           `kind: must be "ModelPerformanceMetrics", got "ConfigMap"`,
		"invalid-yaml":         "(file): invalid YAML",
		// Issue 7's corpus: the input no config should survive.
		"wrong-api-version":          `apiVersion: must be "step07.rhoai-demo.io/v1alpha1", got "step07.rhoai-demo.io/v1beta1"`,
		"negative-numbers":           "spec.sweep.maxConcurrency: must be at least 1",
		"negative-duration":          `spec.sweep.warmup: must not be negative, got "-10s"`,
		"negative-quantity":          `spec.prometheus.storage.size: must be greater than zero, got "-5Gi"`,
		"cron-four-fields":           `spec.sweep.schedule: invalid cron schedule "0 2 * *"`,
		"bad-repo-url":               `spec.argocd.repoURL: invalid URL "git@github.com:rhoai-demo/step07.git"`,
		"external-endpoint":          `spec.models[0].endpoint: host "api.example.com" is outside the cluster`,
		"bad-network-policies":       `spec.networkPolicies.apiServerCIDRs[1]: invalid CIDR "not-a-cidr"`,
		"empty-file":                 "(file): is empty",
		"multi-document":             "(file): holds 2 YAML documents",
		"binary-garbage":             "(file): is binary",
		"non-utf8-garbage":           "(file): invalid YAML",
		"deeply-nested":              "(file): invalid YAML: yaml: line 3: exceeded max depth of 10000",
		"alias-bomb":                 "(file): YAML aliases expand the document to more than 1048576 bytes",
		"alias-bomb-wide":            "(file): YAML aliases expand the document to more than 1048576 bytes",
		"duplicate-key":              `(file): invalid YAML: yaml: unmarshal errors: line 5: key "namespace" already set in map`,
		"integer-overflow":           "spec.sweep.maxConcurrency: must be an integer",
		"concurrency-zero-unordered": "spec.sweep.concurrency[2]: must be greater than the step before it (8)",
		"shards-out-of-range":        "spec.sweep.shards: must be within 1..64",
	}
	for name, msg := range want {
		b, err := os.ReadFile(filepath.Join("testdata", "invalid", name+".err"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), msg) {
			t.Errorf("%s.err lacks %q:\n%s", name, msg, b)
		}
	}
	// All problems of a config are reported at once.
	b, _ := os.ReadFile(filepath.Join("testdata", "invalid", "many-problems.err"))
	for _, msg := range []string{"spec.namespace:", "spec.models[0].gpus:", "spec.models[1].name: duplicate", "spec.sweep.maxConcurrency:"} {
		if !strings.Contains(string(b), msg) {
			t.Errorf("many-problems.err lacks %q:\n%s", msg, b)
		}
	}
}
