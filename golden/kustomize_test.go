package golden

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rhoai-demo/step07/cmd/step07gen/tree"
	"github.com/rhoai-demo/step07/internal/testenv"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/yaml"
)

func kustomize(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(testenv.Kustomize(t), append([]string{"build"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("kustomize build %v: %v\n%s", args, err, errb.String())
	}
	// Without --enable-exec kustomize exits 0 with nothing: never accept that.
	if len(bytes.TrimSpace(out.Bytes())) == 0 {
		t.Fatalf("kustomize build %v printed nothing", args)
	}
	return out.Bytes()
}

// objectsOf parses a YAML stream into objects keyed kind/namespace/name.
func objectsOf(t *testing.T, stream []byte) map[string]map[string]any {
	t.Helper()
	nodes, err := kio.FromBytes(stream)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, n := range nodes {
		s, err := n.String()
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := yaml.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		out[n.GetKind()+"/"+n.GetNamespace()+"/"+n.GetName()] = m
	}
	return out
}

func ids(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// krmCopy copies a tree's krm/ folder elsewhere with the exec path pointing
// at the freshly built binary, so the test needs no `make build`.
func krmCopy(t *testing.T, treeDir string) string {
	t.Helper()
	dst := t.TempDir()
	for _, f := range []string{"kustomization.yaml", "step07.yaml"} {
		b, err := os.ReadFile(filepath.Join(treeDir, tree.KRMDir, f))
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.ReplaceAll(b, []byte("path: "+tree.DefaultExecPath), []byte("path: "+bin))
		if err := os.WriteFile(filepath.Join(dst, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestKustomizeCommittedTree: kustomize renders the committed tree with no
// plugins and its KRM folder through the function; both hold the same
// objects, field for field, and the ArgoCD objects are in neither.
func TestKustomizeCommittedTree(t *testing.T) {
	static := objectsOf(t, kustomize(t, treeDir))
	krm := objectsOf(t, kustomize(t, "--enable-alpha-plugins", "--enable-exec", krmCopy(t, treeDir)))
	compareBuilds(t, static, krm)
	argo := objectsOf(t, kustomize(t, filepath.Join(treeDir, "argocd")))
	if len(argo) != 2 {
		t.Errorf("argocd/ renders %v, want the Application and the plugin ConfigMap", ids(argo))
	}
}

// TestKustomizeGoldenTrees does the same for every golden config's tree.
func TestKustomizeGoldenTrees(t *testing.T) {
	for _, name := range configs(t, "valid") {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", "valid", name)
			static := objectsOf(t, kustomize(t, dir))
			krm := objectsOf(t, kustomize(t, "--enable-alpha-plugins", "--enable-exec", krmCopy(t, dir)))
			compareBuilds(t, static, krm)
		})
	}
}

func compareBuilds(t *testing.T, static, krm map[string]map[string]any) {
	t.Helper()
	if d := cmp.Diff(ids(static), ids(krm)); d != "" {
		t.Fatalf("static and KRM builds hold different objects (-static +krm):\n%s", d)
	}
	for id, s := range static {
		if d := cmp.Diff(s, krm[id]); d != "" {
			t.Errorf("%s differs (-static +krm):\n%s", id, d)
		}
		if strings.HasPrefix(id, "Application/") {
			t.Errorf("the tree renders its own Application %s", id)
		}
	}
}

// TestKRMIdempotent: the function keeps items it does not own, and feeding
// it its own output changes nothing.
func TestKRMIdempotent(t *testing.T) {
	cfg, err := os.ReadFile(treeConfig)
	if err != nil {
		t.Fatal(err)
	}
	var fc map[string]any
	if err := yaml.Unmarshal(cfg, &fc); err != nil {
		t.Fatal(err)
	}
	rl := map[string]any{
		"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
		"items":          []any{map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "not-ours", "namespace": "x"}}},
		"functionConfig": fc,
	}
	in, _ := yaml.Marshal(rl)
	out1, stderr, code := step07gen(t, ".", in)
	if code != 0 {
		t.Fatalf("KRM function: exit %d: %s", code, stderr)
	}
	out2, stderr, code := step07gen(t, ".", []byte(out1))
	if code != 0 {
		t.Fatalf("KRM function on its own output: exit %d: %s", code, stderr)
	}
	if d := cmp.Diff(out1, out2); d != "" {
		t.Errorf("second pass changed the output (-first +second):\n%s", d)
	}
	if !strings.Contains(out1, "name: not-ours") || !strings.Contains(out1, "kind: CronJob") {
		t.Errorf("output lacks the foreign item or the generated objects")
	}
	// A bad functionConfig fails with its field path on stderr and, kpt
	// style, in the results of the ResourceList on stdout (items unchanged).
	fc["spec"] = map[string]any{"models": []any{map[string]any{"name": "m", "gpus": 0}}}
	in, _ = yaml.Marshal(rl)
	out, stderr, code := step07gen(t, ".", in)
	if code != 2 || !strings.Contains(stderr, "spec.models[0].gpus: must be at least 1") {
		t.Errorf("bad functionConfig: exit %d, stderr %q", code, stderr)
	}
	var got struct {
		Items   []any `json:"items"`
		Results []struct {
			Message  string `json:"message"`
			Severity string `json:"severity"`
			Field    struct {
				Path string `json:"path"`
			} `json:"field"`
		} `json:"results"`
	}
	if err := yaml.Unmarshal([]byte(out), &got); err != nil || len(got.Items) != 1 || len(got.Results) != 1 ||
		got.Results[0].Severity != "error" || got.Results[0].Field.Path != "spec.models[0].gpus" || got.Results[0].Message != "must be at least 1" {
		t.Errorf("bad functionConfig: results %+v (err %v) in\n%s", got.Results, err, out)
	}
}
