package prometheus

import (
	"fmt"
	"strings"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/internal/kit"
	"github.com/rhoai-demo/step07/internal/yamlenc"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// Component is the base/ folder of these objects.
const Component = "prometheus"

// ConfigMapName holds prometheus.yml.
const ConfigMapName = v1alpha1.PrometheusName + "-config"

// DataPVCName is the Prometheus TSDB volume claim.
const DataPVCName = v1alpha1.PrometheusName + "-data"

// Objects returns the local Prometheus objects.
func Objects(c *v1alpha1.ModelPerformanceMetrics) ([]kit.Object, error) {
	name := v1alpha1.PrometheusName
	cfg, err := Config(c)
	if err != nil {
		return nil, err
	}
	meta := func() metav1.ObjectMeta { return kit.Meta(c.Spec.Namespace, Component, name) }
	sa := &corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: meta(),
		// Service discovery uses the token; nothing else in the pod needs it.
		AutomountServiceAccountToken: ptr.To(true),
	}
	role := &rbacv1.Role{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
		ObjectMeta: meta(),
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{""},
			Resources: []string{"endpoints", "pods", "services"},
			Verbs:     []string{"get", "list", "watch"},
		}},
	}
	rb := &rbacv1.RoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
		ObjectMeta: meta(),
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: c.Spec.Namespace}},
	}
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: kit.Meta(c.Spec.Namespace, Component, ConfigMapName),
		Data:       map[string]string{"prometheus.yml": cfg},
	}
	svc := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta(),
		Spec: corev1.ServiceSpec{
			Selector: kit.Selector(name),
			Ports: []corev1.ServicePort{{
				Name: "http", Port: v1alpha1.PrometheusPort, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP,
			}},
		},
	}
	out := []kit.Object{sa, role, rb, cm, svc}
	if c.ScrapesDCGMElsewhere() {
		out = append(out, dcgmRBAC(c)...)
	}

	st := c.Spec.Prometheus.Storage
	data := corev1.Volume{Name: "data"}
	if st.Type == v1alpha1.StoragePVC {
		pvc := &corev1.PersistentVolumeClaim{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
			ObjectMeta: kit.Meta(c.Spec.Namespace, Component, DataPVCName),
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: mustQuantity(st.Size)}},
			},
		}
		if st.StorageClassName != "" {
			pvc.Spec.StorageClassName = ptr.To(st.StorageClassName)
		}
		out = append(out, pvc)
		data.VolumeSource = corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: DataPVCName}}
	} else {
		ed := &corev1.EmptyDirVolumeSource{}
		if st.Size != "" {
			q := mustQuantity(st.Size)
			ed.SizeLimit = &q
		}
		data.VolumeSource = corev1.VolumeSource{EmptyDir: ed}
	}

	probe := func(path string, delay int32) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:        corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("http")}},
			InitialDelaySeconds: delay, PeriodSeconds: 10, TimeoutSeconds: 5, FailureThreshold: 6,
		}
	}
	out = append(out, deployment(c, data, probe))
	return out, nil
}

// dcgmRBAC is the Role and RoleBinding that let the local Prometheus
// discover the DCGM exporter's endpoints in spec.monitoring.dcgmNamespace:
// the same read-only verbs as its Role in the config's namespace, nothing
// cluster-wide.
func dcgmRBAC(c *v1alpha1.ModelPerformanceMetrics) []kit.Object {
	name := c.PrometheusDCGMRoleName()
	meta := func() metav1.ObjectMeta {
		m := kit.Meta(c.Spec.Namespace, Component, name)
		m.Namespace = c.Spec.Monitoring.DCGMNamespace
		return m
	}
	return []kit.Object{
		&rbacv1.Role{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
			ObjectMeta: meta(),
			Rules: []rbacv1.PolicyRule{{
				APIGroups: []string{""},
				Resources: []string{"endpoints", "pods", "services"},
				Verbs:     []string{"get", "list", "watch"},
			}},
		},
		&rbacv1.RoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
			ObjectMeta: meta(),
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: v1alpha1.PrometheusName, Namespace: c.Spec.Namespace}},
		},
	}
}

// DCGMJobName is the scrape job of the DCGM exporter.
const DCGMJobName = "dcgm-exporter"

