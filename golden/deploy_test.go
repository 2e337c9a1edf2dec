package golden

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/internal/testenv"
)

// TestDeployScript runs the committed tree's deploy.sh against a fake
// kubectl that renders with the real kustomize and records what it is asked
// to apply: --dry-run contacts no cluster, a real run applies the tree and
// says what it applied, --argocd applies only argocd/.
func TestDeployScript(t *testing.T) {
	k := testenv.Kustomize(t)
	dir := t.TempDir()
	log := filepath.Join(dir, "calls")
	nsFile := filepath.Join(dir, "namespace-label") // exists = namespace exists; holds the managed-by label
	fake := filepath.Join(dir, "kubectl")
	script := `#!/usr/bin/env bash
echo "$*" >> ` + log + `
case "$1 $2" in
  "get namespace") [ -f ` + nsFile + ` ] || exit 1; case "$*" in *jsonpath*) cat ` + nsFile + ` ;; esac ;;
  "create namespace") : > ` + nsFile + ` ;;
  "label namespace") v=${4#*=}; [ "${4%%=*}" = argocd.argoproj.io/managed-by ] && printf %s "$v" > ` + nsFile + ` ;;
  kustomize*) exec ` + k + ` build "$2" ;;
  apply*) echo "configmap/x configured"; echo "deployment.apps/y created" ;;
  -n*) exit 1 ;; # get secret: missing
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
	out := run("--dry-run") // 27 objects (the DCGM Role and RoleBinding in the GPU operator's namespace among them) + 3 NetworkPolicies; no ServiceMonitor (RHOAI's is reused)
	if !strings.Contains(out, "dry run: would apply 30 objects from .") || strings.Contains(out, "ServiceMonitor/") || !strings.Contains(out, "CronJob/guidellm-sweep") || strings.Contains(out, "Application/") {
		t.Errorf("dry run:\n%s", out)
	}
	if b, _ := os.ReadFile(log); strings.Contains(string(b), "apply") {
		t.Errorf("dry run applied: %s", b)
	}
	out = run("--argocd", "--dry-run")
	if !strings.Contains(out, "would apply 2 objects from argocd") || !strings.Contains(out, "Application/step07-model-performance-metrics") ||
		!strings.Contains(out, "would create namespace private-ai if missing and label it argocd.argoproj.io/managed-by=openshift-gitops") {
		t.Errorf("argocd dry run:\n%s", out)
	}
	if _, err := os.Stat(nsFile); err == nil {
		t.Error("argocd dry run created the namespace")
	}
	// --argocd creates the missing namespace and labels it for openshift-gitops.
	out = run("--argocd")
	if b, _ := os.ReadFile(nsFile); string(b) != "openshift-gitops" || !strings.Contains(out, "namespace private-ai labelled argocd.argoproj.io/managed-by=openshift-gitops") || !strings.Contains(out, "applied 2 objects from argocd") {
		t.Errorf("argocd: label %q\n%s", b, out)
	}
	// A namespace another ArgoCD instance manages is not taken over.
	if err := os.WriteFile(nsFile, []byte("team-gitops"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(treeDir, "deploy.sh"), "--argocd")
	cmd.Env = append(os.Environ(), "CLI="+fake)
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "another ArgoCD instance manages it") {
		t.Errorf("foreign managed-by label: err %v\n%s", err, b)
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
