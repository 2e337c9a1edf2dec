package servicemonitor

import (
	"fmt"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	prommodel "github.com/prometheus/common/model"
	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/generators"
	"github.com/rhoai-demo/step07/internal/kit"
	"github.com/rhoai-demo/step07/internal/yamlenc"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Labels RHOAI (KServe) puts on predictor pods and Services.
const (
	LabelInferenceService = "serving.kserve.io/inferenceservice"
	LabelComponent        = "component"
	ComponentPredictor    = "predictor"
)

// Components under base/ this package's objects belong to.
const (
	ComponentServiceMonitor = "servicemonitor"
	ComponentPrometheus     = "prometheus"
)

// ConfigMapName holds prometheus.yml.
const ConfigMapName = v1alpha1.PrometheusName + "-config"

// DataPVCName is the Prometheus TSDB volume claim.
const DataPVCName = v1alpha1.PrometheusName + "-data"

// Name is the ServiceMonitor name of a model. RHOAI itself creates
// <isvc>-metrics; the suffix keeps ours apart.
func Name(model string) string { return model + "-perf-metrics" }

// Objects returns the ServiceMonitors and the local Prometheus.
func Objects(c *v1alpha1.ModelPerformanceMetrics) ([]generators.Object, error) {
	out := ServiceMonitors(c)
	p, err := Prometheus(c)
	if err != nil {
		return nil, err
	}
	return append(out, p...), nil
}

// PromDuration writes a duration the way Prometheus and the operator's CRD
// accept it ("5s", "1m", not Go's "1m0s").
func PromDuration(d v1alpha1.Duration) string { return prommodel.Duration(d.Duration).String() }

// ServiceMonitors returns one ServiceMonitor per model, or none when
// spec.monitoring.serviceMonitor is platform: OpenShift AI's
// odh-model-controller already creates <isvc>-metrics for every vLLM
// InferenceService, and a second one would make user-workload monitoring
// scrape each pod twice.
func ServiceMonitors(c *v1alpha1.ModelPerformanceMetrics) []generators.Object {
	if c.Spec.Monitoring.ServiceMonitor != v1alpha1.ServiceMonitorOwn {
		return nil
	}
	var out []generators.Object
	for _, m := range c.Spec.Models {
		port := intstr.FromInt32(int32(m.MetricsPort))
		sm := &monitoringv1.ServiceMonitor{
			TypeMeta:   metav1.TypeMeta{APIVersion: monitoringv1.SchemeGroupVersion.String(), Kind: monitoringv1.ServiceMonitorsKind},
			ObjectMeta: kit.Meta(c, ComponentServiceMonitor, Name(m.Name)),
			Spec: monitoringv1.ServiceMonitorSpec{
				Selector: metav1.LabelSelector{MatchLabels: map[string]string{
					LabelInferenceService: m.Name,
					LabelComponent:        ComponentPredictor,
				}},
				NamespaceSelector: monitoringv1.NamespaceSelector{MatchNames: []string{c.Spec.Namespace}},
				Endpoints: []monitoringv1.Endpoint{{
					// The vLLM container port is unnamed, so select it by number.
					TargetPort: &port,
					Path:       "/metrics",
					Interval:   monitoringv1.Duration(PromDuration(c.Spec.Prometheus.ScrapeInterval)),
				}},
			},
		}
		out = append(out, sm)
	}
	return out
}

// Prometheus returns the local Prometheus objects.
func Prometheus(c *v1alpha1.ModelPerformanceMetrics) ([]generators.Object, error) {
	name := v1alpha1.PrometheusName
	cfg, err := Config(c)
	if err != nil {
		return nil, err
	}
	meta := func() metav1.ObjectMeta { return kit.Meta(c, ComponentPrometheus, name) }
	sa := &corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: meta(),
		// Service discovery uses the token; nothing else in the pod needs it.
		AutomountServiceAccountToken: kit.Ptr(true),
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
		ObjectMeta: kit.Meta(c, ComponentPrometheus, ConfigMapName),
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
	out := []generators.Object{sa, role, rb, cm, svc}

	st := c.Spec.Prometheus.Storage
	data := corev1.Volume{Name: "data"}
	if st.Type == v1alpha1.StoragePVC {
		pvc := &corev1.PersistentVolumeClaim{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
			ObjectMeta: kit.Meta(c, ComponentPrometheus, DataPVCName),
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: mustQuantity(st.Size)}},
			},
		}
		if st.StorageClassName != "" {
			pvc.Spec.StorageClassName = kit.Ptr(st.StorageClassName)
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

// Config renders prometheus.yml: the global scrape interval, the rules
// files, and one kubernetes_sd job per model keeping only that model's
// predictor pods and their metrics port.
func Config(c *v1alpha1.ModelPerformanceMetrics) (string, error) {
	interval := PromDuration(c.Spec.Prometheus.ScrapeInterval)
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
				{SourceLabels: []string{podLabel(LabelInferenceService), podLabel(LabelComponent)}, Regex: m.Name + ";" + ComponentPredictor, Action: "keep"},
				// One target per declared container port: keep the vLLM one.
				{SourceLabels: []string{"__meta_kubernetes_pod_container_port_number"}, Regex: fmt.Sprint(m.MetricsPort), Action: "keep"},
				{SourceLabels: []string{"__meta_kubernetes_pod_phase"}, Regex: "Running", Action: "keep"},
				{SourceLabels: []string{"__meta_kubernetes_namespace"}, TargetLabel: "namespace", Action: "replace"},
				{SourceLabels: []string{"__meta_kubernetes_pod_name"}, TargetLabel: "pod", Action: "replace"},
				{SourceLabels: []string{podLabel(LabelInferenceService)}, TargetLabel: "inferenceservice", Action: "replace"},
			},
		})
	}
	b, err := yamlenc.Marshal(cfg)
	if err != nil {
		return "", err
	}
	return "# Generated by step07gen: the local high-resolution Prometheus.\n" + string(b), nil
}
