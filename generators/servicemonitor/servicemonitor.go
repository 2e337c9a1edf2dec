package servicemonitor

import (
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/internal/k8sname"
	"github.com/rhoai-demo/step07/internal/kit"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Component is the base/ folder of these objects.
const Component = "servicemonitor"

// Name is the ServiceMonitor name of a model. RHOAI itself creates
// <isvc>-metrics; the suffix keeps ours apart. At most 66 characters (a
// model name has at most 53): a valid name, but longer than a label value,
// so its app.kubernetes.io/name label is shortened (kit.Labels).
func Name(model string) string {
	return k8sname.Shorten(model+"-perf-metrics", k8sname.MaxDNSSubdomain)
}

// Objects returns one ServiceMonitor per model, or none when
// spec.monitoring.serviceMonitor is platform: OpenShift AI's
// odh-model-controller already creates <isvc>-metrics for every vLLM
// InferenceService, and a second one would make user-workload monitoring
// scrape each pod twice.
func Objects(c *v1alpha1.ModelPerformanceMetrics) ([]kit.Object, error) {
	if c.Spec.Monitoring.ServiceMonitor != v1alpha1.ServiceMonitorOwn {
		return nil, nil
	}
	var out []kit.Object
	for _, m := range c.Spec.Models {
		port := intstr.FromInt32(int32(m.MetricsPort))
		sm := &monitoringv1.ServiceMonitor{
			TypeMeta:   metav1.TypeMeta{APIVersion: monitoringv1.SchemeGroupVersion.String(), Kind: monitoringv1.ServiceMonitorsKind},
			ObjectMeta: kit.Meta(c.Spec.Namespace, Component, Name(m.Name)),
			Spec: monitoringv1.ServiceMonitorSpec{
				Selector: metav1.LabelSelector{MatchLabels: map[string]string{
					v1alpha1.LabelInferenceService: m.Name,
					v1alpha1.LabelKServeComponent:  v1alpha1.ComponentPredictor,
				}},
				NamespaceSelector: monitoringv1.NamespaceSelector{MatchNames: []string{c.Spec.Namespace}},
				Endpoints: []monitoringv1.Endpoint{{
					// The vLLM container port is unnamed, so select it by number.
					TargetPort: &port,
					Path:       "/metrics",
					Interval:   monitoringv1.Duration(kit.PromDuration(c.Spec.Prometheus.ScrapeInterval.Duration)),
				}},
			},
		}
		out = append(out, sm)
	}
	return out, nil
}
