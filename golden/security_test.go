package golden

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	routev1 "github.com/openshift/api/route/v1"
	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/internal/kit"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

// The least-privilege checks of issue 7, on the generated objects of every
// valid config (OpenShift and Kubernetes). The Pod Security `restricted`
// evaluation itself is in TestObjects.

// decoded is every emitted object decoded into its Go type.
type decoded struct {
	c            *v1alpha1.ModelPerformanceMetrics
	deployments  map[string]*appsv1.Deployment
	cronJobs     map[string]*batchv1.CronJob
	configMaps   map[string]*corev1.ConfigMap
	secrets      []*corev1.Secret
	services     map[string]*corev1.Service
	roles        []*rbacv1.Role
	roleBindings []*rbacv1.RoleBinding
	crbs         []*rbacv1.ClusterRoleBinding
	routes       []*routev1.Route
	kinds        map[string]int
	objects      []kit.Object
	docs         map[string][]byte
}

func decodeAll(t *testing.T, name string) *decoded {
	t.Helper()
	c, _ := load(t, filepath.Join("testdata", "valid", name+".yaml"))
	objs, docs := emitted(t, c)
	d := &decoded{c: c, deployments: map[string]*appsv1.Deployment{}, cronJobs: map[string]*batchv1.CronJob{},
		configMaps: map[string]*corev1.ConfigMap{}, services: map[string]*corev1.Service{}, kinds: map[string]int{}, objects: objs, docs: docs}
	for _, o := range objs {
		kind := kit.Kind(o)
		d.kinds[kind]++
		v, ok := typed(kind)
		if !ok {
			continue // the Application: checked in TestObjects
		}
		if err := yaml.UnmarshalStrict(docs[kit.ID(o)], v); err != nil {
			t.Fatalf("%s: %v", kit.ID(o), err)
		}
		switch x := v.(type) {
		case *appsv1.Deployment:
			d.deployments[x.Name] = x
		case *batchv1.CronJob:
			d.cronJobs[x.Name] = x
		case *corev1.ConfigMap:
			d.configMaps[x.Namespace+"/"+x.Name] = x
		case *corev1.Secret:
			d.secrets = append(d.secrets, x)
		case *corev1.Service:
			d.services[x.Name] = x
		case *rbacv1.Role:
			d.roles = append(d.roles, x)
		case *rbacv1.RoleBinding:
			d.roleBindings = append(d.roleBindings, x)
		case *rbacv1.ClusterRoleBinding:
			d.crbs = append(d.crbs, x)
		case *routev1.Route:
			d.routes = append(d.routes, x)
		}
	}
	return d
}

// podSpecs returns every Pod template by workload name.
func (d *decoded) podSpecs() map[string]corev1.PodTemplateSpec {
	out := map[string]corev1.PodTemplateSpec{}
	for n, x := range d.deployments {
		out[n] = x.Spec.Template
	}
	for n, x := range d.cronJobs {
		out[n] = x.Spec.JobTemplate.Spec.Template
	}
	return out
}

