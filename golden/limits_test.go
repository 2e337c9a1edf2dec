package golden

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/yaml"
)

// TestKubernetesLimits reads every object of every golden tree (each valid
// config's and the committed one: base/, argocd/ and argocd/patches/) and
// checks it with the apimachinery validators the API server runs: metadata
// as ValidateObjectMeta checks it with the name rule of the kind, label
// keys and values, annotations and their total size, label selectors,
// container, volume and port names, Service, NetworkPolicy, Ingress, Route
// and ServiceMonitor ports and hosts, ConfigMap keys and sizes. It runs
// without the API server; the property test (TestPropertyAPIServer) runs the
// same checks, then the API server, on random configs.
func TestKubernetesLimits(t *testing.T) {
	trees := map[string]string{"committed-tree": treeDir}
	for _, name := range configs(t, "valid") {
		trees[name] = filepath.Join("testdata", "valid", name)
	}
	for name, dir := range trees {
		t.Run(name, func(t *testing.T) {
			n := 0
			err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
				if err != nil || info.IsDir() || !strings.HasSuffix(p, ".yaml") {
					return err
				}
				rel, _ := filepath.Rel(dir, p)
				if top := strings.SplitN(filepath.ToSlash(rel), "/", 2)[0]; top != "base" && top != "argocd" {
					return nil // krm/ and step07.yaml hold the config, not objects
				}
				raw, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				for _, obj := range yamlObjects(t, raw) {
					if obj["kind"] == "Kustomization" {
						continue
					}
					n++
					for _, problem := range kubeLimits(obj) {
						t.Errorf("%s: %s", filepath.ToSlash(rel), problem)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n < 10 {
				t.Fatalf("only %d objects under %s", n, dir)
			}
			t.Logf("%d objects within Kubernetes' limits", n)
		})
	}
}

// TestKubernetesLimitsCatch: the checks find what the API server refuses.
func TestKubernetesLimitsCatch(t *testing.T) {
	long := strings.Repeat("m", 53) + "-perf-metrics"
	cases := []struct {
		name, doc, want string
	}{
		{"label value of 66", "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: " + long + "\n  namespace: ns\n  labels:\n    app.kubernetes.io/name: " + long + "\n", "metadata.labels: Invalid value: \"" + long + "\": must be no more than 63"},
		{"selector value of 66", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  namespace: ns\nspec:\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: " + long + "\n", "spec.selector.matchLabels: Invalid value"},
		{"Service name not DNS-1035", "apiVersion: v1\nkind: Service\nmetadata:\n  name: 1svc\n  namespace: ns\n", "metadata.name: Invalid value: \"1svc\""},
		{"CronJob name of 53", "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: " + strings.Repeat("c", 53) + "\n  namespace: ns\n", "must be no more than 52 characters"},
		{"namespace of 64", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: " + strings.Repeat("n", 64) + "\n", "metadata.namespace: Invalid value"},
		{"port name of 16", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  namespace: ns\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        ports:\n        - name: abcdefghijklmnop\n          containerPort: 80\n", "spec.template.spec.containers[0].ports[0].name: Invalid value: \"abcdefghijklmnop\": must be no more than 15 characters"},
		{"volume name", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  namespace: ns\nspec:\n  template:\n    spec:\n      volumes:\n      - name: Data\n        emptyDir: {}\n", "spec.template.spec.volumes[0].name: Invalid value: \"Data\""},
		{"Service port name", "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  namespace: ns\nspec:\n  ports:\n  - name: Http\n    port: 80\n  - name: web\n    port: 81\n", "spec.ports[0].name: Invalid value: \"Http\": a lowercase RFC 1123 label"},
		{"Service ports unnamed", "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  namespace: ns\nspec:\n  ports:\n  - port: 80\n  - port: 81\n", "spec.ports[0].name: Required value"},
		{"annotation size", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: ns\n  annotations:\n    a: " + strings.Repeat("x", 300000) + "\n", "metadata.annotations: Too long"},
		{"route host", "apiVersion: route.openshift.io/v1\nkind: Route\nmetadata:\n  name: perf-grafana\n  namespace: " + strings.Repeat("n", 57) + "\nspec:\n  to:\n    kind: Service\n    name: perf-grafana\n", "the host OpenShift makes up"},
		{"ingress host IP", "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: i\n  namespace: ns\nspec:\n  rules:\n  - host: 10.0.0.1\n", "must be a DNS name, not an IP address"},
		{"CIDR", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: p\n  namespace: ns\nspec:\n  egress:\n  - to:\n    - ipBlock:\n        cidr: 10.0.0.1/24\n    ports:\n    - port: 70000\n", "is ambiguous"},
		{"NetworkPolicy port", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: p\n  namespace: ns\nspec:\n  egress:\n  - ports:\n    - port: 70000\n", "spec.egress[0].ports[0].port: Invalid value: 70000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			objs := yamlObjects(t, []byte(tc.doc))
			if len(objs) != 1 {
				t.Fatalf("%d objects", len(objs))
			}
			problems := strings.Join(kubeLimits(objs[0]), "\n")
			if !strings.Contains(problems, tc.want) {
				t.Errorf("want a problem containing %q, got:\n%s", tc.want, problems)
			}
		})
	}
}

// yamlObjects splits a YAML stream into objects.
func yamlObjects(t testing.TB, stream []byte) []map[string]any {
	t.Helper()
	nodes, err := kio.FromBytes(stream)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, n := range nodes {
		s, err := n.String()
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := yaml.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// clusterScoped kinds have no namespace.
var clusterScoped = map[string]bool{"Namespace": true, "ClusterRole": true, "ClusterRoleBinding": true, "CustomResourceDefinition": true}

// nameRule is the API server's rule for a kind's metadata.name, stricter
// where the server only warns (a Deployment's or CronJob's name that is
// not a DNS label becomes part of pod names and host names).
func nameRule(kind string) apivalidation.ValidateNameFunc {
	switch kind {
	case "Service":
		return apivalidation.NameIsDNS1035Label
	case "Namespace":
		return apivalidation.ValidateNamespaceName
	case "Deployment":
		return apivalidation.NameIsDNSLabel
	case "CronJob":
		// The controller appends 11 characters for its Jobs (ValidateCronJob).
		return func(name string, prefix bool) []string {
			msgs := apivalidation.NameIsDNSLabel(name, prefix)
			if len(name) > validation.DNS1035LabelMaxLength-11 {
				msgs = append(msgs, fmt.Sprintf("must be no more than %d characters", validation.DNS1035LabelMaxLength-11))
			}
			return msgs
		}
	case "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding":
		// RBAC accepts any path segment; we hold them to a DNS subdomain too.
		return func(name string, prefix bool) []string {
			return append(path.ValidatePathSegmentName(name, prefix), apivalidation.NameIsDNSSubdomain(name, prefix)...)
		}
	}
	return apivalidation.NameIsDNSSubdomain
}

// kubeLimits lists what the API server would refuse (or warn about) in one
// object for its names, labels, annotations, ports, hosts and sizes.
func kubeLimits(obj map[string]any) []string {
	var errs field.ErrorList
	kind, _ := obj["kind"].(string)
	var meta metav1.PartialObjectMetadata
	if b, err := yaml.Marshal(obj); err != nil {
		return []string{err.Error()}
	} else if err := yaml.Unmarshal(b, &meta); err != nil {
		return []string{"metadata: " + err.Error()}
	}
	// The ArgoCD CR patch is a partial object of a namespaced kind.
	errs = append(errs, apivalidation.ValidateObjectMeta(&meta.ObjectMeta, !clusterScoped[kind], nameRule(kind), field.NewPath("metadata"))...)
	w := &limitsWalker{kind: kind, name: meta.Name, namespace: meta.Namespace}
	for k, v := range obj {
		if k != "metadata" && k != "apiVersion" && k != "kind" {
			w.walk(field.NewPath(k), k, v)
		}
	}
	errs = append(errs, w.errs...)
	out := make([]string, 0, len(errs)+len(w.warnings))
	for _, e := range errs {
		out = append(out, fmt.Sprintf("%s %s/%s: %s", kind, meta.Namespace, meta.Name, e.Error()))
	}
	for _, warning := range w.warnings {
		out = append(out, fmt.Sprintf("%s %s/%s: warning: %s", kind, meta.Namespace, meta.Name, warning))
	}
	sort.Strings(out)
	return out
}

// limitsWalker visits an object's body and checks what it recognises by
// field name, whatever the kind: pod templates (in Deployments, CronJobs,
// patches), selectors, ports, hosts.
type limitsWalker struct {
	kind, name, namespace string
	errs                  field.ErrorList
	warnings              []string
}

func (w *limitsWalker) invalid(p *field.Path, v any, msgs []string) {
	for _, m := range msgs {
		w.errs = append(w.errs, field.Invalid(p, v, m))
	}
}

func (w *limitsWalker) walk(p *field.Path, key string, v any) {
	switch x := v.(type) {
	case map[string]any:
		w.object(p, key, x)
		for k, c := range x {
			w.walk(p.Child(k), k, c)
		}
	case []any:
		w.list(p, key, x)
		for i, c := range x {
			w.walk(p.Index(i), key, c)
		}
	}
}

// object checks a map by the field it is the value of.
func (w *limitsWalker) object(p *field.Path, key string, m map[string]any) {
	asLabels := func(v any) map[string]string {
		out := map[string]string{}
		if mm, ok := v.(map[string]any); ok {
			for k, s := range mm {
				out[k] = fmt.Sprint(s)
			}
		}
		return out
	}
	switch {
	case key == "metadata": // a pod template's or job template's
		w.errs = append(w.errs, metav1validation.ValidateLabels(asLabels(m["labels"]), p.Child("labels"))...)
		w.errs = append(w.errs, apivalidation.ValidateAnnotations(asLabels(m["annotations"]), p.Child("annotations"))...)
	case m["matchLabels"] != nil || m["matchExpressions"] != nil:
		var sel metav1.LabelSelector
		if b, err := yaml.Marshal(m); err == nil && yaml.Unmarshal(b, &sel) == nil {
			w.errs = append(w.errs, metav1validation.ValidateLabelSelector(&sel, metav1validation.LabelSelectorValidationOptions{}, p)...)
		} else {
			w.errs = append(w.errs, field.Invalid(p, m, "not a label selector"))
		}
	case key == "spec" && p.String() == "spec" && w.kind == "Service":
		w.errs = append(w.errs, metav1validation.ValidateLabels(asLabels(m["selector"]), p.Child("selector"))...)
	case key == "spec" && p.String() == "spec" && w.kind == "Route":
		w.host(p.Child("host"), m["host"], false)
		w.host(p.Child("subdomain"), m["subdomain"], false)
		if m["host"] == nil && m["subdomain"] == nil && len(w.name)+1+len(w.namespace) > validation.DNS1123LabelMaxLength {
			w.errs = append(w.errs, field.Invalid(p.Child("host"), w.name+"-"+w.namespace,
				fmt.Sprintf("the host OpenShift makes up, <name>-<namespace>.<domain>, has a first label longer than %d characters: set spec.subdomain", validation.DNS1123LabelMaxLength)))
		}
	case key == "ipBlock":
		if cidr, ok := m["cidr"].(string); ok {
			w.errs = append(w.errs, validation.IsValidCIDR(p.Child("cidr"), cidr)...)
			w.warnings = append(w.warnings, validation.GetWarningsForCIDR(p.Child("cidr"), cidr)...)
		}
	case key == "configMap" || key == "persistentVolumeClaim" || key == "secret":
		for _, k := range []string{"name", "claimName", "secretName"} {
			if s, ok := m[k].(string); ok {
				w.invalid(p.Child(k), s, validation.IsDNS1123Subdomain(s))
			}
		}
	case key == "data" && (w.kind == "ConfigMap" || w.kind == "Secret") && p.String() == "data":
		size := 0
		for k, v := range m {
			w.invalid(p.Key(k), k, validation.IsConfigMapKey(k))
			size += len(k) + len(fmt.Sprint(v))
		}
		if size > 1<<20 { // core.MaxSecretSize, for ConfigMaps too
			w.errs = append(w.errs, field.TooLong(p, "", 1<<20))
		}
	}
	if t, ok := m["targetPort"].(string); ok && key == "port" {
		w.invalid(p.Child("targetPort"), t, validation.IsValidPortName(t)) // a Route's
	}
	if h, ok := m["host"]; ok && w.kind == "Ingress" {
		w.host(p.Child("host"), h, true)
	}
	if key == "service" && w.kind == "Ingress" {
		if s, ok := m["name"].(string); ok {
			w.invalid(p.Child("name"), s, validation.IsDNS1035Label(s))
		}
		if port, ok := m["port"].(map[string]any); ok {
			if s, ok := port["name"].(string); ok {
				w.invalid(p.Child("port", "name"), s, validation.IsValidPortName(s))
			}
		}
	}
	if s, ok := m["serviceAccountName"].(string); ok {
		w.invalid(p.Child("serviceAccountName"), s, validation.IsDNS1123Subdomain(s))
	}
}

// host checks a Route or Ingress host (or Route subdomain).
func (w *limitsWalker) host(p *field.Path, v any, ingress bool) {
	h, ok := v.(string)
	if !ok || h == "" {
		return
	}
	if ingress && net.ParseIP(h) != nil {
		w.errs = append(w.errs, field.Invalid(p, h, "must be a DNS name, not an IP address"))
	}
	w.invalid(p, h, validation.IsDNS1123Subdomain(h))
	for _, label := range strings.Split(h, ".") {
		if len(label) > validation.DNS1123LabelMaxLength {
			w.errs = append(w.errs, field.Invalid(p, h, fmt.Sprintf("each part must be no more than %d characters", validation.DNS1123LabelMaxLength)))
		}
	}
}

// list checks a list by the field it is the value of: names unique and
// valid, ports in range and well named.
func (w *limitsWalker) list(p *field.Path, key string, items []any) {
	names := map[string]bool{}
	for i, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			continue
		}
		ip := p.Index(i)
		name, hasName := m["name"].(string)
		switch key {
		case "containers", "initContainers", "ephemeralContainers", "volumes":
			w.invalid(ip.Child("name"), name, validation.IsDNS1123Label(name))
			if names[name] {
				w.errs = append(w.errs, field.Duplicate(ip.Child("name"), name))
			}
			names[name] = true
		case "ports":
			if hasName {
				// Container ports are IANA service names (15 characters);
				// the API server holds a Service's port names only to a DNS
				// label, we hold them to both, so any of them could name a
				// container port too.
				if w.kind == "Service" {
					w.invalid(ip.Child("name"), name, validation.IsDNS1123Label(name))
				}
				w.invalid(ip.Child("name"), name, validation.IsValidPortName(name))
				if names[name] {
					w.errs = append(w.errs, field.Duplicate(ip.Child("name"), name))
				}
				names[name] = true
			} else if w.kind == "Service" && len(items) > 1 {
				w.errs = append(w.errs, field.Required(ip.Child("name"), "when a Service has more than one port"))
			}
			for _, k := range []string{"port", "containerPort", "targetPort"} {
				switch v := m[k].(type) {
				case float64:
					w.invalid(ip.Child(k), int(v), validation.IsValidPortNum(int(v)))
				case int64:
					w.invalid(ip.Child(k), v, validation.IsValidPortNum(int(v)))
				case string:
					w.invalid(ip.Child(k), v, validation.IsValidPortName(v))
				}
			}
		case "endpoints": // ServiceMonitor
			if s, ok := m["port"].(string); ok {
				w.invalid(ip.Child("port"), s, validation.IsValidPortName(s))
			}
			if s, ok := m["targetPort"].(string); ok {
				w.invalid(ip.Child("targetPort"), s, validation.IsValidPortName(s))
			}
		}
	}
	if key == "volumeMounts" {
		for i, it := range items {
			if m, ok := it.(map[string]any); ok {
				name, _ := m["name"].(string)
				w.invalid(p.Index(i).Child("name"), name, validation.IsDNS1123Label(name))
			}
		}
	}
}
