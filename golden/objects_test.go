package golden

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	routev1 "github.com/openshift/api/route/v1"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/generators"
	"github.com/rhoai-demo/step07/generators/servicemonitor"
	"github.com/rhoai-demo/step07/internal/kit"
	"github.com/rhoai-demo/step07/internal/manifest"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	psapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/yaml"
)

// typed maps each emitted kind to the Go type it must decode into strictly.
func typed(kind string) (any, bool) {
	switch kind {
	case "ServiceAccount":
		return &corev1.ServiceAccount{}, true
	case "Secret":
		return &corev1.Secret{}, true
	case "ConfigMap":
		return &corev1.ConfigMap{}, true
	case "Service":
		return &corev1.Service{}, true
	case "PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}, true
	case "Role":
		return &rbacv1.Role{}, true
	case "RoleBinding":
		return &rbacv1.RoleBinding{}, true
	case "ClusterRoleBinding":
		return &rbacv1.ClusterRoleBinding{}, true
	case "Deployment":
		return &appsv1.Deployment{}, true
	case "CronJob":
		return &batchv1.CronJob{}, true
	case "Ingress":
		return &networkingv1.Ingress{}, true
	case "NetworkPolicy":
		return &networkingv1.NetworkPolicy{}, true
	case "Route":
		return &routev1.Route{}, true
	case "ServiceMonitor":
		return &monitoringv1.ServiceMonitor{}, true
	case "PrometheusRule":
		return &monitoringv1.PrometheusRule{}, true
	}
	return nil, false
}

// emitted is every object of a config, deployed and ArgoCD, as YAML.
func emitted(t *testing.T, c *v1alpha1.ModelPerformanceMetrics) ([]kit.Object, map[string][]byte) {
	t.Helper()
	objs, err := generators.Objects(c)
	if err != nil {
		t.Fatal(err)
	}
	app, err := generators.ArgoCD(c)
	if err != nil {
		t.Fatal(err)
	}
	objs = append(objs, app...)
	docs := map[string][]byte{}
	for _, o := range objs {
		b, err := manifest.Encode(o)
		if err != nil {
			t.Fatal(err)
		}
		docs[kit.ID(o)] = b
	}
	return objs, docs
}