// TestPodTemplatesHardened: requests and limits (CPU and memory) on every
// container, init and sidecars included; readiness and liveness probes on
// every container that serves; no host namespaces or host paths.
func TestPodTemplatesHardened(t *testing.T) {
	for _, name := range configs(t, "valid") {
		t.Run(name, func(t *testing.T) {
			d := decodeAll(t, name)
			pods := d.podSpecs()
			// Prometheus, Grafana and the sweep; nothing else runs.
			for _, w := range []string{v1alpha1.PrometheusName, v1alpha1.GrafanaName, v1alpha1.SweepName} {
				if _, ok := pods[w]; !ok {
					t.Errorf("no pod template for %s", w)
				}
			}
			if len(pods) != 3 {
				t.Errorf("want 3 pod templates, got %d", len(pods))
			}
			for w, p := range pods {
				s := p.Spec
				if s.HostNetwork || s.HostPID || s.HostIPC {
					t.Errorf("%s: uses a host namespace", w)
				}
				for _, v := range s.Volumes {
					if v.HostPath != nil {
						t.Errorf("%s: hostPath volume %s", w, v.Name)
					}
				}
				all := append(append([]corev1.Container{}, s.InitContainers...), s.Containers...)
				for _, e := range s.EphemeralContainers {
					all = append(all, corev1.Container(e.EphemeralContainerCommon))
				}
				for _, ctr := range all {
					for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
						req, lim := ctr.Resources.Requests[r], ctr.Resources.Limits[r]
						if req.IsZero() || lim.IsZero() {
							t.Errorf("%s/%s: %s request %v limit %v: want both set", w, ctr.Name, r, req.String(), lim.String())
						} else if req.Cmp(lim) > 0 {
							t.Errorf("%s/%s: %s request above limit", w, ctr.Name, r)
						}
					}
					sc := ctr.SecurityContext
					if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
						t.Errorf("%s/%s: root file system is writable", w, ctr.Name)
					}
					if sc != nil && sc.Privileged != nil && *sc.Privileged {
						t.Errorf("%s/%s: privileged", w, ctr.Name)
					}
				}
				for _, ctr := range s.Containers {
					if len(ctr.Ports) > 0 && (ctr.ReadinessProbe == nil || ctr.LivenessProbe == nil) {
						t.Errorf("%s/%s serves but lacks a readiness or liveness probe", w, ctr.Name)
					}
				}
			}
			// The servers serve; the sweep declares no port (sharded, index 0
			// listens on the coordination port, which the headless Service
			// names by number: the one-shot sweep has no probe to offer).
			for _, w := range []string{v1alpha1.PrometheusName, v1alpha1.GrafanaName} {
				for _, ctr := range pods[w].Spec.Containers {
					if len(ctr.Ports) == 0 {
						t.Errorf("%s/%s: no port declared", w, ctr.Name)
					}
				}
			}
			for _, ctr := range pods[v1alpha1.SweepName].Spec.Containers {
				if len(ctr.Ports) > 0 {
					t.Errorf("sweep container %s declares ports", ctr.Name)
				}
			}
			// Only Prometheus (kubernetes_sd) and the OAuth proxy need an API token.
			for w, p := range pods {
				want := w == v1alpha1.PrometheusName || (w == v1alpha1.GrafanaName && d.c.Spec.Grafana.OAuthProxy)
				if got := p.Spec.AutomountServiceAccountToken; got == nil || *got != want {
					t.Errorf("%s: automountServiceAccountToken %v, want %v", w, got, want)
				}
			}
		})
	}
}

