package v1alpha1

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
	// The zone database travels in the binary: the KRM function and the
	// image may run where /usr/share/zoneinfo does not exist.
	_ "time/tzdata"

	prommodel "github.com/prometheus/common/model"
	"github.com/robfig/cron/v3"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// FieldError is one problem at one field path.
type FieldError struct {
	Path string
	Msg  string
}

func (e FieldError) Error() string { return e.Path + ": " + e.Msg }

// Errors collects every problem of a config so all are reported at once.
type Errors []FieldError

// Add records a problem at path.
func (e *Errors) Add(path, format string, args ...any) {
	*e = append(*e, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Error lists one problem per line.
func (e Errors) Error() string {
	lines := make([]string, len(e))
	for i, fe := range e {
		lines[i] = fe.Error()
	}
	return strings.Join(lines, "\n")
}

// Err returns nil when there is no problem.
func (e Errors) Err() error {
	if len(e) == 0 {
		return nil
	}
	return e
}

var precisions = map[string]bool{"bf16": true, "fp16": true, "fp32": true, "fp8": true, "int8": true, "int4": true, "w4a16": true, "w8a8": true, "awq": true, "gptq": true}

// Validate reports every problem of a defaulted config at once.
func (c *ModelPerformanceMetrics) Validate() error {
	var errs Errors
	if c.APIVersion != APIVersion {
		errs.Add("apiVersion", "must be %q, got %q", APIVersion, c.APIVersion)
	}
	if c.Kind != Kind {
		errs.Add("kind", "must be %q, got %q", Kind, c.Kind)
	}
	s := c.Spec
	dns1123(&errs, "spec.namespace", s.Namespace)
	if s.Platform != PlatformOpenShift && s.Platform != PlatformKubernetes {
		errs.Add("spec.platform", "must be %q or %q, got %q", PlatformOpenShift, PlatformKubernetes, s.Platform)
	}
	if len(s.Models) == 0 {
		errs.Add("spec.models", "must list at least one model (omit the field for the demo's two)")
	}
	seen := map[string]int{}
	for i, m := range s.Models {
		f := fmt.Sprintf("spec.models[%d]", i)
		if m.Name == "" {
			errs.Add(f+".name", "is required: the InferenceService name, which is also the served model name")
		} else {
			// <name>-predictor and <name>-metrics must stay valid names.
			if msgs := validation.IsDNS1123Label(m.Name); len(msgs) > 0 {
				errs.Add(f+".name", "%q is not a DNS-1123 label: use lower-case letters, digits and '-', starting and ending with a letter or digit", m.Name)
			} else if len(m.Name) > 63-len("-predictor") {
				errs.Add(f+".name", "must be at most %d characters so that %q stays a valid name", 63-len("-predictor"), m.Name+"-predictor")
			}
			if j, dup := seen[m.Name]; dup {
				errs.Add(f+".name", "duplicate model %q (also spec.models[%d]): names must be unique", m.Name, j)
			}
			seen[m.Name] = i
		}
		if m.Precision != "" && !precisions[strings.ToLower(m.Precision)] {
			errs.Add(f+".precision", "unknown precision %q: use one of bf16, fp16, fp32, fp8, int8, int4, w4a16, w8a8, awq, gptq", m.Precision)
		}
		if m.GPUs != nil && *m.GPUs < 1 {
			errs.Add(f+".gpus", "must be at least 1")
		} else if m.GPUs != nil && *m.GPUs > 64 {
			errs.Add(f+".gpus", "must be at most 64")
		}
		validateURL(&errs, f+".endpoint", m.Endpoint, false)
		if m.AuthProxy {
			if s.Platform != PlatformOpenShift {
				errs.Add(f+".authProxy", "needs platform %q (the model auth proxy is OpenShift AI's); on %q leave it unset and point endpoint at the server", PlatformOpenShift, s.Platform)
			}
			if s.Sweep.APIKeySecret == "" {
				errs.Add(f+".authProxy", "needs spec.sweep.apiKeySecret: a Secret whose key %q holds a token the auth proxy accepts (a ServiceAccount token with access to the InferenceService)", APIKeyFileName)
			}
		}
		if m.MetricsPort < 1 || m.MetricsPort > 65535 {
			errs.Add(f+".metricsPort", "must be a port between 1 and 65535")
		}
		if m.MinReplicas < 0 || m.MaxReplicas < 0 || m.MaxReplicas > 0 && m.MinReplicas > m.MaxReplicas {
			errs.Add(f+".minReplicas", "must be within 0..maxReplicas (the InferenceService's), got %d and maxReplicas %d", m.MinReplicas, m.MaxReplicas)
		}
		if m.GPUHourCost < 0 {
			errs.Add(f+".gpuHourCost", "must not be negative")
		}
	}
	p := s.Prometheus
	image(&errs, "spec.prometheus.image", p.Image)
	if p.ScrapeInterval.Duration < 1e9 {
		errs.Add("spec.prometheus.scrapeInterval", "must be at least 1s")
	}
	if d, err := prommodel.ParseDuration(p.Retention); err != nil || d <= 0 {
		errs.Add("spec.prometheus.retention", "invalid retention %q: use a Prometheus duration such as \"15d\" or \"12h\"", p.Retention)
	}
	switch p.Storage.Type {
	case StoragePVC:
		quantity(&errs, "spec.prometheus.storage.size", p.Storage.Size)
	case StorageEmptyDir:
		if p.Storage.Size != "" {
			quantity(&errs, "spec.prometheus.storage.size", p.Storage.Size)
		}
	default:
		errs.Add("spec.prometheus.storage.type", "must be %q or %q, got %q", StoragePVC, StorageEmptyDir, p.Storage.Type)
	}
	if p.Storage.StorageClassName != "" {
		dns1123sub(&errs, "spec.prometheus.storage.storageClassName", p.Storage.StorageClassName)
	}
	g := s.Grafana
	image(&errs, "spec.grafana.image", g.Image)
	if g.RouteHost != "" {
		if msgs := validation.IsDNS1123Subdomain(g.RouteHost); len(msgs) > 0 {
			errs.Add("spec.grafana.routeHost", "%q is not a valid host name", g.RouteHost)
		}
	}
	dns1123sub(&errs, "spec.grafana.adminSecret", g.AdminSecret)
	if g.OAuthProxy {
		if s.Platform != PlatformOpenShift {
			errs.Add("spec.grafana.oauthProxy", "needs platform %q (the OAuth proxy authenticates against OpenShift)", PlatformOpenShift)
		}
		image(&errs, "spec.grafana.oauthProxyImage", g.OAuthProxyImage)
	}
	validateURL(&errs, "spec.monitoring.thanosQuerierURL", s.Monitoring.ThanosQuerierURL, false)
	dns1123(&errs, "spec.monitoring.dcgmNamespace", s.Monitoring.DCGMNamespace)
	switch s.Monitoring.ServiceMonitor {
	case ServiceMonitorOwn:
	case ServiceMonitorPlatform:
		if s.Platform != PlatformOpenShift {
			errs.Add("spec.monitoring.serviceMonitor", "%q needs platform %q (OpenShift AI creates <model>-metrics ServiceMonitors); use %q", ServiceMonitorPlatform, PlatformOpenShift, ServiceMonitorOwn)
		}
	default:
		errs.Add("spec.monitoring.serviceMonitor", "must be %q (reuse OpenShift AI's <model>-metrics ServiceMonitor) or %q (generate one per model), got %q", ServiceMonitorPlatform, ServiceMonitorOwn, s.Monitoring.ServiceMonitor)
	}
	sw := s.Sweep
	image(&errs, "spec.sweep.image", sw.Image)
	if _, err := cron.ParseStandard(sw.Schedule); err != nil || strings.HasPrefix(strings.TrimSpace(sw.Schedule), "TZ=") || strings.HasPrefix(strings.TrimSpace(sw.Schedule), "CRON_TZ=") {
		errs.Add("spec.sweep.schedule", "invalid cron schedule %q: use five fields such as \"0 2 * * *\" (daily at 02:00)", sw.Schedule)
	}
	validateTimeZone(&errs, "spec.sweep.timeZone", sw.TimeZone)
	sw.SweepSettings.validate(&errs, "spec.sweep")
	deadline, ready := val(sw.ActiveDeadline).Duration, val(sw.ReadyTimeout).Duration
	if deadline < 60e9 {
		errs.Add("spec.sweep.activeDeadline", "must be at least 1m")
	} else if ready <= 24*time.Hour && ready >= deadline {
		errs.Add("spec.sweep.readyTimeout", "must be shorter than activeDeadline (%s), or the Job would end while it waits", deadline)
	}
	quantity(&errs, "spec.sweep.results.size", sw.Results.Size)
	if sw.Results.StorageClassName != "" {
		dns1123sub(&errs, "spec.sweep.results.storageClassName", sw.Results.StorageClassName)
	}
	if sw.APIKeySecret != "" {
		dns1123sub(&errs, "spec.sweep.apiKeySecret", sw.APIKeySecret)
	}
	a := s.ArgoCD
	validateURL(&errs, "spec.argocd.repoURL", a.RepoURL, true)
	if a.Revision == "" {
		errs.Add("spec.argocd.revision", "is required")
	}
	if a.Path == "" || strings.HasPrefix(a.Path, "/") || strings.Contains(a.Path, "..") {
		errs.Add("spec.argocd.path", "must be a relative path inside the repository, got %q", a.Path)
	}
	dns1123(&errs, "spec.argocd.namespace", a.Namespace)
	dns1123sub(&errs, "spec.argocd.project", a.Project)
	image(&errs, "spec.argocd.pluginImage", a.PluginImage)
	validateNetworkPolicies(&errs, c)
	validateLimits(&errs, c)
	return errs.Err()
}

// validateTimeZone accepts what the API server accepts for a CronJob's
// timeZone: an IANA name known to the Go time zone database, not "Local".
func validateTimeZone(errs *Errors, f, tz string) {
	if strings.EqualFold(tz, "Local") || strings.TrimSpace(tz) != tz || tz == "" {
		errs.Add(f, "%q is not an explicit time zone: use an IANA name such as \"UTC\" or \"Europe/Paris\"", tz)
		return
	}
	if _, err := time.LoadLocation(tz); err != nil {
		errs.Add(f, "unknown time zone %q: use an IANA name such as \"UTC\" or \"Europe/Paris\"", tz)
	}
}

func validateConcurrency(errs *Errors, f string, list []int, start, max int) {
	if len(list) > 0 {
		prev := 0
		for i, c := range list {
			if c < 1 {
				errs.Add(fmt.Sprintf("%s.concurrency[%d]", f, i), "must be at least 1")
			} else if c <= prev {
				errs.Add(fmt.Sprintf("%s.concurrency[%d]", f, i), "must be greater than the step before it (%d): list steps in increasing order", prev)
			} else if c > 100000 {
				errs.Add(fmt.Sprintf("%s.concurrency[%d]", f, i), "must be at most 100000")
			}
			prev = c
		}
		return
	}
	if start < 1 {
		errs.Add(f+".startConcurrency", "must be at least 1")
	}
	if max < 1 {
		errs.Add(f+".maxConcurrency", "must be at least 1")
	} else if max < start {
		errs.Add(f+".maxConcurrency", "must be at least startConcurrency (%d)", start)
	} else if max > 100000 {
		errs.Add(f+".maxConcurrency", "must be at most 100000")
	}
}

func validateTiming(errs *Errors, f string, step, warmup, timeout Duration) {
	if step.Duration < 1e9 {
		errs.Add(f+".stepDuration", "must be at least 1s")
	}
	if warmup.Duration < 0 {
		errs.Add(f+".warmup", "must not be negative")
	}
	if timeout.Duration < 1e9 {
		errs.Add(f+".requestTimeout", "must be at least 1s")
	}
}

func validateAPI(errs *Errors, f, api string) {
	if api != APICompletions && api != APIChat {
		errs.Add(f, "must be %q or %q, got %q", APICompletions, APIChat, api)
	}
}

func validateScenarios(errs *Errors, f string, sc []Scenario) {
	if len(sc) == 0 {
		errs.Add(f, "must list at least one scenario (omit the field for A, B and C)")
	}
	seen := map[string]bool{}
	for i, s := range sc {
		p := fmt.Sprintf("%s[%d]", f, i)
		if s.Name == "" {
			errs.Add(p+".name", "is required")
		} else if msgs := validation.IsDNS1123Label(strings.ToLower(s.Name)); len(msgs) > 0 {
			errs.Add(p+".name", "%q must be letters, digits and '-' (it becomes a label value and a file name)", s.Name)
		} else if seen[s.Name] {
			errs.Add(p+".name", "duplicate scenario %q", s.Name)
		}
		seen[s.Name] = true
		// A dataset's lengths are the file's (its means are filled when
		// the sweep reads it).
		if (s.Dataset == nil || s.InputTokens != 0) && (s.InputTokens < 1 || s.InputTokens > 1<<20) {
			errs.Add(p+".inputTokens", "must be between 1 and 1048576")
		}
		if (s.Dataset == nil || s.OutputTokens != 0) && (s.OutputTokens < 1 || s.OutputTokens > 1<<20) {
			errs.Add(p+".outputTokens", "must be between 1 and 1048576")
		}
		s.validateLengths(errs, p)
		if s.Spread < 0 || s.Spread > 0.9 {
			errs.Add(p+".spread", "must be between 0 and 0.9")
		}
		s.validateWorkload(errs, p)
		validateDataset(errs, p, s.Dataset)
	}
}

func (s SLA) validate(errs *Errors, f string) {
	for _, x := range s.slaTimes() {
		t, unset := *x.t, ""
		if x.optional {
			if t == (DurationThresholds{}) {
				continue
			}
			unset = " (or leave it unset: not graded)"
		}
		if t.Excellent.Duration <= 0 || !(t.Excellent.Duration < t.Acceptable.Duration && t.Acceptable.Duration < t.Degraded.Duration) {
			errs.Add(f+"."+x.path, "thresholds out of order: need 0 < excellent < acceptable < degraded, got %s / %s / %s%s", t.Excellent.Duration, t.Acceptable.Duration, t.Degraded.Duration, unset)
		}
	}
	r := s.ReadingSpeed
	if !(r.Excellent > r.Acceptable && r.Acceptable > r.Degraded && r.Degraded > 0) {
		errs.Add(f+".readingSpeed", "thresholds out of order: reading speed is higher-is-better, need excellent > acceptable > degraded > 0, got %g / %g / %g", r.Excellent, r.Acceptable, r.Degraded)
	}
	k := s.KVCache
	if !(0 < k.Excellent && k.Excellent < k.Acceptable && k.Acceptable < k.Degraded && k.Degraded <= 100) {
		errs.Add(f+".kvCache", "thresholds out of order: need 0 < excellent < acceptable < degraded <= 100 (percent), got %g / %g / %g", k.Excellent, k.Acceptable, k.Degraded)
	}
	u := s.Success
	if !(u.Excellent <= 100 && u.Excellent > u.Acceptable && u.Acceptable > u.Degraded && u.Degraded > 0) {
		errs.Add(f+".success", "thresholds out of order: need 100 >= excellent > acceptable > degraded > 0 (percent), got %g / %g / %g", u.Excellent, u.Acceptable, u.Degraded)
	}
	if s.QueueFraction <= 0 || s.QueueFraction > 1 {
		errs.Add(f+".queueFraction", "must be in (0, 1]: the share of samples with waiting > 0 that breaks a step")
	}
}

func validateURL(errs *Errors, f, raw string, required bool) {
	if raw == "" {
		if required {
			errs.Add(f, "is required")
		}
		return
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs.Add(f, "invalid URL %q: use an absolute http:// or https:// URL", raw)
	}
}

func dns1123(errs *Errors, f, v string) {
	if msgs := validation.IsDNS1123Label(v); len(msgs) > 0 {
		errs.Add(f, "%q is not a DNS-1123 label: use lower-case letters, digits and '-', at most 63 characters", v)
	}
}

func dns1123sub(errs *Errors, f, v string) {
	if msgs := validation.IsDNS1123Subdomain(v); len(msgs) > 0 {
		errs.Add(f, "%q is not a valid object name (DNS-1123 subdomain)", v)
	}
}

func quantity(errs *Errors, f, v string) {
	q, err := resource.ParseQuantity(v)
	if err != nil {
		errs.Add(f, "invalid quantity %q: use a Kubernetes quantity such as \"10Gi\"", v)
	} else if q.Sign() <= 0 {
		errs.Add(f, "must be greater than zero, got %q", v)
	}
}

func image(errs *Errors, f, v string) {
	if v == "" || strings.ContainsAny(v, " \t\n") {
		errs.Add(f, "invalid image reference %q", v)
	} else if strings.HasSuffix(v, ":latest") {
		errs.Add(f, "%q: pin a tag or digest instead of :latest", v)
	}
}

func validateNetworkPolicies(errs *Errors, c *ModelPerformanceMetrics) {
	np := c.Spec.NetworkPolicies
	const f = "spec.networkPolicies"
	if np.IngressNamespace != "" {
		if c.Spec.Platform != PlatformKubernetes {
			errs.Add(f+".ingressNamespace", "applies to platform %q only: on OpenShift the router is selected by the namespace label policy-group.network.openshift.io/ingress", PlatformKubernetes)
		} else {
			dns1123(errs, f+".ingressNamespace", np.IngressNamespace)
		}
	}
	for i, cidr := range np.APIServerCIDRs {
		if _, _, err := net.ParseCIDR(cidr); err != nil {
			errs.Add(fmt.Sprintf("%s.apiServerCIDRs[%d]", f, i), "invalid CIDR %q: use an address range such as \"10.0.0.0/24\" or \"192.0.2.10/32\"", cidr)
		}
	}
	if !np.On() {
		return
	}
	for i, m := range c.Spec.Models {
		u, err := url.Parse(m.Endpoint)
		if m.Endpoint == "" || err != nil || u.Host == "" {
			continue // reported above
		}
		f := fmt.Sprintf("spec.models[%d].endpoint", i)
		ns, ok := EndpointNamespace(u.Hostname(), c.Spec.Namespace)
		switch {
		case !ok:
			errs.Add(f, "host %q is outside the cluster, and the sweep's NetworkPolicy only lets it reach the models' predictor pods: use the predictor Service (http://%s-predictor.%s.svc.cluster.local) or set spec.networkPolicies.enabled: false", u.Hostname(), m.Name, c.Spec.Namespace)
		case !strings.EqualFold(ns, c.Spec.Namespace) && len(validation.IsDNS1123Label(ns)) > 0:
			// A bad spec.namespace is reported once, at spec.namespace.
			errs.Add(f, "namespace %q of host %q is not a DNS-1123 label", ns, u.Hostname())
		}
	}
}

// EndpointNamespace returns the namespace of an in-cluster Service host
// (<svc>, <svc>.<ns>.svc or <svc>.<ns>.svc.cluster.local; a bare name is in
// ns) and false for any other host. The namespace is not validated.
func EndpointNamespace(host, ns string) (string, bool) {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	parts := strings.Split(host, ".")
	switch {
	case len(parts) == 1 && net.ParseIP(host) == nil:
		return ns, true
	case (len(parts) == 3 && parts[2] == "svc") || (len(parts) == 5 && strings.Join(parts[2:], ".") == "svc.cluster.local"):
		return parts[1], true
	}
	return "", false
}
