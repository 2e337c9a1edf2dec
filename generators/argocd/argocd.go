package argocd

import (
	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/internal/kit"
	"github.com/rhoai-demo/step07/internal/yamlenc"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

// Component is the folder name (argocd/) and component label.
const Component = "argocd"

// Names of the generated objects (the Application's, which deploy.sh
// prints too, is v1alpha1.ArgoCDApplicationName).
const (
	PluginName      = "step07gen"
	PluginConfigMap = "step07gen-cmp"
	// ConfigFile is the file the plugin discovers and renders.
	ConfigFile = "step07.yaml"
)

// Objects returns the Application and the plugin ConfigMap: what
// `kubectl apply -k argocd/` installs.
func Objects(c *v1alpha1.ModelPerformanceMetrics) ([]kit.Object, error) {
	plugin, err := PluginYAML()
	if err != nil {
		return nil, err
	}
	a := c.Spec.ArgoCD
	source := map[string]any{
		"repoURL":        a.RepoURL,
		"targetRevision": a.Revision,
		"path":           a.Path,
	}
	if a.Plugin {
		source["plugin"] = map[string]any{"name": PluginName}
	}
	app := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "Application",
		"metadata":   metaMap(kit.ClusterMeta(Component, v1alpha1.ArgoCDApplicationName), a.Namespace),
		"spec": map[string]any{
			"project": a.Project,
			"source":  source,
			"destination": map[string]any{
				"server":    "https://kubernetes.default.svc",
				"namespace": c.Spec.Namespace,
			},
			"syncPolicy": map[string]any{
				"automated":   map[string]any{"prune": true, "selfHeal": true},
				"syncOptions": []any{"ApplyOutOfSyncOnly=true"},
			},
		},
	}}
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: kit.ClusterMeta(Component, PluginConfigMap),
		Data:       map[string]string{"plugin.yaml": plugin},
	}
	cm.Namespace = a.Namespace
	return []kit.Object{app, cm}, nil
}

func metaMap(m metav1.ObjectMeta, ns string) map[string]any {
	labels := map[string]any{}
	for k, v := range m.Labels {
		labels[k] = v
	}
	return map[string]any{"name": m.Name, "namespace": ns, "labels": labels}
}

// PluginYAML is the ConfigManagementPlugin: in any app folder holding
// step07.yaml it prints the objects step07gen generates from it.
func PluginYAML() (string, error) {
	b, err := yamlenc.Marshal(map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "ConfigManagementPlugin",
		"metadata":   map[string]any{"name": PluginName},
		"spec": map[string]any{
			"discover": map[string]any{"fileName": "./" + ConfigFile},
			"generate": map[string]any{"command": []string{"step07gen", "fn", ConfigFile}},
		},
	})
	return string(b), err
}

// SidecarPatch is the repo-server change that runs the plugin: on OpenShift
// a merge patch for the ArgoCD CR (the operator owns the repo-server
// Deployment and would revert a patch to it), on Kubernetes a strategic
// merge patch for the argocd-repo-server Deployment.
func SidecarPatch(c *v1alpha1.ModelPerformanceMetrics) (*unstructured.Unstructured, error) {
	a := c.Spec.ArgoCD
	ctr := corev1.Container{
		Name:    PluginName,
		Image:   a.PluginImage,
		Command: []string{"/var/run/argocd/argocd-cmp-server"},
		SecurityContext: &corev1.SecurityContext{
			RunAsNonRoot:             ptr.To(true),
			AllowPrivilegeEscalation: ptr.To(false),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Resources: kit.Resources("50m", "64Mi", "500m", "256Mi"),
		VolumeMounts: []corev1.VolumeMount{
			{Name: "var-files", MountPath: "/var/run/argocd"},
			{Name: "plugins", MountPath: "/home/argocd/cmp-server/plugins"},
			{Name: PluginConfigMap, MountPath: "/home/argocd/cmp-server/config/plugin.yaml", SubPath: "plugin.yaml"},
			{Name: PluginName + "-tmp", MountPath: "/tmp"},
		},
	}
	vols := []corev1.Volume{
		{Name: PluginConfigMap, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: PluginConfigMap}}}},
		{Name: PluginName + "-tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}
	ctrMap, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&ctr)
	if err != nil {
		return nil, err
	}
	var volList []any
	for i := range vols {
		v, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&vols[i])
		if err != nil {
			return nil, err
		}
		volList = append(volList, v)
	}
	if c.Spec.Platform == v1alpha1.PlatformOpenShift {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "argoproj.io/v1beta1",
			"kind":       "ArgoCD",
			"metadata":   map[string]any{"name": a.Namespace, "namespace": a.Namespace},
			"spec": map[string]any{"repo": map[string]any{
				"sidecarContainers": []any{ctrMap},
				"volumes":           volList,
			}},
		}}, nil
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1",
		"kind":       "Deployment",
		"metadata":   map[string]any{"name": "argocd-repo-server", "namespace": a.Namespace},
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
			"containers": []any{ctrMap},
			"volumes":    volList,
		}}},
	}}, nil
}