// TestRBAC: namespaced Roles with read verbs only, no wildcard, no Secrets;
// no ClusterRole; the only cluster-scoped grant is Grafana's
// cluster-monitoring-view binding, and only on OpenShift.
func TestRBAC(t *testing.T) {
	for _, name := range configs(t, "valid") {
		t.Run(name, func(t *testing.T) {
			d := decodeAll(t, name)
			c := d.c
			if d.kinds["ClusterRole"] != 0 {
				t.Error("a ClusterRole is generated")
			}
			for _, o := range d.objects {
				if o.GetNamespace() == "" && kit.Kind(o) != "ClusterRoleBinding" {
					t.Errorf("cluster-scoped object %s", kit.ID(o))
				}
			}
			if len(d.roles) == 0 {
				t.Fatal("no Role: Prometheus needs one for kubernetes_sd")
			}
			roles := map[string]bool{}
			dcgmRoles := 0
			for _, r := range d.roles {
				roles[r.Namespace+"/"+r.Name] = true
				switch {
				case r.Namespace == c.Spec.Namespace:
				case r.Namespace == c.Spec.Monitoring.DCGMNamespace && r.Name == c.PrometheusDCGMRoleName():
					// kubernetes_sd of the DCGM exporter, in the GPU
					// operator's namespace
					dcgmRoles++
				default:
					t.Errorf("Role %s in namespace %q", r.Name, r.Namespace)
				}
				for _, rule := range r.Rules {
					if len(rule.NonResourceURLs) > 0 {
						t.Errorf("Role %s: non-resource URLs", r.Name)
					}
					for _, v := range rule.Verbs {
						if v != "get" && v != "list" && v != "watch" {
							t.Errorf("Role %s: verb %q (only get/list/watch)", r.Name, v)
						}
					}
					for _, list := range [][]string{rule.Verbs, rule.Resources, rule.APIGroups} {
						for _, v := range list {
							if strings.Contains(v, "*") {
								t.Errorf("Role %s: wildcard %q", r.Name, v)
							}
						}
					}
					for _, res := range rule.Resources {
						if res == "secrets" || strings.HasPrefix(res, "secrets/") || strings.Contains(res, "/") {
							t.Errorf("Role %s: resource %q", r.Name, res)
						}
					}
				}
			}
			if want := map[bool]int{true: 1}[c.ScrapesDCGMElsewhere()]; dcgmRoles != want {
				t.Errorf("%d Roles in the DCGM namespace %q, want %d", dcgmRoles, c.Spec.Monitoring.DCGMNamespace, want)
			}
			for _, rb := range d.roleBindings {
				// a Role of the binding's own namespace
				if rb.RoleRef.Kind != "Role" || !roles[rb.Namespace+"/"+rb.RoleRef.Name] {
					t.Errorf("RoleBinding %s/%s binds %s %s, not a generated Role of its namespace", rb.Namespace, rb.Name, rb.RoleRef.Kind, rb.RoleRef.Name)
				}
				for _, s := range rb.Subjects {
					if s.Kind != "ServiceAccount" || s.Namespace != c.Spec.Namespace {
						t.Errorf("RoleBinding %s: subject %+v", rb.Name, s)
					}
					// outside the config's namespace only Prometheus
					// (DCGM discovery) is granted anything
					if rb.Namespace != c.Spec.Namespace && s.Name != v1alpha1.PrometheusName {
						t.Errorf("RoleBinding %s/%s: subject %+v", rb.Namespace, rb.Name, s)
					}
				}
			}
			wantCRB := 0
			if c.Spec.Platform == v1alpha1.PlatformOpenShift {
				wantCRB = 1
			}
			if len(d.crbs) != wantCRB {
				t.Fatalf("%d ClusterRoleBindings, want %d", len(d.crbs), wantCRB)
			}
			for _, b := range d.crbs {
				if b.RoleRef != (rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-monitoring-view"}) {
					t.Errorf("ClusterRoleBinding %s: roleRef %+v", b.Name, b.RoleRef)
				}
				if len(b.Subjects) != 1 || b.Subjects[0] != (rbacv1.Subject{Kind: "ServiceAccount", Name: v1alpha1.GrafanaName, Namespace: c.Spec.Namespace}) {
					t.Errorf("ClusterRoleBinding %s: subjects %+v, want Grafana's ServiceAccount only", b.Name, b.Subjects)
				}
			}
		})
	}
}