// TestObjects checks every emitted object of every valid config.
func TestObjects(t *testing.T) {
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	restricted := psapi.LevelVersion{Level: psapi.LevelRestricted, Version: psapi.LatestVersion()}
	for _, name := range configs(t, "valid") {
		t.Run(name, func(t *testing.T) {
			c, _ := load(t, filepath.Join("testdata", "valid", name+".yaml"))
			objs, docs := emitted(t, c)
			var pods []corev1.PodTemplateSpec
			var services []*corev1.Service
			for _, o := range objs {
				id := kit.ID(o)
				doc := docs[id]
				if strings.Contains(string(doc), "creationTimestamp") || strings.Contains(string(doc), "\nstatus:") {
					t.Errorf("%s: serialized with creationTimestamp or status", id)
				}
				if o.GetLabels()["app.kubernetes.io/managed-by"] != "step07gen" {
					t.Errorf("%s: no managed-by label", id)
				}
				kind := kit.Kind(o)
				if kind == "Application" {
					checkApplication(t, c, doc)
					continue
				}
				dcgmRBAC := (kind == "Role" || kind == "RoleBinding") && o.GetNamespace() == c.Spec.Monitoring.DCGMNamespace && o.GetName() == c.PrometheusDCGMRoleName()
				if kind != "ClusterRoleBinding" && o.GetNamespace() != c.Spec.Namespace && !(kind == "ConfigMap" && o.GetNamespace() == c.Spec.ArgoCD.Namespace) && !dcgmRBAC {
					t.Errorf("%s: namespace %q, want %q", id, o.GetNamespace(), c.Spec.Namespace)
				}
				v, ok := typed(kind)
				if !ok {
					t.Errorf("%s: no Go type to check this kind against", id)
					continue
				}
				// Strict: unknown or misspelt fields are errors.
				if err := yaml.UnmarshalStrict(doc, v); err != nil {
					t.Errorf("%s: does not decode strictly into %T: %v", id, v, err)
					continue
				}
				switch x := v.(type) {
				case *appsv1.Deployment:
					sel, err := metav1.LabelSelectorAsSelector(x.Spec.Selector)
					if err != nil || !sel.Matches(labels.Set(x.Spec.Template.Labels)) {
						t.Errorf("%s: selector %v does not match the pod labels %v", id, x.Spec.Selector, x.Spec.Template.Labels)
					}
					pods = append(pods, x.Spec.Template)
				case *batchv1.CronJob:
					if x.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent || x.Spec.JobTemplate.Spec.ActiveDeadlineSeconds == nil ||
						x.Spec.SuccessfulJobsHistoryLimit == nil || x.Spec.FailedJobsHistoryLimit == nil || x.Spec.JobTemplate.Spec.BackoffLimit == nil {
						t.Errorf("%s: needs Forbid, history limits, deadline and backoffLimit", id)
					}
					if x.Spec.Schedule != c.Spec.Sweep.Schedule {
						t.Errorf("%s: schedule %q", id, x.Spec.Schedule)
					}
					args := strings.Join(append(x.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Command, x.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Args...), " ")
					want := "sweep-runner run --plan /etc/sweep/plan.yaml --out /results"
					if n := c.Spec.Sweep.ShardCount(); n > 1 {
						// The sharded runtime's flags (docs/measuring.md, "Sharded sweeps").
						want += fmt.Sprintf(" --shards %d --shard-index $(JOB_COMPLETION_INDEX) --coordinator $(JOB_NAME)-0.guidellm-sweep-shards:7070", n)
					}
					if args != want {
						t.Errorf("%s: runs %q, want %q", id, args, want)
					}
					pods = append(pods, x.Spec.JobTemplate.Spec.Template)
				case *corev1.Service:
					services = append(services, x)
				case *rbacv1.Role:
					for _, r := range x.Rules {
						for _, verb := range r.Verbs {
							if verb != "get" && verb != "list" && verb != "watch" {
								t.Errorf("%s: verb %q beyond get/list/watch", id, verb)
							}
						}
						for _, res := range r.Resources {
							if res != "pods" && res != "services" && res != "endpoints" {
								t.Errorf("%s: resource %q beyond pods/services/endpoints", id, res)
							}
						}
						if len(r.APIGroups) != 1 || r.APIGroups[0] != "" {
							t.Errorf("%s: API groups %v, want the core group only", id, r.APIGroups)
						}
					}
				case *monitoringv1.ServiceMonitor:
					checkServiceMonitor(t, c, id, x)
				case *corev1.ConfigMap:
					checkConfigMap(t, c, id, x)
				case *corev1.Secret:
					if x.Type != corev1.SecretTypeServiceAccountToken || x.Annotations[corev1.ServiceAccountNameKey] == "" {
						t.Errorf("%s: want a service-account-token Secret", id)
					}
				case *routev1.Route:
					want := routev1.TLSTerminationEdge
					if c.Spec.Grafana.OAuthProxy {
						want = routev1.TLSTerminationReencrypt // to the proxy's service-CA certificate
					}
					if x.Spec.TLS == nil || x.Spec.TLS.Termination != want {
						t.Errorf("%s: want %s TLS", id, want)
					}
				}
			}
			if len(pods) == 0 {
				t.Fatal("no pod templates")
			}
			for _, p := range pods {
				for _, r := range evaluator.EvaluatePod(restricted, &p.ObjectMeta, &p.Spec) {
					if !r.Allowed {
						t.Errorf("pod %s fails restricted: %s: %s", p.Labels["app.kubernetes.io/name"], r.ForbiddenReason, r.ForbiddenDetail)
					}
				}
				for _, ctr := range p.Spec.Containers {
					if ctr.Resources.Requests == nil || ctr.Resources.Limits == nil {
						t.Errorf("pod %s container %s: no requests/limits", p.Labels["app.kubernetes.io/name"], ctr.Name)
					}
					// The UID: TestImageUsers (pinned on kubernetes only).
					if len(ctr.Ports) > 0 && (ctr.ReadinessProbe == nil || ctr.LivenessProbe == nil) {
						t.Errorf("serving container %s has no readiness/liveness probe", ctr.Name)
					}
				}
			}
			for _, s := range services {
				matched := false
				for _, p := range pods {
					if labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(p.Labels)) {
						matched = true
					}
				}
				if len(s.Spec.Selector) == 0 || !matched {
					t.Errorf("Service %s selects no generated pod (%v)", s.Name, s.Spec.Selector)
				}
			}
		})
	}
}

func checkServiceMonitor(t *testing.T, c *v1alpha1.ModelPerformanceMetrics, id string, sm *monitoringv1.ServiceMonitor) {
	if strings.HasSuffix(sm.Name, "-metrics") && !strings.HasSuffix(sm.Name, "-perf-metrics") {
		t.Errorf("%s: clashes with RHOAI's own <isvc>-metrics ServiceMonitor", id)
	}
	var model *v1alpha1.Model
	for i := range c.Spec.Models {
		if servicemonitor.Name(c.Spec.Models[i].Name) == sm.Name {
			model = &c.Spec.Models[i]
		}
	}
	if model == nil {
		t.Fatalf("%s: no model", id)
	}
	// The predictor Service RHOAI creates carries these labels.
	predictor := labels.Set{"serving.kserve.io/inferenceservice": model.Name, "component": "predictor", "app": "isvc." + model.Name + "-predictor"}
	sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
	if err != nil || !sel.Matches(predictor) {
		t.Errorf("%s: selector does not match the predictor labels", id)
	}
	for k := range sm.Spec.Selector.MatchLabels {
		if strings.Contains(k, "version") {
			t.Errorf("%s: selector uses a version label %s", id, k)
		}
	}
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].TargetPort == nil || sm.Spec.Endpoints[0].TargetPort.IntValue() != model.MetricsPort {
		t.Errorf("%s: want one endpoint with targetPort %d", id, model.MetricsPort)
	}
	if got := string(sm.Spec.Endpoints[0].Interval); got != kit.PromDuration(c.Spec.Prometheus.ScrapeInterval.Duration) {
		t.Errorf("%s: interval %s", id, got)
	}
}

