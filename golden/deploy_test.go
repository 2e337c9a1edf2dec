package golden

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/internal/testtools"
)

// TestDeployScript runs the committed tree's deploy.sh against a fake
// kubectl that renders with the real kustomize and records what it is asked
// to apply: --dry-run contacts no cluster, a real run applies the tree and
// says what it applied, --argocd applies only argocd/.
func TestDeployScript(t *testing.T) {
	k := testtools.Kustomize(t)
	dir := t.TempDir()
	log := filepath.Join(dir, "calls")
	fake := filepath.Join(dir, "kubectl")
	script := `#!/usr/bin/env bash
echo "$*" >> ` + log + `
case "$1" in
  kustomize) exec ` + k + ` build "$2" ;;
  apply) echo "configmap/x configured"; echo "deployment.apps/y created" ;;
  -n) exit 1 ;; # get secret: missing
  *) exit 3 ;;
esac
`
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		cmd := exec.Command(filepath.Join(treeDir, "deploy.sh"), args...)
		cmd.Env = append(os.Environ(), "CLI="+fake)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("deploy.sh %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	out := run("--dry-run") // 27 objects + 3 NetworkPolicies
	if !strings.Contains(out, "dry run: would apply 30 objects from .") || !strings.Contains(out, "CronJob/guidellm-sweep") || strings.Contains(out, "Application/") {
		t.Errorf("dry run:\n%s", out)
	}
	if b, _ := os.ReadFile(log); strings.Contains(string(b), "apply") {
		t.Errorf("dry run applied: %s", b)
	}
	out = run("--argocd", "--dry-run")
	if !strings.Contains(out, "would apply 2 objects from argocd") || !strings.Contains(out, "Application/step07-model-performance-metrics") {
		t.Errorf("argocd dry run:\n%s", out)
	}
	out = run()
	if !strings.Contains(out, "applied 2 objects from .") || !strings.Contains(out, "create secret generic perf-grafana-admin") {
		t.Errorf("apply:\n%s", out)
	}
	if b, _ := os.ReadFile(log); !strings.Contains(string(b), "apply -k .") {
		t.Errorf("calls: %s", b)
	}
	if out := run("--sweep-now", "--dry-run"); !strings.Contains(out, "oc create job --from=cronjob/guidellm-sweep") {
		t.Errorf("sweep dry run:\n%s", out)
	}
}