// TestSecretsComeFromSecrets: Grafana's admin credentials and the Thanos
// token come from Secrets, anonymous access is off, generated Secrets carry
// no value, and the API key is a mounted Secret file, never an env var.
func TestSecretsComeFromSecrets(t *testing.T) {
	secretish := regexp.MustCompile(`(?i)(PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY|CREDENTIAL)`)
	for _, name := range configs(t, "valid") {
		t.Run(name, func(t *testing.T) {
			d := decodeAll(t, name)
			c := d.c
			for _, s := range d.secrets {
				if len(s.Data) > 0 || len(s.StringData) > 0 {
					t.Errorf("Secret %s carries a value", s.Name)
				}
				if s.Type != corev1.SecretTypeServiceAccountToken {
					t.Errorf("Secret %s: type %s; only the controller-filled token Secret is generated", s.Name, s.Type)
				}
			}
			for w, p := range d.podSpecs() {
				for _, ctr := range p.Spec.Containers {
					for _, e := range ctr.Env {
						if secretish.MatchString(e.Name) && e.ValueFrom == nil {
							t.Errorf("%s/%s: env %s has a literal value", w, ctr.Name, e.Name)
						}
					}
					for _, a := range append(ctr.Command, ctr.Args...) {
						if regexp.MustCompile(`(?i)--[a-z-]*(password|token|secret|key)=`).MatchString(a) && !strings.Contains(a, "-file=") && !strings.Contains(a, "--tls-key=") {
							t.Errorf("%s/%s: secret on the command line: %s", w, ctr.Name, a)
						}
					}
				}
			}
			g := d.podSpecs()[v1alpha1.GrafanaName].Spec.Containers[0]
			env := map[string]corev1.EnvVar{}
			for _, e := range g.Env {
				env[e.Name] = e
			}
			fromSecret := func(n, secret, key string) {
				e := env[n]
				if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Name != secret || e.ValueFrom.SecretKeyRef.Key != key || e.Value != "" {
					t.Errorf("Grafana %s: want secretKeyRef %s/%s, got %+v", n, secret, key, e)
				}
			}
			fromSecret("GF_SECURITY_ADMIN_USER", c.Spec.Grafana.AdminSecret, "admin-user")
			fromSecret("GF_SECURITY_ADMIN_PASSWORD", c.Spec.Grafana.AdminSecret, "admin-password")
			if e := env["GF_AUTH_ANONYMOUS_ENABLED"]; e.Value != "false" {
				t.Errorf("anonymous access: GF_AUTH_ANONYMOUS_ENABLED=%q", e.Value)
			}
			if e := env["GF_USERS_ALLOW_SIGN_UP"]; e.Value != "false" {
				t.Errorf("sign-up: GF_USERS_ALLOW_SIGN_UP=%q", e.Value)
			}
			if c.Spec.Platform == v1alpha1.PlatformOpenShift {
				fromSecret("THANOS_TOKEN", "perf-grafana-token", "token")
				ds := d.configMaps[c.Spec.Namespace+"/perf-grafana-datasources"].Data["datasources.yaml"]
				if !strings.Contains(ds, "Bearer ${THANOS_TOKEN}") {
					t.Errorf("datasources.yaml does not take the token from the environment:\n%s", ds)
				}
			} else if _, ok := env["THANOS_TOKEN"]; ok {
				t.Error("THANOS_TOKEN on Kubernetes")
			}

			sweep := d.podSpecs()[v1alpha1.SweepName].Spec
			plan, err := v1alpha1.LoadPlan([]byte(d.configMaps[c.Spec.Namespace+"/"+v1alpha1.SweepPlanName].Data[v1alpha1.PlanFileName]))
			if err != nil {
				t.Fatal(err)
			}
			// Secret volumes: the API key; nothing else (GPU power comes from
			// the local Prometheus: no monitoring token in the sweep).
			var vol *corev1.Volume
			for i := range sweep.Volumes {
				s := sweep.Volumes[i].Secret
				switch {
				case s == nil:
				case s.SecretName == c.Spec.Sweep.APIKeySecret:
					vol = &sweep.Volumes[i]
				default:
					t.Errorf("sweep mounts Secret %s", s.SecretName)
				}
			}
			for _, m := range sweep.Containers[0].VolumeMounts {
				if m.MountPath == v1alpha1.APIKeyMountPath && (vol == nil || m.Name != vol.Name) {
					t.Errorf("something other than apiKeySecret mounted at %s", m.MountPath)
				}
			}
			for _, ctr := range sweep.Containers {
				for _, e := range ctr.Env {
					if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
						t.Errorf("sweep: a Secret in env %s; the API key must be a file", e.Name)
					}
				}
				for _, e := range ctr.EnvFrom {
					if e.SecretRef != nil {
						t.Errorf("sweep: envFrom Secret %s", e.SecretRef.Name)
					}
				}
			}
			if c.Spec.Sweep.APIKeySecret == "" {
				if vol != nil || plan.Spec.APIKeyFile != "" {
					t.Errorf("no apiKeySecret, yet a Secret volume %v or apiKeyFile %q", vol, plan.Spec.APIKeyFile)
				}
				return
			}
			if vol == nil || vol.Secret.SecretName != c.Spec.Sweep.APIKeySecret {
				t.Fatalf("apiKeySecret %s is not mounted: %+v", c.Spec.Sweep.APIKeySecret, sweep.Volumes)
			}
			mounted := false
			for _, m := range sweep.Containers[0].VolumeMounts {
				if m.Name == vol.Name {
					mounted = m.ReadOnly && m.MountPath == v1alpha1.APIKeyMountPath
				}
			}
			if !mounted || len(vol.Secret.Items) != 1 || vol.Secret.Items[0].Key != v1alpha1.APIKeyFileName ||
				plan.Spec.APIKeyFile != v1alpha1.APIKeyMountPath+"/"+vol.Secret.Items[0].Path {
				t.Errorf("API key: volume %+v, plan apiKeyFile %q: want key %s read-only at %s", vol.Secret, plan.Spec.APIKeyFile, v1alpha1.APIKeyFileName, v1alpha1.APIKeyMountPath)
			}
		})
	}
}