// Config renders prometheus.yml: the global scrape interval, the rules
// files, one kubernetes_sd job per model keeping only that model's
// predictor pods and their metrics port, and the DCGM job: the GPU
// operator's nvidia-dcgm-exporter Service endpoints (port gpu-metrics) in
// spec.monitoring.dcgmNamespace, at the same interval, so the power of a
// sweep step is seen at the resolution of its tokens. The DCGM job sets no
// pod or namespace target label: the exporter's own pod, namespace and
// container labels (the workload holding the GPU) stay as they are, not
// renamed exported_pod, and the dashboards match them on pod.
func Config(c *v1alpha1.ModelPerformanceMetrics) (string, error) {
	interval := kit.PromDuration(c.Spec.Prometheus.ScrapeInterval.Duration)
	type relabel struct {
		SourceLabels []string `json:"source_labels,omitempty"`
		Regex        string   `json:"regex,omitempty"`
		Action       string   `json:"action,omitempty"`
		TargetLabel  string   `json:"target_label,omitempty"`
		Replacement  string   `json:"replacement,omitempty"`
	}
	type sd struct {
		Role       string              `json:"role"`
		Namespaces map[string][]string `json:"namespaces"`
	}
	type job struct {
		JobName        string    `json:"job_name"`
		MetricsPath    string    `json:"metrics_path"`
		ScrapeInterval string    `json:"scrape_interval"`
		SDConfigs      []sd      `json:"kubernetes_sd_configs"`
		Relabel        []relabel `json:"relabel_configs"`
	}
	type global struct {
		ScrapeInterval     string `json:"scrape_interval"`
		EvaluationInterval string `json:"evaluation_interval"`
	}
	type config struct {
		Global        global   `json:"global"`
		RuleFiles     []string `json:"rule_files"`
		ScrapeConfigs []job    `json:"scrape_configs"`
	}
	cfg := config{
		Global:    global{ScrapeInterval: interval, EvaluationInterval: interval},
		RuleFiles: []string{v1alpha1.RulesMountPath + "/*.yaml"},
	}
	podLabel := func(l string) string {
		return "__meta_kubernetes_pod_label_" + strings.NewReplacer(".", "_", "/", "_", "-", "_").Replace(l)
	}
	for _, m := range c.Spec.Models {
		cfg.ScrapeConfigs = append(cfg.ScrapeConfigs, job{
			JobName:        "vllm-" + m.Name,
			MetricsPath:    "/metrics",
			ScrapeInterval: interval,
			SDConfigs:      []sd{{Role: "pod", Namespaces: map[string][]string{"names": {c.Spec.Namespace}}}},
			Relabel: []relabel{
				{SourceLabels: []string{podLabel(v1alpha1.LabelInferenceService), podLabel(v1alpha1.LabelKServeComponent)}, Regex: m.Name + ";" + v1alpha1.ComponentPredictor, Action: "keep"},
				// One target per declared container port: keep the vLLM one.
				{SourceLabels: []string{"__meta_kubernetes_pod_container_port_number"}, Regex: fmt.Sprint(m.MetricsPort), Action: "keep"},
				{SourceLabels: []string{"__meta_kubernetes_pod_phase"}, Regex: "Running", Action: "keep"},
				{SourceLabels: []string{"__meta_kubernetes_namespace"}, TargetLabel: "namespace", Action: "replace"},
				{SourceLabels: []string{"__meta_kubernetes_pod_name"}, TargetLabel: "pod", Action: "replace"},
				{SourceLabels: []string{podLabel(v1alpha1.LabelInferenceService)}, TargetLabel: "inferenceservice", Action: "replace"},
			},
		})
	}
	mo := c.Spec.Monitoring
	cfg.ScrapeConfigs = append(cfg.ScrapeConfigs, job{
		JobName:        DCGMJobName,
		MetricsPath:    "/metrics",
		ScrapeInterval: interval,
		SDConfigs:      []sd{{Role: "endpoints", Namespaces: map[string][]string{"names": {mo.DCGMNamespace}}}},
		Relabel: []relabel{
			{
				SourceLabels: []string{"__meta_kubernetes_service_name", "__meta_kubernetes_endpoint_port_name"},
				Regex:        v1alpha1.DCGMExporterService + ";" + v1alpha1.DCGMExporterPortName,
				Action:       "keep",
			},
		},
	})
	b, err := yamlenc.Marshal(cfg)
	if err != nil {
		return "", err
	}
	return "# Generated by step07gen: the local high-resolution Prometheus.\n" + string(b), nil
}
