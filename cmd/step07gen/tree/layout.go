package tree

import (
	"fmt"
	"path"
	"strings"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/generators"
	"github.com/rhoai-demo/step07/internal/kit"
	"github.com/rhoai-demo/step07/internal/manifest"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// KRMDir is the folder rendering the tree through the KRM function.
const KRMDir = "krm"

// DefaultExecPath is where kustomize finds step07gen for the KRM folder.
// kustomize resolves exec paths against the kustomization root (the krm/
// folder), so this is the repository's bin/ for a tree at
// gitops/step-07-model-performance-metrics: `make build` puts it there.
const DefaultExecPath = "../../../bin/step07gen"

// Options tune the layout.
type Options struct {
	// ExecPath is the exec path written into krm/step07.yaml.
	ExecPath string
}

// Files returns every file of the tree by slash-separated path relative to
// the output folder, the ManifestName listing included: which file holds
// which object (base/<component>/<kind>-<name>.yaml, the argocd/ folder),
// the kustomizations, the KRM folder and deploy.sh. raw is the config file
// as the user wrote it; c is the loaded (defaulted, valid) config.
func Files(c *v1alpha1.ModelPerformanceMetrics, raw []byte, opt Options) (map[string][]byte, error) {
	if opt.ExecPath == "" {
		opt.ExecPath = DefaultExecPath
	}
	files := map[string][]byte{}
	var dup []string
	add := func(p string, data []byte) {
		if _, ok := files[p]; ok {
			dup = append(dup, p)
		}
		files[p] = data
	}
	// objects writes each object into dir, one file each, and returns the
	// file names.
	objects := func(dir string, objs []kit.Object) ([]string, error) {
		var names []string
		for _, o := range objs {
			b, err := manifest.Encode(o)
			if err != nil {
				return nil, err
			}
			add(dir+"/"+FileName(o), withMarker(b))
			names = append(names, FileName(o))
		}
		return names, nil
	}

	comps, err := generators.Components(c)
	if err != nil {
		return nil, err
	}
	var compDirs []string
	for _, comp := range comps {
		names, err := objects("base/"+comp.Name, comp.Objects)
		if err != nil {
			return nil, err
		}
		add("base/"+comp.Name+"/kustomization.yaml", kustomization("resources", names))
		compDirs = append(compDirs, comp.Name)
	}
	add("base/kustomization.yaml", kustomization("resources", compDirs))
	add("kustomization.yaml", kustomization("resources", []string{"base"}))

	krm, err := KRMConfig(raw, opt.ExecPath)
	if err != nil {
		return nil, err
	}
	add(KRMDir+"/step07.yaml", krm)
	add(KRMDir+"/kustomization.yaml", kustomization("generators", []string{"step07.yaml"}))

	app, err := generators.ArgoCD(c)
	if err != nil {
		return nil, err
	}
	appFiles, err := objects("argocd", app)
	if err != nil {
		return nil, err
	}
	add("argocd/kustomization.yaml", kustomization("resources", appFiles))
	patch, err := generators.SidecarPatch(c)
	if err != nil {
		return nil, err
	}
	pb, err := manifest.EncodeValue(patch.Object)
	if err != nil {
		return nil, err
	}
	add("argocd/patches/repo-server-sidecar.yaml", append([]byte(Marker+"\n"+sidecarComment(c)), pb...))
	deploy, err := deployScript(c)
	if err != nil {
		return nil, err
	}
	add("deploy.sh", deploy)
	if len(dup) > 0 {
		return nil, fmt.Errorf("two objects would be written to %s", strings.Join(dup, ", "))
	}
	addManifest(files)
	return files, nil
}

// FileName is <kind>-<name>.yaml, lower case.
func FileName(o kit.Object) string {
	return strings.ToLower(kit.Kind(o)) + "-" + o.GetName() + ".yaml"
}

func withMarker(b []byte) []byte { return append([]byte(Marker+"\n"), b...) }

func kustomization(field string, entries []string) []byte {
	var b strings.Builder
	b.WriteString(Marker + "\n")
	b.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n")
	b.WriteString(field + ":\n")
	for _, e := range entries {
		b.WriteString("  - " + e + "\n")
	}
	return []byte(b.String())
}

// FunctionAnnotation marks a config as an exec KRM function.
const FunctionAnnotation = "config.kubernetes.io/function"

// KRMConfig is the user's config, comments kept, with the exec function
// annotation and a metadata.name (kustomize needs one).
func KRMConfig(raw []byte, execPath string) ([]byte, error) {
	n, err := kyaml.Parse(string(raw))
	if err != nil {
		return nil, err
	}
	if n.GetName() == "" {
		if err := n.SetName("step07"); err != nil {
			return nil, err
		}
	}
	if err := n.PipeE(kyaml.SetAnnotation(FunctionAnnotation, "exec:\n  path: "+execPath+"\n")); err != nil {
		return nil, err
	}
	if v, err := n.Pipe(kyaml.Lookup("metadata", "annotations", FunctionAnnotation)); err == nil && v != nil {
		v.YNode().Style = kyaml.LiteralStyle // readable: the same text the kustomize docs show
	}
	s, err := n.String()
	if err != nil {
		return nil, err
	}
	head := Marker + "\n# A copy of ../step07.yaml that kustomize runs as an exec KRM function:\n" +
		"#   kustomize build --enable-alpha-plugins --enable-exec " + KRMDir + "\n" +
		"# The exec path resolves against this folder; build step07gen first (make build).\n"
	return []byte(head + s), nil
}

func sidecarComment(c *v1alpha1.ModelPerformanceMetrics) string {
	ns := c.Spec.ArgoCD.Namespace
	if c.Spec.Platform == v1alpha1.PlatformOpenShift {
		return "# Runs the step07gen Config Management Plugin next to the ArgoCD repo-server.\n" +
			"# OpenShift GitOps owns the repo-server Deployment, so patch its ArgoCD CR (a merge\n" +
			"# patch replaces the lists: merge by hand if sidecarContainers or volumes are set):\n" +
			"#   oc -n " + ns + " patch argocd " + ns + " --type merge --patch-file " + path.Join("argocd", "patches", "repo-server-sidecar.yaml") + "\n" +
			"# The image must hold step07gen on PATH; argocd-cmp-server comes from the shared var-files volume.\n"
	}
	return "# Runs the step07gen Config Management Plugin next to the Argo CD repo-server:\n" +
		"#   kubectl -n " + ns + " patch deployment argocd-repo-server --patch-file " + path.Join("argocd", "patches", "repo-server-sidecar.yaml") + "\n" +
		"# The image must hold step07gen on PATH; argocd-cmp-server comes from the shared var-files volume.\n"
}
