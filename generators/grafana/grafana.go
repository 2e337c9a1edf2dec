package grafana

import (
	"fmt"

	routev1 "github.com/openshift/api/route/v1"
	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/internal/kit"
	"github.com/rhoai-demo/step07/internal/yamlenc"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// Component is the base/ folder of these objects.
const Component = "grafana"

// Object names; those other packages refer to (the token Secret, the
// service CA ConfigMap, the ports) are in package v1alpha1.
const (
	Name                 = v1alpha1.GrafanaName
	DatasourcesName      = Name + "-datasources"
	DashboardProvider    = Name + "-dashboard-provider"
	DashboardsMountPath  = "/etc/grafana/dashboards"
	ServiceCAMountPath   = "/etc/grafana/service-ca"
	LocalDatasourceUID   = v1alpha1.LocalDatasourceUID
	ThanosDatasourceUID  = v1alpha1.ThanosDatasourceUID
	tokenEnv             = "THANOS_TOKEN"
	httpPort             = v1alpha1.GrafanaHTTPPort
	clusterMonitoringRef = "cluster-monitoring-view"
)

// thanos reports whether Grafana gets a Thanos Querier datasource with a
// token and the service CA: only on OpenShift, where both exist.
func thanos(c *v1alpha1.ModelPerformanceMetrics) bool {
	return c.Spec.Platform == v1alpha1.PlatformOpenShift && c.Spec.Monitoring.ThanosQuerierURL != ""
}

// Objects returns the Grafana objects; the dashboard ConfigMaps themselves
// come from package dashboards: Grafana mounts them by the names in
// v1alpha1.DashboardConfigMapNames.
func Objects(c *v1alpha1.ModelPerformanceMetrics) ([]kit.Object, error) {
	return Build(c, v1alpha1.DashboardConfigMapNames())
}

// Build returns the Grafana objects mounting the named dashboard ConfigMaps.
func Build(c *v1alpha1.ModelPerformanceMetrics, dashboardConfigMaps []string) ([]kit.Object, error) {
	meta := func(name string) metav1.ObjectMeta { return kit.Meta(c.Spec.Namespace, Component, name) }
	ds, err := Datasources(c)
	if err != nil {
		return nil, err
	}
	prov, err := Provider()
	if err != nil {
		return nil, err
	}
	sa := &corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: meta(Name),
		// Grafana talks to no Kubernetes API; its Thanos token comes from the Secret.
		AutomountServiceAccountToken: ptr.To(c.GrafanaOAuthProxy()),
	}
	if c.GrafanaOAuthProxy() {
		// The OAuth server accepts redirects back to the Route only.
		sa.Annotations = map[string]string{
			"serviceaccounts.openshift.io/oauth-redirectreference.grafana": `{"kind":"OAuthRedirectReference","apiVersion":"v1","reference":{"kind":"Route","name":"` + Name + `"}}`,
		}
	}
	out := []kit.Object{sa}
	if thanos(c) {
		tok := meta(v1alpha1.GrafanaTokenSecretName)
		tok.Annotations = map[string]string{corev1.ServiceAccountNameKey: Name}
		ca := meta(v1alpha1.GrafanaServiceCAName)
		ca.Annotations = map[string]string{"service.beta.openshift.io/inject-cabundle": "true"}
		out = append(out,
			&corev1.Secret{
				TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
				ObjectMeta: tok,
				Type:       corev1.SecretTypeServiceAccountToken,
			},
			&rbacv1.ClusterRoleBinding{
				TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
				ObjectMeta: kit.ClusterMeta(Component, c.GrafanaClusterRoleBindingName()),
				RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: clusterMonitoringRef},
				Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: Name, Namespace: c.Spec.Namespace}},
			},
			// The service CA operator fills in service-ca.crt.
			&corev1.ConfigMap{
				TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
				ObjectMeta: ca,
			},
		)
	}
	out = append(out,
		&corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: meta(DatasourcesName),
			Data:       map[string]string{"datasources.yaml": ds},
		},
		&corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: meta(DashboardProvider),
			Data:       map[string]string{"dashboards.yaml": prov},
		},
		deployment(c, dashboardConfigMaps),
		service(c),
	)
	if c.Spec.Platform == v1alpha1.PlatformOpenShift {
		out = append(out, &routev1.Route{
			TypeMeta:   metav1.TypeMeta{APIVersion: routev1.GroupVersion.String(), Kind: "Route"},
			ObjectMeta: meta(Name),
			Spec: routev1.RouteSpec{
				Host: c.Spec.Grafana.RouteHost,
				To:   routev1.RouteTargetReference{Kind: "Service", Name: Name, Weight: ptr.To(int32(100))},
				Port: &routev1.RoutePort{TargetPort: intstr.FromString(servicePortName(c))},
				TLS:  routeTLS(c),

				// Set only when the namespace is too long for the host
				// OpenShift would make up (perf-grafana-<namespace>).
				Subdomain: c.GrafanaRouteSubdomain(),
			},
		})
	} else {
		prefix := networkingv1.PathTypePrefix
		out = append(out, &networkingv1.Ingress{
			TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
			ObjectMeta: meta(Name),
			Spec: networkingv1.IngressSpec{
				Rules: []networkingv1.IngressRule{{
					Host: c.Spec.Grafana.RouteHost,
					IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
						Paths: []networkingv1.HTTPIngressPath{{
							Path: "/", PathType: &prefix,
							Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
								Name: Name, Port: networkingv1.ServiceBackendPort{Name: "http"},
							}},
						}},
					}},
				}},
			},
		})
	}
	return out, nil
}

