package kit

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	prommodel "github.com/prometheus/common/model"
	"github.com/rhoai-demo/step07/internal/k8sname"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// Label keys and values every generated object carries.
const (
	LabelName      = "app.kubernetes.io/name"
	LabelComponent = "app.kubernetes.io/component"
	LabelPartOf    = "app.kubernetes.io/part-of"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	PartOf         = "step07-model-performance-metrics"
	ManagedBy      = "step07gen"
	// ChecksumAnnotation on a Pod template rolls the pods when the
	// configuration they read at start-up changes.
	ChecksumAnnotation = "step07.rhoai-demo.io/config-checksum"
)

// Labels are the metadata labels of an object of a component. They never
// carry a version, so they are safe in selectors. The name label is the
// object's name, shortened (k8sname.LabelValue) when a name derived from
// the config is longer than a label value's 63 characters: the
// ServiceMonitor of a 53-character model, the ClusterRoleBinding of a long
// namespace.
func Labels(component, name string) map[string]string {
	return map[string]string{
		LabelName:      k8sname.LabelValue(name),
		LabelComponent: component,
		LabelPartOf:    PartOf,
		LabelManagedBy: ManagedBy,
	}
}

// Selector is the immutable part of a workload's labels: Deployment
// selectors cannot change after creation, so they hold only the name.
func Selector(name string) map[string]string {
	return map[string]string{LabelName: k8sname.LabelValue(name), LabelPartOf: PartOf}
}

// Meta is the ObjectMeta of a namespaced object.
func Meta(namespace, component, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: Labels(component, name)}
}

// ClusterMeta is the ObjectMeta of a cluster-scoped object.
func ClusterMeta(component, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Labels: Labels(component, name)}
}

// PodSecurity is the Pod-level part of the restricted Pod Security level
// for an image whose user is uid. On OpenShift it pins no UID: the
// restricted-v2 SCC assigns one from the namespace range. On plain
// Kubernetes nothing assigns one, and the kubelet refuses runAsNonRoot for
// an image whose USER is a name (Prometheus' "nobody") because it cannot
// prove the name is not root; so the UID is set, numerically, and fsGroup
// makes a fresh volume writable for it. pinUID says which platform it is
// (v1alpha1's PinsUIDs).
func PodSecurity(pinUID bool, uid int64) *corev1.PodSecurityContext {
	sc := &corev1.PodSecurityContext{
		RunAsNonRoot:   ptr.To(true),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	if pinUID && uid > 0 {
		sc.RunAsUser = ptr.To(uid)
		sc.FSGroup = ptr.To(uid)
		policy := corev1.FSGroupChangeOnRootMismatch
		sc.FSGroupChangePolicy = &policy
	}
	return sc
}

// UIDs of the default images' users, pinned on platform kubernetes.
const (
	// PrometheusUID is "nobody" in the upstream image (USER nobody).
	PrometheusUID = 65534
	// GrafanaUID is the Grafana image's USER.
	GrafanaUID = 472
	// SweepUID is the USER of this project's image (Containerfile).
	SweepUID = 65532
)

// ContainerSecurity is the container-level part of the restricted level.
func ContainerSecurity(readOnlyRoot bool) *corev1.SecurityContext {
	return &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false),
		RunAsNonRoot:             ptr.To(true),
		ReadOnlyRootFilesystem:   ptr.To(readOnlyRoot),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// Resources builds requests and limits from quantity strings.
func Resources(cpuReq, memReq, cpuLim, memLim string) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpuReq), corev1.ResourceMemory: resource.MustParse(memReq)},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpuLim), corev1.ResourceMemory: resource.MustParse(memLim)},
	}
}

// Checksum is a short, stable digest of configuration text.
func Checksum(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// PromDuration writes a duration the way Prometheus and the operator's CRD
// accept it ("5s", "1m", not Go's "1m0s").
func PromDuration(d time.Duration) string { return prommodel.Duration(d).String() }