// TestOAuthProxy: with spec.grafana.oauthProxy only the proxy is reachable:
// the Route re-encrypts to the proxy's port, the Service exposes only it,
// users must be allowed to get the Grafana Service, and Grafana accepts the
// user header only from the sidecar (loopback).
func TestOAuthProxy(t *testing.T) {
	for _, name := range configs(t, "valid") {
		t.Run(name, func(t *testing.T) {
			d := decodeAll(t, name)
			c := d.c
			pod := d.podSpecs()[v1alpha1.GrafanaName].Spec
			svc := d.services[v1alpha1.GrafanaName]
			if !c.Spec.Grafana.OAuthProxy {
				if len(pod.Containers) != 1 {
					t.Errorf("sidecar without oauthProxy: %d containers", len(pod.Containers))
				}
				for _, r := range d.routes {
					if r.Spec.TLS == nil || r.Spec.TLS.Termination != routev1.TLSTerminationEdge || r.Spec.TLS.InsecureEdgeTerminationPolicy != routev1.InsecureEdgeTerminationPolicyRedirect {
						t.Errorf("Route %s: want edge TLS redirecting plain HTTP", r.Name)
					}
				}
				return
			}
			if len(pod.Containers) != 2 || pod.Containers[1].Name != "oauth-proxy" {
				t.Fatalf("want grafana + oauth-proxy, got %d containers", len(pod.Containers))
			}
			proxy := pod.Containers[1]
			args := strings.Join(proxy.Args, " ")
			for _, want := range []string{"--provider=openshift", "--https-address=:8443", "--http-address= ", "--upstream=http://localhost:3000",
				`--openshift-sar={"namespace":"` + c.Spec.Namespace + `","resource":"services","resourceName":"perf-grafana","verb":"get"}`,
				"--cookie-secret-file=", "--tls-cert=/etc/tls/private/tls.crt"} {
				if !strings.Contains(args+" ", want) {
					t.Errorf("oauth-proxy args lack %q: %s", want, args)
				}
			}
			if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Name != "https" || svc.Spec.Ports[0].Port != 8443 ||
				svc.Annotations["service.beta.openshift.io/serving-cert-secret-name"] == "" {
				t.Errorf("Service must expose only the proxy with a service-CA certificate: %+v %v", svc.Spec.Ports, svc.Annotations)
			}
			if len(d.routes) != 1 {
				t.Fatalf("%d Routes", len(d.routes))
			}
			r := d.routes[0]
			if r.Spec.TLS == nil || r.Spec.TLS.Termination != routev1.TLSTerminationReencrypt || r.Spec.Port == nil || r.Spec.Port.TargetPort.String() != "https" {
				t.Errorf("Route: want reencrypt to port https, got %+v %+v", r.Spec.TLS, r.Spec.Port)
			}
			env := map[string]string{}
			for _, e := range pod.Containers[0].Env {
				env[e.Name] = e.Value
			}
			if env["GF_AUTH_PROXY_ENABLED"] != "true" || env["GF_AUTH_PROXY_WHITELIST"] != "127.0.0.1, ::1" || env["GF_AUTH_ANONYMOUS_ENABLED"] != "false" {
				t.Errorf("Grafana auth proxy settings: %v", env)
			}
			for _, v := range pod.Volumes {
				if v.Secret != nil && v.Secret.SecretName == "perf-grafana-proxy-cookie" {
					return
				}
			}
			t.Error("the cookie secret is not mounted from a Secret")
		})
	}
}

