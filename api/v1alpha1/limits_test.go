package v1alpha1

import (
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/internal/k8sname"
	"k8s.io/apimachinery/pkg/util/validation"
)

// The two configs of the issue: a 53-character model's own ServiceMonitor
// and a 57-character namespace's ClusterRoleBinding; their names stay whole
// (valid names), their label values are shortened (kit.Labels) and the
// Route asks for a subdomain OpenShift accepts.
func TestLongNamesOfTheIssue(t *testing.T) {
	ns := "n" + strings.Repeat("abcdefghij", 5) + "-ab-cd"
	c := mustLoad(t, "spec:\n  namespace: "+ns+"\n")
	crb := c.GrafanaClusterRoleBindingName()
	if crb != ns+"-perf-grafana-cluster-monitoring-view" {
		t.Errorf("ClusterRoleBinding %q: a name within 253 characters is not shortened", crb)
	}
	if l := k8sname.LabelValue(crb); len(l) > 63 || !strings.HasPrefix(l, ns[:51]+"-") {
		t.Errorf("ClusterRoleBinding label %q", l)
	}
	sub := c.GrafanaRouteSubdomain()
	if len(sub) > 63 || !strings.HasPrefix(sub, GrafanaName+"-n") || len(validation.IsDNS1123Label(sub)) > 0 {
		t.Errorf("Route subdomain %q: want perf-grafana-<namespace> shortened to a DNS label", sub)
	}
	// A namespace that fits keeps the router's own host: no subdomain.
	if got := mustLoad(t, "spec:\n  namespace: "+strings.Repeat("a", 50)+"\n").GrafanaRouteSubdomain(); got != "" {
		t.Errorf("50-character namespace: subdomain %q, want none", got)
	}
	if got := mustLoad(t, "spec:\n  namespace: "+ns+"\n  grafana:\n    routeHost: grafana.apps.example.com\n").GrafanaRouteSubdomain(); got != "" {
		t.Errorf("with routeHost: subdomain %q, want none", got)
	}
	if got := mustLoad(t, "spec:\n  namespace: "+ns+"\n  platform: kubernetes\n").GrafanaRouteSubdomain(); got != "" {
		t.Errorf("kubernetes: subdomain %q, want none", got)
	}
}

// What Validate refuses because the API server would refuse (or warn about)
// the objects made from it.
func TestValidateKubernetesLimits(t *testing.T) {
	cases := []struct {
		name, body, want string
	}{
		{"route host an IP", "spec:\n  platform: kubernetes\n  grafana:\n    routeHost: 10.0.0.1\n", "spec.grafana.routeHost: \"10.0.0.1\" is an IP address"},
		{"route host label too long", "spec:\n  grafana:\n    routeHost: " + strings.Repeat("g", 64) + ".apps.example.com\n", "spec.grafana.routeHost: \"" + strings.Repeat("g", 64) + ".apps.example.com\": each dot-separated part of a host name may have at most 63 characters"},
		{"endpoint port 0", "spec:\n  models:\n  - name: m\n    endpoint: http://m-predictor:0\n", "spec.models[0].endpoint: port \"0\" of \"http://m-predictor:0\" must be between 1 and 65535"},
		{"endpoint port 70000", "spec:\n  models:\n  - name: m\n    endpoint: http://m-predictor.ns.svc:70000/v1\n", "spec.models[0].endpoint: port \"70000\""},
		{"thanos port", "spec:\n  monitoring:\n    thanosQuerierURL: https://thanos-querier.openshift-monitoring.svc:99999\n", "spec.monitoring.thanosQuerierURL: port \"99999\""},
		{"CIDR with host bits", "spec:\n  networkPolicies:\n    apiServerCIDRs: [10.0.0.1/24]\n", "spec.networkPolicies.apiServerCIDRs[0]: \"10.0.0.1/24\" is not a network address in canonical form (the API server warns about it in a NetworkPolicy): write \"10.0.0.0/24\""},
		{"IPv6 CIDR not canonical", "spec:\n  networkPolicies:\n    apiServerCIDRs: [\"2001:DB8:0::/32\"]\n", "write \"2001:db8::/32\""},
		{"IPv4-mapped CIDR", "spec:\n  networkPolicies:\n    apiServerCIDRs: [\"::ffff:10.0.0.0/104\"]\n", "apiServerCIDRs[0]: \"::ffff:10.0.0.0/104\" is not a network address in canonical form"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig([]byte(header + tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant an error containing %q", err, tc.want)
			}
		})
	}
	// What stays accepted.
	for _, body := range []string{
		"spec:\n  networkPolicies:\n    apiServerCIDRs: [10.0.0.0/24, 192.0.2.10/32, \"2001:db8::/32\"]\n",
		"spec:\n  grafana:\n    routeHost: " + strings.Repeat("g", 63) + ".apps.example.com\n",
		"spec:\n  models:\n  - name: m\n    endpoint: http://m-predictor:65535\n",
		"spec:\n  sweep:\n    timeZone: Etc/GMT+5\n",
		"spec:\n  sweep:\n    timeZone: America/Argentina/ComodRivadavia\n",
	} {
		if _, err := LoadConfig([]byte(header + body)); err != nil {
			t.Errorf("%s: %v", body, err)
		}
	}
}
