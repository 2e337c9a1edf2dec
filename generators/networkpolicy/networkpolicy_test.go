package networkpolicy

import (
	"testing"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	networkingv1 "k8s.io/api/networking/v1"
)

func load(t *testing.T, spec string) *v1alpha1.ModelPerformanceMetrics {
	t.Helper()
	c, err := v1alpha1.LoadConfig([]byte("apiVersion: step07.rhoai-demo.io/v1alpha1\nkind: ModelPerformanceMetrics\n" + spec))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDisabled(t *testing.T) {
	objs, err := Objects(load(t, "spec:\n  networkPolicies:\n    enabled: false\n"))
	if err != nil || len(objs) != 0 {
		t.Errorf("disabled: %d objects, %v", len(objs), err)
	}
}

// A model served from another namespace is reached there, by its labels and
// that namespace; the endpoint's explicit port is allowed too.
func TestEndpointElsewhere(t *testing.T) {
	c := load(t, "spec:\n  models:\n  - name: m\n    endpoint: http://m-predictor.serving.svc.cluster.local:8000\n")
	objs, _ := Objects(c)
	var sweepPolicy *networkingv1.NetworkPolicy
	for _, o := range objs {
		if o.GetName() == v1alpha1.SweepName {
			sweepPolicy = o.(*networkingv1.NetworkPolicy)
		}
	}
	r := sweepPolicy.Spec.Egress[0]
	peer := r.To[0]
	if peer.NamespaceSelector == nil || peer.NamespaceSelector.MatchLabels[NamespaceNameLabel] != "serving" || peer.PodSelector.MatchLabels[v1alpha1.LabelInferenceService] != "m" {
		t.Errorf("peer %+v", peer)
	}
	var ports []int32
	for _, p := range r.Ports {
		ports = append(ports, p.Port.IntVal)
	}
	// The endpoint's port and the metrics port; no 80: the predictor
	// Service is headless, policies see pod ports.
	if len(ports) != 2 || ports[0] != 8000 || ports[1] != 8080 {
		t.Errorf("ports %v, want [8000 8080]", ports)
	}
	// Behind the auth proxy: its TLS port and vLLM's metrics port.
	c = load(t, "spec:\n  models:\n  - name: m\n    authProxy: true\n  sweep:\n    apiKeySecret: k\n")
	objs, _ = Objects(c)
	for _, o := range objs {
		if o.GetName() == v1alpha1.SweepName {
			ports = nil
			for _, p := range o.(*networkingv1.NetworkPolicy).Spec.Egress[0].Ports {
				ports = append(ports, p.Port.IntVal)
			}
		}
	}
	if len(ports) != 2 || ports[0] != 8080 || ports[1] != 8443 {
		t.Errorf("auth proxy ports %v, want [8080 8443]", ports)
	}
}

// The sweep reaches the Prometheus the plan names: the local one by default
// (on OpenShift the plan reads GPU power from the Thanos Querier, see
// TestSweepEgressReachesThanosForPower), the Thanos Querier only when a URL
// points at openshift-monitoring.
func TestPrometheusEgressFollowsThePlan(t *testing.T) {
	c := load(t, "spec: {platform: kubernetes}\n")
	plan := c.Plan()
	local := prometheusEgress(c, plan.Spec.PrometheusURL, plan.Spec.RemoteWriteURL)
	if len(local) != 1 || local[0].To[0].PodSelector.MatchLabels["app.kubernetes.io/name"] != v1alpha1.PrometheusName || local[0].Ports[0].Port.IntVal != 9090 {
		t.Errorf("local: %+v", local)
	}
	both := prometheusEgress(c, "https://thanos-querier.openshift-monitoring.svc.cluster.local:9091", plan.Spec.RemoteWriteURL)
	if len(both) != 2 || both[1].To[0].NamespaceSelector.MatchLabels[NamespaceNameLabel] != MonitoringNamespace || len(both[1].Ports) != 2 {
		t.Errorf("thanos: %+v", both)
	}
	if got := prometheusEgress(c, "https://prometheus.example.com"); len(got) != 0 {
		t.Errorf("external: %+v", got)
	}
}

// On OpenShift the plan reads DCGM power from the Thanos Querier (the
// platform Prometheus holds the GPU operator's metrics): the sweep may reach
// it, and remote-writes to the local Prometheus.
func TestSweepEgressReachesThanosForPower(t *testing.T) {
	c := load(t, "spec: {platform: openshift}\n")
	plan := c.Plan()
	got := prometheusEgress(c, plan.Spec.PrometheusURL, plan.Spec.RemoteWriteURL)
	if len(got) != 2 || got[0].Ports[0].Port.IntVal != 9090 || got[1].To[0].NamespaceSelector.MatchLabels[NamespaceNameLabel] != MonitoringNamespace {
		t.Errorf("openshift: %+v", got)
	}
}
