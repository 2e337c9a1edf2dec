package prometheus

import (
	"fmt"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/internal/kit"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

const configDir = "/etc/prometheus/config"

func deployment(c *v1alpha1.ModelPerformanceMetrics, data corev1.Volume, probe func(string, int32) *corev1.Probe) *appsv1.Deployment {
	name := v1alpha1.PrometheusName
	p := c.Spec.Prometheus
	labels := kit.Labels(Component, name)
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: kit.Meta(c.Spec.Namespace, Component, name),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: kit.Selector(name)},
			// Recreate: the TSDB volume is ReadWriteOnce and locked by one server.
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			Template: corev1.PodTemplateSpec{
				// The config checksum annotation is set by the registry
				// over every ConfigMap the pod mounts (rules included).
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName:           name,
					AutomountServiceAccountToken: ptr.To(true),
					SecurityContext:              kit.PodSecurity(c.PinsUIDs(), kit.PrometheusUID),
					Containers: []corev1.Container{{
						Name:  "prometheus",
						Image: p.Image,
						Args: []string{
							"--config.file=" + configDir + "/prometheus.yml",
							"--storage.tsdb.path=/prometheus",
							"--storage.tsdb.retention.time=" + p.Retention,
							// sweep-runner remote-writes each step's summary here.
							"--web.enable-remote-write-receiver",
							"--web.listen-address=:" + fmt.Sprint(v1alpha1.PrometheusPort),
						},
						Ports:           []corev1.ContainerPort{{Name: "http", ContainerPort: v1alpha1.PrometheusPort, Protocol: corev1.ProtocolTCP}},
						ReadinessProbe:  probe("/-/ready", 5),
						LivenessProbe:   probe("/-/healthy", 30),
						Resources:       kit.Resources("200m", "1Gi", "2", "4Gi"),
						SecurityContext: kit.ContainerSecurity(true),
						VolumeMounts: []corev1.VolumeMount{
							{Name: "config", MountPath: configDir, ReadOnly: true},
							{Name: "rules", MountPath: v1alpha1.RulesMountPath, ReadOnly: true},
							{Name: "data", MountPath: "/prometheus"},
						},
					}},
					Volumes: []corev1.Volume{
						{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: ConfigMapName}}}},
						// Optional: Prometheus starts (with no rules) before the rules ConfigMap exists.
						{Name: "rules", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: v1alpha1.RulesConfigMapName}, Optional: ptr.To(true)}}},
						data,
					},
				},
			},
		},
	}
}

// mustQuantity parses a quantity Validate has already checked.
func mustQuantity(s string) resource.Quantity { return resource.MustParse(s) }
