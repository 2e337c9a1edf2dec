package golden

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/internal/testenv"
)

// TestAPIServer proves every generated object against a real kube-apiserver
// (the pinned v1.35.4 from make tools, with its own etcd): the CRDs of the
// kinds the trees use are installed for real, each tree's namespaces are
// created with Pod Security "restricted" enforced, warned and audited, and
// then every object is server-side applied with --dry-run=server, so it goes
// through decoding, OpenAPI/CRD schema validation, defaulting and admission
// (Pod Security included) without being stored. Checked, for every golden
// config (both platforms) and the committed tree: the committed base/ build,
// the KRM function's output, the argocd/ folder, and argocd/patches applied
// the way their comments say. No errors and no warnings are allowed; the
// last subtest shows that the same check does refuse broken objects (a label
// value too long, a field no schema knows, a privileged Pod and Deployment).
func TestAPIServer(t *testing.T) {
	// Everything from make tools is looked up first, so a missing piece
	// skips (or fails, under CI) before anything starts.
	crdDir, manifests := testenv.CRDDir(t), testenv.ManifestsDir(t)
	testenv.Kustomize(t)
	begin := time.Now()
	s := testenv.StartAPIServer(t)
	t.Logf("etcd + kube-apiserver ready in %v", s.Startup.Round(time.Millisecond))

	start := time.Now()
	s.MustKubectl(t, nil, "apply", "--server-side", "--field-manager=step07-test", "-f", crdDir)
	s.WaitCRDsEstablished(t)
	t.Logf("CRDs applied and Established in %v: %s", time.Since(start).Round(time.Millisecond),
		strings.Join(strings.Fields(s.MustKubectl(t, nil, "get", "crd", "-o", "name")), " "))

	trees := apiServerTrees(t)
	start = time.Now()
	var nss []string
	seen := map[string]bool{}
	for _, tr := range trees {
		for _, ns := range []string{tr.namespace, tr.argoNamespace, tr.dcgmNamespace} {
			if !seen[ns] {
				seen[ns] = true
				nss = append(nss, ns)
			}
		}
	}
	const negativeNS = "step07-negative"
	nss = append(nss, negativeNS)
	sort.Strings(nss)
	s.MustKubectl(t, []byte(restrictedNamespaces(nss)), "apply", "--server-side", "--field-manager=step07-test", "-f", "-")
	t.Logf("namespaces (Pod Security restricted) with their default ServiceAccount in %v: %s",
		time.Since(start).Round(time.Millisecond), strings.Join(nss, " "))

	for _, tr := range trees {
		t.Run(tr.name, func(t *testing.T) {
			start := time.Now()
			dryRunClean(t, s, "base/ (kustomize build "+tr.rel+")", kustomize(t, tr.dir))
			dryRunClean(t, s, "KRM function output (krm/)",
				kustomize(t, "--enable-alpha-plugins", "--enable-exec", krmCopy(t, tr.dir)))
			dryRunClean(t, s, "argocd/", kustomize(t, filepath.Join(tr.dir, "argocd")))
			checkPatches(t, s, filepath.Join(tr.dir, "argocd", "patches"), manifests)
			t.Logf("%s (%s): dry-runs in %v", tr.rel, tr.platform, time.Since(start).Round(time.Millisecond))
		})
	}

	t.Run("refuses broken objects", func(t *testing.T) {
		start := time.Now()
		long := strings.Repeat("x", 64)
		problems := dryRun(t, s, []byte(fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: long-label
  namespace: %s
  labels:
    app.kubernetes.io/name: %s
`, negativeNS, long)))
		wantProblem(t, "a 64-character label value", problems, "must be no more than 63")

		// CRD schemas are checked too: server-side apply types the object
		// with the CRD's schema and refuses a field it does not declare.
		problems = dryRun(t, s, []byte(fmt.Sprintf(`apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: misspelt
  namespace: %s
spec:
  selector: {}
  endpoints:
  - port: metrics
    intervall: 30s
`, negativeNS)))
		wantProblem(t, "a ServiceMonitor with an unknown field", problems, ".spec.endpoints[0].intervall: field not declared in schema")

		problems = dryRun(t, s, []byte(privileged("Pod", negativeNS)))
		wantProblem(t, "a privileged Pod", problems, `violates PodSecurity "restricted:latest"`, "privileged")

		problems = dryRun(t, s, []byte(privileged("Deployment", negativeNS)))
		wantProblem(t, "a privileged Deployment", problems, "Warning:", `would violate PodSecurity "restricted:latest"`, "privileged")
		t.Logf("broken objects refused or warned in %v", time.Since(start).Round(time.Millisecond))
	})
	// deploy.sh --argocd for real: the namespace the Application deploys
	// to is created when missing and labelled for the ArgoCD instance (its
	// controller may not write elsewhere), the Application and plugin
	// ConfigMap are applied, and a namespace another instance manages is
	// left alone.
	t.Run("deploy.sh --argocd labels the namespace", func(t *testing.T) {
		start := time.Now()
		dir := t.TempDir()
		cfg := filepath.Join(dir, "step07.yaml")
		const ns = "fresh-models"
		if err := os.WriteFile(cfg, []byte("apiVersion: step07.rhoai-demo.io/v1alpha1\nkind: ModelPerformanceMetrics\nspec:\n  namespace: "+ns+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "tree")
		if _, stderr, code := step07gen(t, dir, nil, "generate", "--config", cfg, "--out", out); code != 0 {
			t.Fatalf("generate: %s", stderr)
		}
		deploy := func(args ...string) (string, error) {
			cmd := exec.Command(filepath.Join(out, "deploy.sh"), args...)
			cmd.Env = append(os.Environ(), "CLI="+testenv.Kubectl(t), "KUBECONFIG="+s.Kubeconfig)
			b, err := cmd.CombinedOutput()
			return string(b), err
		}
		if o, err := deploy("--argocd"); err != nil || !strings.Contains(o, "namespace "+ns+" labelled argocd.argoproj.io/managed-by=openshift-gitops") {
			t.Fatalf("deploy.sh --argocd: %v\n%s", err, o)
		}
		label := s.MustKubectl(t, nil, "get", "namespace", ns, "-o", `jsonpath={.metadata.labels.argocd\.argoproj\.io/managed-by}`)
		if label != "openshift-gitops" {
			t.Errorf("namespace %s: managed-by %q, want openshift-gitops", ns, label)
		}
		if got := s.MustKubectl(t, nil, "-n", "openshift-gitops", "get", "application", "step07-model-performance-metrics", "-o", "jsonpath={.spec.destination.namespace}"); got != ns {
			t.Errorf("Application destination %q, want %s", got, ns)
		}
		// Idempotent, then refused for a namespace another instance manages.
		if o, err := deploy("--argocd"); err != nil {
			t.Fatalf("second deploy.sh --argocd: %v\n%s", err, o)
		}
		s.MustKubectl(t, nil, "label", "namespace", ns, "argocd.argoproj.io/managed-by=team-gitops", "--overwrite")
		if o, err := deploy("--argocd"); err == nil || !strings.Contains(o, "another ArgoCD instance manages it") {
			t.Errorf("foreign managed-by label: %v\n%s", err, o)
		}
		t.Logf("deploy.sh --argocd against the API server in %v", time.Since(start).Round(time.Millisecond))
	})
	t.Logf("TestAPIServer total %v", time.Since(begin).Round(time.Millisecond))
}

// apiServerTree is one generated tree and the namespaces its config names
// (the GPU operator's too: the local Prometheus has a Role there).
type apiServerTree struct {
	name, dir, rel                     string
	platform, namespace, argoNamespace string
	dcgmNamespace                      string
}

// apiServerTrees: every golden config's tree and the committed tree, with
// both platforms present.
func apiServerTrees(t *testing.T) []apiServerTree {
	t.Helper()
	var out []apiServerTree
	add := func(name, config, dir string) {
		c, _ := load(t, config)
		rel, err := filepath.Rel(repoRoot(), dir)
		if err != nil {
			rel = dir
		}
		out = append(out, apiServerTree{
			name: name, dir: dir, rel: filepath.ToSlash(rel),
			platform: c.Spec.Platform, namespace: c.Spec.Namespace, argoNamespace: c.Spec.ArgoCD.Namespace,
			dcgmNamespace: c.Spec.Monitoring.DCGMNamespace,
		})
	}
	for _, name := range configs(t, "valid") {
		add(name, filepath.Join("testdata", "valid", name+".yaml"), filepath.Join(repoRoot(), "golden", "testdata", "valid", name))
	}
	add("committed-tree", treeConfig, treeDir)
	platforms := map[string]bool{}
	for _, tr := range out {
		if tr.namespace == "" || tr.argoNamespace == "" {
			t.Fatalf("%s: no namespace or Argo CD namespace after defaulting", tr.rel)
		}
		platforms[tr.platform] = true
	}
	if !platforms["openshift"] || !platforms["kubernetes"] {
		t.Fatalf("the trees cover platforms %v, want both openshift and kubernetes", platforms)
	}
	return out
}

// restrictedNamespaces: Namespaces enforcing (and warning and auditing) Pod
// Security restricted, each with the default ServiceAccount a
// controller-manager would create.
func restrictedNamespaces(names []string) string {
	var b strings.Builder
	for _, ns := range names {
		fmt.Fprintf(&b, `---
apiVersion: v1
kind: Namespace
metadata:
  name: %[1]q
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/warn: restricted
    pod-security.kubernetes.io/audit: restricted
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: default
  namespace: %[1]q
`, ns)
	}
	return b.String()
}

// dryRun server-side applies a YAML stream with --dry-run=server and returns
// every problem: the error of a refused apply and each line on stderr
// (kubectl prints the server's warnings there, Pod Security's included).
// It also checks that each object of the stream was applied, so an empty or
// half-read stream cannot pass.
func dryRun(t *testing.T, s *testenv.APIServer, stream []byte) []string {
	t.Helper()
	out, errOut, err := s.Kubectl(stream, "apply", "--server-side", "--dry-run=server", "--field-manager=step07gen", "-f", "-")
	var problems []string
	if err != nil {
		problems = append(problems, "kubectl apply: "+err.Error())
	}
	for _, l := range strings.Split(errOut, "\n") {
		if strings.TrimSpace(l) != "" {
			problems = append(problems, l)
		}
	}
	if err == nil {
		want := len(objectsOf(t, stream))
		got := strings.Count(out, "serverside-applied (server dry run)")
		if want == 0 || got != want {
			problems = append(problems, fmt.Sprintf("%d objects in the stream, %d applied:\n%s", want, got, out))
		}
	}
	return problems
}

// dryRunClean fails the test on any problem dryRun reports.
func dryRunClean(t *testing.T, s *testenv.APIServer, what string, stream []byte) {
	t.Helper()
	start := time.Now()
	problems := dryRun(t, s, stream)
	if len(problems) > 0 {
		t.Errorf("%s: the API server refused or warned (want neither):\n  %s", what, strings.Join(problems, "\n  "))
		return
	}
	t.Logf("%s: %d objects accepted, no warnings (%v)", what, len(objectsOf(t, stream)), time.Since(start).Round(time.Millisecond))
}

// checkPatches applies each argocd/patches file the way its comment tells an
// operator to, in dry-run, to a real target object: the ArgoCD CR (OpenShift
// GitOps) gets a merge patch, Argo CD's own argocd-repo-server Deployment
// (plain Kubernetes, from the pinned argo-cd module) a strategic merge patch.
// A patch that is a whole object (the ArgoCD CR) is also applied as one.
func checkPatches(t *testing.T, s *testenv.APIServer, dir, manifests string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(files) == 0 {
		t.Fatalf("no patches under %s", dir)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs := objectsOf(t, raw)
		if len(objs) != 1 {
			t.Fatalf("%s: %d objects, want one patch", f, len(objs))
		}
		var kind, ns, name string
		for id := range objs {
			parts := strings.SplitN(id, "/", 3)
			kind, ns, name = parts[0], parts[1], parts[2]
		}
		what := "argocd/patches/" + filepath.Base(f) + " (" + kind + " " + ns + "/" + name + ")"
		var patchType string
		switch kind {
		case "ArgoCD":
			// The operator's CR as it exists on a cluster (its fields all
			// optional), then the patch also as an object of its own.
			s.MustKubectl(t, []byte(fmt.Sprintf("apiVersion: argoproj.io/v1beta1\nkind: ArgoCD\nmetadata:\n  name: %s\n  namespace: %s\nspec: {}\n", name, ns)),
				"apply", "--server-side", "--field-manager=step07-test", "-f", "-")
			dryRunClean(t, s, what+" as an object", raw)
			patchType = "merge"
		case "Deployment":
			if name != "argocd-repo-server" {
				t.Fatalf("%s: patches Deployment %s, the test only has argocd-repo-server", f, name)
			}
			// Argo CD's own Deployment, stored for real: Pod Security
			// restricted takes it without a warning.
			s.MustKubectl(t, nil, "apply", "--server-side", "--field-manager=step07-test", "-n", ns,
				"-f", filepath.Join(manifests, "argocd-repo-server-deployment.yaml"))
			patchType = "strategic"
		default:
			t.Fatalf("%s: patch of a %s, the test knows ArgoCD and Deployment", f, kind)
		}
		target := strings.ToLower(kind) + "/" + name
		version := func() string {
			return s.MustKubectl(t, nil, "-n", ns, "get", target, "-o", "jsonpath={.metadata.resourceVersion}")
		}
		before := version()
		start := time.Now()
		out, errOut, err := s.Kubectl(nil, "-n", ns, "patch", target,
			"--type", patchType, "--patch-file", f, "--dry-run=server")
		if err != nil || strings.TrimSpace(errOut) != "" || !strings.Contains(out, " patched") {
			t.Errorf("%s: kubectl patch --type %s: %v\nstderr:\n%s\nstdout:\n%s", what, patchType, err, errOut, out)
			continue
		}
		if after := version(); after != before {
			t.Errorf("%s: the dry-run patch was stored (resourceVersion %s -> %s)", what, before, after)
		}
		t.Logf("%s: %s patch accepted, no warnings (%v)", what, patchType, time.Since(start).Round(time.Millisecond))
	}
}

// privileged is a Pod or Deployment Pod Security restricted refuses.
func privileged(kind, ns string) string {
	pod := `    spec:
      containers:
      - name: root
        image: registry.example.com/busybox:1
        securityContext:
          privileged: true
`
	if kind == "Pod" {
		return fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: privileged\n  namespace: %s\n", ns) +
			strings.ReplaceAll(strings.TrimPrefix(pod, "    "), "\n    ", "\n")
	}
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: privileged
  namespace: %s
spec:
  selector:
    matchLabels: {app: privileged}
  template:
    metadata:
      labels: {app: privileged}
`, ns) + pod
}

// wantProblem checks that dryRun reported a problem holding every want.
func wantProblem(t *testing.T, what string, problems []string, want ...string) {
	t.Helper()
	all := strings.Join(problems, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("%s: want a problem mentioning %q, got:\n%s", what, w, all)
			return
		}
	}
	t.Logf("%s: refused or warned as it should be:\n  %s", what, strings.Join(problems, "\n  "))
}