// secretPatterns are values that must never be committed: private keys and
// tokens of well-known shapes, and literal bearer tokens.
var secretPatterns = map[string]*regexp.Regexp{
	"private key":  regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`),
	"JWT":          regexp.MustCompile(`eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.`),
	"AWS key":      regexp.MustCompile(`\bAKIA[0-9A-Z]{16}\b`),
	"GitHub token": regexp.MustCompile(`\b(ghp|gho|ghs|ghu)_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}`),
	"Slack token":  regexp.MustCompile(`\bxox[abprs]-[A-Za-z0-9-]{10,}`),
	"OpenAI key":   regexp.MustCompile(`\bsk-(proj-)?[A-Za-z0-9]{32,}`),
	"bearer value": regexp.MustCompile(`(?i)\bbearer\s+[A-Za-z0-9._~+/-]{20,}=*`),
}

// yamlSecretKey is a YAML key that names a credential with a literal value
// (not an env reference such as ${THANOS_TOKEN}, nor a file or Secret name).
var yamlSecretKey = regexp.MustCompile(`(?i)^\s*-?\s*["']?(password|passwd|token|secret|api[_-]?key|access[_-]?key|secret[_-]?key|client[_-]?secret|session[_-]?secret|bearer[_-]?token|auth[_-]?token|admin[_-]?password)["']?\s*:\s*(\S.*)$`)

func scanSecrets(text string) []string {
	var found []string
	for what, re := range secretPatterns {
		if m := re.FindString(text); m != "" {
			found = append(found, what+": "+m)
		}
	}
	return found
}

func scanYAMLSecrets(text string) []string {
	var found []string
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		m := yamlSecretKey.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		v := strings.Trim(strings.TrimSpace(m[2]), `"'`)
		if v == "" || strings.HasPrefix(v, "$") || v == "{}" || v == "null" {
			continue
		}
		found = append(found, "literal credential: "+strings.TrimSpace(sc.Text()))
	}
	return append(found, scanSecrets(text)...)
}

// TestScannerFindsSecrets keeps the scanners honest.
func TestScannerFindsSecrets(t *testing.T) {
	bad := []string{
		"password: hunter2hunter2",
		"  admin-password: 's3cr3t!'",
		"httpHeaderValue1: Bearer abcdefghijklmnopqrstuvwxyz012345",
		"-----BEGIN RSA PRIVATE KEY-----",
		"token: eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJpc3MiOiJrdWJlcm5ldGVzIn0.sig",
		"apiKey: sk-abcdefghijklmnopqrstuvwxyz0123456789ABCD",
	}
	for _, b := range bad {
		if len(scanYAMLSecrets(b)) == 0 {
			t.Errorf("scanner misses %q", b)
		}
	}
	good := []string{
		"httpHeaderValue1: Bearer ${THANOS_TOKEN}",
		"adminSecret: perf-grafana-admin",
		"apiKeySecret: model-api-key",
		"key: admin-password",
		"- --cookie-secret-file=/etc/proxy/cookie/session_secret",
		"tlsCACert: $__file{/etc/grafana/service-ca/service-ca.crt}",
		"name: perf-grafana-token",
	}
	for _, g := range good {
		if f := scanYAMLSecrets(g); len(f) > 0 {
			t.Errorf("false positive on %q: %v", g, f)
		}
	}
}

// TestNoSecretInConfigMaps scans every generated ConfigMap of every valid
// config and every generated file of the committed tree.
func TestNoSecretInConfigMaps(t *testing.T) {
	for _, name := range configs(t, "valid") {
		d := decodeAll(t, name)
		for id, cm := range d.configMaps {
			for k, v := range cm.Data {
				for _, f := range scanYAMLSecrets(v) {
					t.Errorf("%s: ConfigMap %s key %s: %s", name, id, k, f)
				}
			}
			if len(cm.BinaryData) > 0 {
				t.Errorf("%s: ConfigMap %s has binaryData", name, id)
			}
		}
	}
	for p, text := range readTree(t, treeDir) {
		for _, f := range scanYAMLSecrets(text) {
			t.Errorf("committed tree %s: %s", p, f)
		}
	}
}

// TestNoSecretInRepository scans every file git tracks (and untracked ones
// not ignored) for private keys and tokens.
func TestNoSecretInRepository(t *testing.T) {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = repoRoot()
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("git ls-files: %v", err)
	}
	n := 0
	for _, p := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if p == "" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(repoRoot(), p))
		if err != nil || bytes.IndexByte(b, 0) >= 0 {
			continue // deleted in the work tree, or binary
		}
		n++
		text := string(b)
		if p == "golden/security_test.go" {
			continue // the scanner's own examples
		}
		for _, f := range scanSecrets(text) {
			t.Errorf("%s: %s", p, f)
		}
	}
	if n < 50 {
		t.Errorf("scanned only %d files", n)
	}
}