// Datasources renders the Grafana datasource provisioning file.
func Datasources(c *v1alpha1.ModelPerformanceMetrics) (string, error) {
	interval := kit.PromDuration(c.Spec.Prometheus.ScrapeInterval.Duration)
	type ds struct {
		Name           string            `json:"name"`
		Type           string            `json:"type"`
		UID            string            `json:"uid"`
		URL            string            `json:"url"`
		Access         string            `json:"access"`
		IsDefault      bool              `json:"isDefault"`
		Editable       bool              `json:"editable"`
		JSONData       map[string]any    `json:"jsonData"`
		SecureJSONData map[string]string `json:"secureJsonData,omitempty"`
	}
	list := []ds{{
		Name:      "Local Prometheus",
		Type:      "prometheus",
		UID:       LocalDatasourceUID,
		URL:       fmt.Sprintf("http://%s.%s.svc:%d", v1alpha1.PrometheusName, c.Spec.Namespace, v1alpha1.PrometheusPort),
		Access:    "proxy",
		IsDefault: true,
		// timeInterval equal to the scrape interval keeps $__rate_interval right.
		JSONData: map[string]any{"timeInterval": interval, "httpMethod": "POST"},
	}}
	if u := c.Spec.Monitoring.ThanosQuerierURL; u != "" {
		t := ds{
			Name: "Thanos Querier", Type: "prometheus", UID: ThanosDatasourceUID, URL: u, Access: "proxy",
			JSONData: map[string]any{"timeInterval": "30s", "httpMethod": "POST"},
		}
		if thanos(c) {
			t.JSONData["httpHeaderName1"] = "Authorization"
			t.JSONData["tlsAuthWithCACert"] = true
			t.SecureJSONData = map[string]string{
				// Grafana expands ${VAR} from the environment and $__file{} from disk.
				"httpHeaderValue1": "Bearer ${" + tokenEnv + "}",
				"tlsCACert":        "$__file{" + ServiceCAMountPath + "/service-ca.crt}",
			}
		}
		list = append(list, t)
	}
	b, err := yamlenc.Marshal(map[string]any{"apiVersion": 1, "datasources": list})
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// Provider renders the dashboard provider file: every JSON file under the
// projected dashboards volume, read-only in the UI (Git is the source).
func Provider() (string, error) {
	b, err := yamlenc.Marshal(map[string]any{
		"apiVersion": 1,
		"providers": []map[string]any{{
			"name":                  "step07",
			"folder":                "Model Performance (step 07)",
			"type":                  "file",
			"disableDeletion":       true,
			"allowUiUpdates":        false,
			"updateIntervalSeconds": 30,
			"options":               map[string]any{"path": DashboardsMountPath, "foldersFromFilesStructure": false},
		}},
	})
	return string(b), err
}

func deployment(c *v1alpha1.ModelPerformanceMetrics, dashboardConfigMaps []string) *appsv1.Deployment {
	secretEnv := func(env, secret, key string) corev1.EnvVar {
		return corev1.EnvVar{Name: env, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: key,
		}}}
	}
	env := []corev1.EnvVar{
		secretEnv("GF_SECURITY_ADMIN_USER", c.Spec.Grafana.AdminSecret, "admin-user"),
		secretEnv("GF_SECURITY_ADMIN_PASSWORD", c.Spec.Grafana.AdminSecret, "admin-password"),
		{Name: "GF_AUTH_ANONYMOUS_ENABLED", Value: "false"},
		{Name: "GF_AUTH_DISABLE_LOGIN_FORM", Value: "false"},
		{Name: "GF_USERS_ALLOW_SIGN_UP", Value: "false"},
		{Name: "GF_ANALYTICS_REPORTING_ENABLED", Value: "false"},
		{Name: "GF_ANALYTICS_CHECK_FOR_UPDATES", Value: "false"},
		{Name: "GF_PATHS_DATA", Value: "/var/lib/grafana"},
		// Everything Grafana writes lives on the emptyDir: the root file system stays read-only.
		{Name: "GF_PATHS_LOGS", Value: "/var/lib/grafana/log"},
		{Name: "GF_PATHS_PLUGINS", Value: "/var/lib/grafana/plugins"},
		{Name: "GF_PATHS_PROVISIONING", Value: "/etc/grafana/provisioning"},
	}
	mounts := []corev1.VolumeMount{
		{Name: "data", MountPath: "/var/lib/grafana"},
		{Name: "datasources", MountPath: "/etc/grafana/provisioning/datasources", ReadOnly: true},
		{Name: "dashboard-provider", MountPath: "/etc/grafana/provisioning/dashboards", ReadOnly: true},
		{Name: "dashboards", MountPath: DashboardsMountPath, ReadOnly: true},
		{Name: "tmp", MountPath: "/tmp"},
	}
	cmVol := func(vol, name string) corev1.Volume {
		return corev1.Volume{Name: vol, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}}}}
	}
	var sources []corev1.VolumeProjection
	for _, n := range dashboardConfigMaps {
		sources = append(sources, corev1.VolumeProjection{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: n}}})
	}
	volumes := []corev1.Volume{
		{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		cmVol("datasources", DatasourcesName),
		cmVol("dashboard-provider", DashboardProvider),
		{Name: "dashboards", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: sources}}},
		{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}
	if c.GrafanaOAuthProxy() {
		// The proxy authenticates against OpenShift and passes the user on.
		env = append(env,
			corev1.EnvVar{Name: "GF_AUTH_PROXY_ENABLED", Value: "true"},
			corev1.EnvVar{Name: "GF_AUTH_PROXY_HEADER_NAME", Value: "X-Forwarded-User"},
			corev1.EnvVar{Name: "GF_AUTH_PROXY_AUTO_SIGN_UP", Value: "true"},
			// Only the sidecar may assert a user: the header from any other
			// source address is ignored.
			corev1.EnvVar{Name: "GF_AUTH_PROXY_WHITELIST", Value: "127.0.0.1, ::1"},
		)
		volumes = append(volumes,
			corev1.Volume{Name: "proxy-tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: ProxyTLSSecret}}},
			corev1.Volume{Name: "proxy-cookie", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: v1alpha1.GrafanaProxyCookieSecret}}},
		)
	}
	if thanos(c) {
		env = append(env, secretEnv(tokenEnv, v1alpha1.GrafanaTokenSecretName, "token"))
		mounts = append(mounts, corev1.VolumeMount{Name: "service-ca", MountPath: ServiceCAMountPath, ReadOnly: true})
		volumes = append(volumes, cmVol("service-ca", v1alpha1.GrafanaServiceCAName))
	}
	probe := func(delay int32) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:        corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/api/health", Port: intstr.FromString("http")}},
			InitialDelaySeconds: delay, PeriodSeconds: 10, TimeoutSeconds: 5, FailureThreshold: 6,
		}
	}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: kit.Meta(c.Spec.Namespace, Component, Name),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: kit.Selector(Name)},
			Template: corev1.PodTemplateSpec{
				// The registry sets the config checksum annotation.
				ObjectMeta: metav1.ObjectMeta{Labels: kit.Labels(Component, Name)},
				Spec: corev1.PodSpec{
					ServiceAccountName:           Name,
					AutomountServiceAccountToken: ptr.To(c.GrafanaOAuthProxy()),
					SecurityContext:              kit.PodSecurity(c.PinsUIDs(), kit.GrafanaUID),
					Containers: append([]corev1.Container{{
						Name:            "grafana",
						Image:           c.Spec.Grafana.Image,
						Env:             env,
						Ports:           []corev1.ContainerPort{{Name: "http", ContainerPort: httpPort, Protocol: corev1.ProtocolTCP}},
						ReadinessProbe:  probe(5),
						LivenessProbe:   probe(30),
						Resources:       kit.Resources("100m", "256Mi", "1", "1Gi"),
						SecurityContext: kit.ContainerSecurity(true),
						VolumeMounts:    mounts,
					}}, proxyContainers(c)...),
					Volumes: volumes,
				},
			},
		},
	}
}
