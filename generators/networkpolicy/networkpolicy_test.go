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

// The sweep reaches the Prometheus the plan names: the local one, which
// holds GPU power on every platform (see TestSweepReadsPowerLocally), the
// Thanos Querier only when a URL points at openshift-monitoring.
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

// On OpenShift too the plan reads DCGM power from the local Prometheus,
// which scrapes the exporter: the sweep reaches that Prometheus only, not
// the Thanos Querier.
func TestSweepReadsPowerLocally(t *testing.T) {
	c := load(t, "spec: {platform: openshift}\n")
	plan := c.Plan()
	got := prometheusEgress(c, plan.Spec.PrometheusURL, plan.Spec.RemoteWriteURL)
	if len(got) != 1 || got[0].Ports[0].Port.IntVal != 9090 || got[0].To[0].PodSelector.MatchLabels["app.kubernetes.io/name"] != v1alpha1.PrometheusName {
		t.Errorf("openshift: %+v", got)
	}
}

// With its egress restricted, Prometheus may reach the DCGM exporter's
// namespace on 9400, and nothing else there.
func TestPrometheusEgressToDCGM(t *testing.T) {
	c := load(t, "spec:\n  monitoring: {dcgmNamespace: gpu-operator}\n  networkPolicies: {apiServerCIDRs: [10.0.0.1/32]}\n")
	objs, _ := Objects(c)
	found := 0
	for _, o := range objs {
		if o.GetName() != v1alpha1.PrometheusName {
			continue
		}
		for _, r := range o.(*networkingv1.NetworkPolicy).Spec.Egress {
			for _, peer := range r.To {
				if peer.NamespaceSelector != nil && peer.NamespaceSelector.MatchLabels[NamespaceNameLabel] == "gpu-operator" {
					found++
					if len(r.Ports) != 1 || r.Ports[0].Port.IntVal != v1alpha1.DCGMExporterPort {
						t.Errorf("DCGM egress ports %+v", r.Ports)
					}
				}
			}
		}
	}
	if found != 1 {
		t.Errorf("%d egress peers in the DCGM namespace, want 1", found)
	}
}

// The sweep accepts no connection, unless it is sharded: then its own pods,
// on the coordination port only, and it may dial them there.
func TestSweepShards(t *testing.T) {
	for _, tc := range []struct {
		spec    string
		sharded bool
	}{{"spec: {}\n", false}, {"spec:\n  sweep: {shards: 1}\n", false}, {"spec:\n  sweep: {shards: 3}\n", true}} {
		objs, _ := Objects(load(t, tc.spec))
		var p *networkingv1.NetworkPolicy
		for _, o := range objs {
			if o.GetName() == v1alpha1.SweepName {
				p = o.(*networkingv1.NetworkPolicy)
			}
		}
		toShards := 0
		for _, r := range p.Spec.Egress {
			for _, peer := range r.To {
				if peer.PodSelector != nil && peer.PodSelector.MatchLabels["app.kubernetes.io/name"] == v1alpha1.SweepName {
					toShards++
					if len(r.Ports) != 1 || r.Ports[0].Port.IntVal != v1alpha1.SweepCoordPort {
						t.Errorf("%q: egress to the shards on %+v", tc.spec, r.Ports)
					}
				}
			}
		}
		if !tc.sharded {
			if len(p.Spec.Ingress) != 0 || toShards != 0 {
				t.Errorf("%q: ingress %+v, %d egress peers to the sweep: want none", tc.spec, p.Spec.Ingress, toShards)
			}
			continue
		}
		in := p.Spec.Ingress
		if len(in) != 1 || len(in[0].From) != 1 || in[0].From[0].NamespaceSelector != nil || in[0].From[0].PodSelector.MatchLabels["app.kubernetes.io/name"] != v1alpha1.SweepName ||
			len(in[0].Ports) != 1 || in[0].Ports[0].Port.IntVal != v1alpha1.SweepCoordPort || toShards != 1 {
			t.Errorf("%q: ingress %+v, %d egress peers to the sweep: want the sweep pods on %d both ways", tc.spec, in, toShards, v1alpha1.SweepCoordPort)
		}
	}
}