func checkConfigMap(t *testing.T, c *v1alpha1.ModelPerformanceMetrics, id string, cm *corev1.ConfigMap) {
	for k, v := range cm.Data {
		switch {
		case k == v1alpha1.PlanFileName:
			// sweep-runner must accept the plan as written.
			if _, err := v1alpha1.LoadPlan([]byte(v)); err != nil {
				t.Errorf("%s: plan.yaml does not load: %v", id, err)
			}
		case k == "prometheus.yml":
			var cfg struct {
				Global struct {
					ScrapeInterval string `json:"scrape_interval"`
				} `json:"global"`
				RuleFiles     []string         `json:"rule_files"`
				ScrapeConfigs []map[string]any `json:"scrape_configs"`
			}
			if err := yaml.Unmarshal([]byte(v), &cfg); err != nil {
				t.Fatalf("%s: %v", id, err)
			}
			if cfg.Global.ScrapeInterval != kit.PromDuration(c.Spec.Prometheus.ScrapeInterval.Duration) || len(cfg.ScrapeConfigs) != len(c.Spec.Models)+1 ||
				len(cfg.RuleFiles) != 1 || cfg.RuleFiles[0] != v1alpha1.RulesMountPath+"/*.yaml" {
				t.Errorf("%s: prometheus.yml: %+v", id, cfg)
			}
		case k == "datasources.yaml":
			var ds struct {
				Datasources []struct {
					UID       string         `json:"uid"`
					IsDefault bool           `json:"isDefault"`
					JSONData  map[string]any `json:"jsonData"`
					Secure    map[string]any `json:"secureJsonData"`
				} `json:"datasources"`
			}
			if err := yaml.Unmarshal([]byte(v), &ds); err != nil || len(ds.Datasources) == 0 {
				t.Fatalf("%s: %v", id, err)
			}
			d := ds.Datasources[0]
			if !d.IsDefault || d.JSONData["timeInterval"] != kit.PromDuration(c.Spec.Prometheus.ScrapeInterval.Duration) {
				t.Errorf("%s: local Prometheus must be default with timeInterval = scrape interval: %+v", id, d)
			}
			if c.Spec.Platform == v1alpha1.PlatformOpenShift {
				if len(ds.Datasources) != 2 || !strings.HasPrefix(fmt.Sprint(ds.Datasources[1].Secure["httpHeaderValue1"]), "Bearer ${") {
					t.Errorf("%s: want Thanos Querier with a bearer token from the environment", id)
				}
			}
		}
	}
}

func checkApplication(t *testing.T, c *v1alpha1.ModelPerformanceMetrics, doc []byte) {
	var app struct {
		APIVersion string `json:"apiVersion"`
		Metadata   struct {
			Namespace string `json:"namespace"`
		} `json:"metadata"`
		Spec struct {
			Project string `json:"project"`
			Source  struct {
				RepoURL        string         `json:"repoURL"`
				TargetRevision string         `json:"targetRevision"`
				Path           string         `json:"path"`
				Plugin         map[string]any `json:"plugin"`
			} `json:"source"`
			Destination struct {
				Server    string `json:"server"`
				Namespace string `json:"namespace"`
			} `json:"destination"`
			SyncPolicy map[string]any `json:"syncPolicy"`
		} `json:"spec"`
	}
	if err := yaml.UnmarshalStrict(doc, &app, yaml.DisallowUnknownFields); err != nil {
		// Labels are the only metadata beyond namespace and name.
		if !strings.Contains(err.Error(), "labels") && !strings.Contains(err.Error(), "name") && !strings.Contains(err.Error(), "kind") {
			t.Errorf("Application: %v", err)
		}
	}
	a := c.Spec.ArgoCD
	s := app.Spec.Source
	if app.Metadata.Namespace != a.Namespace || s.RepoURL != a.RepoURL || s.TargetRevision != a.Revision || s.Path != a.Path ||
		app.Spec.Destination.Namespace != c.Spec.Namespace || (s.Plugin != nil) != a.Plugin {
		t.Errorf("Application does not follow spec.argocd: %+v", app)
	}
}
