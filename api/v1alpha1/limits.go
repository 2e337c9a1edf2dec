package v1alpha1

import (
	"fmt"
	"github.com/rhoai-demo/step07/internal/k8sname"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// GrafanaRouteSubdomain is spec.subdomain of Grafana's Route: empty when
// the Route has a host (spec.grafana.routeHost, or platform kubernetes)
// or when the host OpenShift makes up without one, <route>-<namespace>.<apps
// domain>, has a first label within 63 characters (namespaces of up to 50
// characters); for a longer namespace OpenShift would refuse that host, so
// the Route asks for the subdomain perf-grafana-<namespace> shortened to 63
// characters (Shorten) instead.
func (c *ModelPerformanceMetrics) GrafanaRouteSubdomain() string {
	if c.Spec.Platform != PlatformOpenShift || c.Spec.Grafana.RouteHost != "" {
		return ""
	}
	if generated := GrafanaName + "-" + c.Spec.Namespace; len(generated) > k8sname.MaxDNSLabel {
		return k8sname.Shorten(generated, k8sname.MaxDNSLabel)
	}
	return ""
}

// timeZonePart is what the API server accepts for each '/'-separated part
// of a CronJob's timeZone (k8s.io/kubernetes pkg/apis/batch/validation).
var timeZonePart = regexp.MustCompile(`^[A-Za-z\.\-_0-9+]{1,14}$`)

// validateLimits refuses what the rest of Validate lets through but the API
// server would refuse (or warn about) in the generated objects.
func validateLimits(errs *Errors, c *ModelPerformanceMetrics) {
	s := c.Spec
	if h := s.Grafana.RouteHost; h != "" {
		if net.ParseIP(h) != nil {
			errs.Add("spec.grafana.routeHost", "%q is an IP address: the Route or Ingress host must be a DNS name", h)
		}
		for _, label := range strings.Split(h, ".") {
			if len(label) > k8sname.MaxDNSLabel {
				errs.Add("spec.grafana.routeHost", "%q: each dot-separated part of a host name may have at most %d characters, %q has %d", h, k8sname.MaxDNSLabel, label, len(label))
				break
			}
		}
	}
	for i, m := range s.Models {
		urlPort(errs, fmt.Sprintf("spec.models[%d].endpoint", i), m.Endpoint)
	}
	urlPort(errs, "spec.monitoring.thanosQuerierURL", s.Monitoring.ThanosQuerierURL)
	for i, cidr := range s.NetworkPolicies.APIServerCIDRs {
		_, ipnet, err := net.ParseCIDR(cidr)
		if err != nil {
			continue // reported by validateNetworkPolicies
		}
		if p, err := netip.ParsePrefix(cidr); err != nil || p != p.Masked() || p.Addr().Is4In6() || p.String() != cidr {
			errs.Add(fmt.Sprintf("spec.networkPolicies.apiServerCIDRs[%d]", i), "%q is not a network address in canonical form (the API server warns about it in a NetworkPolicy): write %q", cidr, ipnet.String())
		}
	}
	if tz := s.Sweep.TimeZone; tz != "" && validZone(tz) {
		for _, part := range strings.Split(tz, "/") {
			if part == "." || part == ".." || strings.HasPrefix(part, "-") || !timeZonePart.MatchString(part) {
				errs.Add("spec.sweep.timeZone", "%q: the API server accepts a CronJob time zone whose '/'-separated parts have 1 to 14 of the characters A-Z, a-z, 0-9, '.', '-', '_' and '+'", tz)
				break
			}
		}
	}
}

// validZone: a zone validateTimeZone accepts (its errors are reported there).
func validZone(tz string) bool {
	var e Errors
	validateTimeZone(&e, "", tz)
	return len(e) == 0
}

// urlPort refuses a URL whose port is outside 1..65535: it becomes a
// NetworkPolicy port (url.Parse checks only that the port is digits).
func urlPort(errs *Errors, f, raw string) {
	u, err := url.Parse(raw)
	if raw == "" || err != nil || u.Port() == "" {
		return
	}
	if p, err := strconv.Atoi(u.Port()); err != nil || p < 1 || p > 65535 {
		errs.Add(f, "port %q of %q must be between 1 and 65535", u.Port(), raw)
	}
}

// PinsUIDs says whether the generated pods pin their users' UIDs: on plain
// Kubernetes nothing assigns one (kit.PodSecurity); on OpenShift the
// restricted-v2 SCC does, from the namespace's range.
func (c *ModelPerformanceMetrics) PinsUIDs() bool { return c.Spec.Platform == PlatformKubernetes }