// imageUsers are the USER lines of the default images: what the kubelet
// sees when a pod pins no UID. The project's own image is read from the
// Containerfile. The OAuth proxy runs on OpenShift only, where the SCC
// assigns the UID.
func imageUsers(t *testing.T) map[string]string {
	b, err := os.ReadFile(filepath.Join(repoRoot(), "Containerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var from, user string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 2 && f[0] == "FROM":
			from, user = f[1], "root" // a stage starts as root unless it says otherwise
		case len(f) >= 2 && f[0] == "USER":
			user = f[1]
		}
	}
	if strings.Contains(from, "distroless/static") {
		t.Errorf("Containerfile: final stage %s is static distroless: the ArgoCD plugin sidecar runs argocd-cmp-server, which needs glibc", from)
	}
	return map[string]string{
		v1alpha1.DefaultPrometheusImage: "nobody", // upstream Dockerfile: USER nobody
		v1alpha1.DefaultGrafanaImage:    "472",    // upstream Dockerfile: USER "$GF_UID" (472)
		v1alpha1.DefaultSweepImage:      user,
	}
}

// numericUID is the UID of a USER line ("65532:0" -> 65532), if numeric.
func numericUID(user string) (int64, bool) {
	u, _, _ := strings.Cut(user, ":")
	n, err := strconv.ParseInt(u, 10, 64)
	return n, err == nil
}

// TestImageUsers: with runAsNonRoot and no runAsUser the kubelet refuses an
// image whose USER is a name (it cannot prove the name is not root), so on
// platform kubernetes, where nothing assigns a UID, every container runs
// with a numeric UID, and for a default image it is the image's own user.
// On OpenShift no UID is pinned: restricted-v2 assigns one from the
// namespace's range. The project's image has a numeric USER either way.
func TestImageUsers(t *testing.T) {
	users := imageUsers(t)
	if uid, ok := numericUID(users[v1alpha1.DefaultSweepImage]); !ok || uid == 0 {
		t.Errorf("Containerfile: final USER %q must be a numeric non-root UID", users[v1alpha1.DefaultSweepImage])
	} else if uid != kit.SweepUID {
		t.Errorf("Containerfile USER %d but the sweep pod pins %d", uid, kit.SweepUID)
	}
	known := map[string]int64{"nobody": 65534}
	kubernetes := 0
	for _, name := range configs(t, "valid") {
		t.Run(name, func(t *testing.T) {
			d := decodeAll(t, name)
			onK8s := d.c.Spec.Platform == v1alpha1.PlatformKubernetes
			if onK8s {
				kubernetes++
			}
			for w, p := range d.podSpecs() {
				for _, ctr := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
					uid := p.Spec.SecurityContext.RunAsUser
					if ctr.SecurityContext != nil && ctr.SecurityContext.RunAsUser != nil {
						uid = ctr.SecurityContext.RunAsUser
					}
					if !onK8s {
						if uid != nil {
							t.Errorf("%s/%s: pins runAsUser %d on OpenShift (the SCC assigns the UID)", w, ctr.Name, *uid)
						}
						continue
					}
					if uid == nil || *uid == 0 {
						t.Errorf("%s/%s (image %s): no numeric non-root runAsUser on platform kubernetes", w, ctr.Name, ctr.Image)
						continue
					}
					user, isDefault := users[ctr.Image]
					if !isDefault {
						continue // a user's own image: the pinned UID is the documented default
					}
					want, ok := numericUID(user)
					if !ok {
						want, ok = known[user]
					}
					if !ok {
						t.Errorf("%s/%s: image %s has USER %q, unknown UID", w, ctr.Name, ctr.Image, user)
					} else if *uid != want {
						t.Errorf("%s/%s: runAsUser %d, but image %s runs as %s (%d)", w, ctr.Name, *uid, ctr.Image, user, want)
					}
				}
			}
		})
	}
	if kubernetes == 0 {
		t.Error("no valid config on platform kubernetes: the rule is not exercised")
	}
}
