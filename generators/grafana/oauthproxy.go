package grafana

import (
	"fmt"

	routev1 "github.com/openshift/api/route/v1"
	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/internal/kit"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// With spec.grafana.oauthProxy the OpenShift OAuth proxy sits in front of
// Grafana: users log in with their OpenShift account (anyone allowed to get
// the Grafana Service in the namespace), Grafana trusts the proxy's
// X-Forwarded-User header, and the Route re-encrypts to the proxy's
// service-CA certificate. Whether it is on is c.GrafanaOAuthProxy(); the
// cookie Secret the user creates is v1alpha1.GrafanaProxyCookieSecret.
const (
	// ProxyTLSSecret is created by the service CA operator for the Service.
	ProxyTLSSecret = Name + "-proxy-tls"
	proxyPort      = v1alpha1.GrafanaProxyPort
)

func servicePortName(c *v1alpha1.ModelPerformanceMetrics) string {
	if c.GrafanaOAuthProxy() {
		return "https"
	}
	return "http"
}

func routeTLS(c *v1alpha1.ModelPerformanceMetrics) *routev1.TLSConfig {
	t := &routev1.TLSConfig{Termination: routev1.TLSTerminationEdge, InsecureEdgeTerminationPolicy: routev1.InsecureEdgeTerminationPolicyRedirect}
	if c.GrafanaOAuthProxy() {
		t.Termination = routev1.TLSTerminationReencrypt
	}
	return t
}

func service(c *v1alpha1.ModelPerformanceMetrics) *corev1.Service {
	s := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: kit.Meta(c.Spec.Namespace, Component, Name),
		Spec: corev1.ServiceSpec{
			Selector: kit.Selector(Name),
			Ports:    []corev1.ServicePort{{Name: "http", Port: httpPort, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}},
		},
	}
	if c.GrafanaOAuthProxy() {
		// Only the proxy is exposed; the service CA issues its certificate.
		s.Annotations = map[string]string{"service.beta.openshift.io/serving-cert-secret-name": ProxyTLSSecret}
		s.Spec.Ports = []corev1.ServicePort{{Name: "https", Port: proxyPort, TargetPort: intstr.FromString("https"), Protocol: corev1.ProtocolTCP}}
	}
	return s
}

func proxyContainers(c *v1alpha1.ModelPerformanceMetrics) []corev1.Container {
	if !c.GrafanaOAuthProxy() {
		return nil
	}
	probe := func(delay int32) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:        corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/oauth/healthz", Port: intstr.FromString("https"), Scheme: corev1.URISchemeHTTPS}},
			InitialDelaySeconds: delay, PeriodSeconds: 10, TimeoutSeconds: 5, FailureThreshold: 6,
		}
	}
	return []corev1.Container{{
		Name:  "oauth-proxy",
		Image: c.Spec.Grafana.OAuthProxyImage,
		Args: []string{
			"--provider=openshift",
			fmt.Sprintf("--https-address=:%d", proxyPort),
			"--http-address=",
			fmt.Sprintf("--upstream=http://localhost:%d", httpPort),
			"--tls-cert=/etc/tls/private/tls.crt",
			"--tls-key=/etc/tls/private/tls.key",
			"--openshift-service-account=" + Name,
			"--cookie-secret-file=/etc/proxy/cookie/session_secret",
			fmt.Sprintf(`--openshift-sar={"namespace":%q,"resource":"services","resourceName":%q,"verb":"get"}`, c.Spec.Namespace, Name),
			"--pass-user-headers=true",
			"--skip-auth-regex=^/api/health$",
		},
		Ports:           []corev1.ContainerPort{{Name: "https", ContainerPort: proxyPort, Protocol: corev1.ProtocolTCP}},
		ReadinessProbe:  probe(5),
		LivenessProbe:   probe(30),
		Resources:       kit.Resources("20m", "64Mi", "200m", "256Mi"),
		SecurityContext: kit.ContainerSecurity(true),
		VolumeMounts: []corev1.VolumeMount{
			{Name: "proxy-tls", MountPath: "/etc/tls/private", ReadOnly: true},
			{Name: "proxy-cookie", MountPath: "/etc/proxy/cookie", ReadOnly: true},
		},
	}}
}
