package networkpolicy

import (
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/internal/kit"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Component is the base/ folder of the policies.
const Component = "networkpolicy"

// Labels and namespaces the policies select by.
const (
	// NamespaceNameLabel is set on every namespace by Kubernetes (1.21+).
	NamespaceNameLabel = "kubernetes.io/metadata.name"
	// OpenShiftIngressLabel marks the router's namespace (host-network routers included).
	OpenShiftIngressLabel = "policy-group.network.openshift.io/ingress"
	OpenShiftDNSNamespace = "openshift-dns"
	// MonitoringNamespace runs the Thanos Querier on OpenShift.
	MonitoringNamespace = "openshift-monitoring"
	KubeDNSNamespace    = "kube-system"
	KubeDNSLabel        = "k8s-app"
	KubeDNSValue        = "kube-dns"
)

// Objects returns the three NetworkPolicies, or none when disabled.
func Objects(c *v1alpha1.ModelPerformanceMetrics) ([]kit.Object, error) {
	if !c.Spec.NetworkPolicies.On() {
		return nil, nil
	}
	return []kit.Object{prometheus(c), grafanaPolicy(c), sweep(c)}, nil
}

func policy(c *v1alpha1.ModelPerformanceMetrics, name string, types ...networkingv1.PolicyType) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: kit.Meta(c.Spec.Namespace, Component, name),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: kit.Selector(name)},
			PolicyTypes: types,
		},
	}
}

// pods selects generated pods by name in the policy's own namespace.
func pods(name string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{MatchLabels: kit.Selector(name)}}
}

func tcp(ports ...int) []networkingv1.NetworkPolicyPort {
	return portsOf(corev1.ProtocolTCP, ports...)
}

func portsOf(proto corev1.Protocol, ports ...int) []networkingv1.NetworkPolicyPort {
	var out []networkingv1.NetworkPolicyPort
	for _, p := range ports {
		port := intstr.FromInt32(int32(p))
		out = append(out, networkingv1.NetworkPolicyPort{Protocol: &proto, Port: &port})
	}
	return out
}

func prometheus(c *v1alpha1.ModelPerformanceMetrics) *networkingv1.NetworkPolicy {
	np := c.Spec.NetworkPolicies
	p := policy(c, v1alpha1.PrometheusName, networkingv1.PolicyTypeIngress)
	p.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{
		From:  []networkingv1.NetworkPolicyPeer{pods(v1alpha1.GrafanaName), pods(v1alpha1.SweepName)},
		Ports: tcp(v1alpha1.PrometheusPort),
	}}
	if len(np.APIServerCIDRs) == 0 {
		return p
	}
	p.Spec.PolicyTypes = append(p.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
	// Prometheus scrapes the predictor pods of its own namespace (kubernetes_sd
	// is limited to it) on each model's metrics port.
	for _, m := range c.Spec.Models {
		p.Spec.Egress = append(p.Spec.Egress, networkingv1.NetworkPolicyEgressRule{
			To:    []networkingv1.NetworkPolicyPeer{predictor(c, m, c.Spec.Namespace)},
			Ports: tcp(m.MetricsPort),
		})
	}
	// and the DCGM exporter in its namespace on its metrics port (the GPU
	// operator's pod labels are its own business: namespace and port only).
	p.Spec.Egress = append(p.Spec.Egress, networkingv1.NetworkPolicyEgressRule{
		To:    []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{NamespaceNameLabel: c.Spec.Monitoring.DCGMNamespace}}}},
		Ports: tcp(v1alpha1.DCGMExporterPort),
	})
	p.Spec.Egress = append(p.Spec.Egress, dns(c))
	var blocks []networkingv1.NetworkPolicyPeer
	for _, cidr := range np.APIServerCIDRs {
		blocks = append(blocks, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr}})
	}
	p.Spec.Egress = append(p.Spec.Egress, networkingv1.NetworkPolicyEgressRule{To: blocks, Ports: tcp(443, 6443)})
	return p
}

func grafanaPolicy(c *v1alpha1.ModelPerformanceMetrics) *networkingv1.NetworkPolicy {
	p := policy(c, v1alpha1.GrafanaName, networkingv1.PolicyTypeIngress)
	router := &metav1.LabelSelector{MatchLabels: map[string]string{OpenShiftIngressLabel: ""}}
	if c.Spec.Platform == v1alpha1.PlatformKubernetes {
		router = &metav1.LabelSelector{MatchLabels: map[string]string{NamespaceNameLabel: c.Spec.NetworkPolicies.IngressNamespace}}
	}
	// With the OAuth proxy only its port: Grafana itself trusts X-Forwarded-User.
	p.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{
		From:  []networkingv1.NetworkPolicyPeer{{NamespaceSelector: router}},
		Ports: tcp(c.GrafanaServingPort()),
	}}
	return p
}

func sweep(c *v1alpha1.ModelPerformanceMetrics) *networkingv1.NetworkPolicy {
	p := policy(c, v1alpha1.SweepName, networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress)
	// No ingress rule: nothing connects to the sweep (but see the shards
	// below).
	for _, m := range c.Spec.Models {
		// A policy matches pod ports: the endpoint's port (RHOAI 3.0's
		// predictor Service is headless, so it is the pod's), or vLLM's
		// when the URL names none (a Service translating 80 to 8080), and
		// the metrics port.
		ports := map[int]bool{m.MetricsPort: true}
		ns := c.Spec.Namespace
		if u, err := url.Parse(m.Endpoint); err == nil {
			if n, ok := v1alpha1.EndpointNamespace(u.Hostname(), c.Spec.Namespace); ok {
				ns = n
			}
			if port, err := strconv.Atoi(u.Port()); err == nil {
				ports[port] = true
			} else {
				ports[v1alpha1.PredictorPort] = true
			}
		}
		p.Spec.Egress = append(p.Spec.Egress, networkingv1.NetworkPolicyEgressRule{
			To:    []networkingv1.NetworkPolicyPeer{predictor(c, m, ns)},
			Ports: tcp(sortedPorts(ports)...),
		})
	}
	plan := c.Plan()
	p.Spec.Egress = append(p.Spec.Egress, prometheusEgress(c, plan.Spec.PrometheusURL, plan.Spec.RemoteWriteURL)...)
	p.Spec.Egress = append(p.Spec.Egress, dns(c))
	if c.Spec.Sweep.ShardCount() > 1 {
		// A sharded sweep's pods talk to each other on the coordination
		// port, both ways (the workers dial index 0, the coordinator); no
		// other pod reaches them, on no other port.
		p.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{
			From:  []networkingv1.NetworkPolicyPeer{pods(v1alpha1.SweepName)},
			Ports: tcp(v1alpha1.SweepCoordPort),
		}}
		p.Spec.Egress = append(p.Spec.Egress, networkingv1.NetworkPolicyEgressRule{
			To:    []networkingv1.NetworkPolicyPeer{pods(v1alpha1.SweepName)},
			Ports: tcp(v1alpha1.SweepCoordPort),
		})
	}
	return p
}

// prometheusEgress allows the Prometheus URLs the plan uses: the local
// Prometheus on 9090, and the Thanos Querier (9091 all namespaces, 9092
// tenancy, in openshift-monitoring) only when the plan points there.
func prometheusEgress(c *v1alpha1.ModelPerformanceMetrics, urls ...string) []networkingv1.NetworkPolicyEgressRule {
	local, thanos := false, map[int]bool{}
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if raw == "" || err != nil {
			continue
		}
		ns, ok := v1alpha1.EndpointNamespace(u.Hostname(), c.Spec.Namespace)
		switch {
		case !ok:
		case ns == c.Spec.Namespace && strings.HasPrefix(u.Hostname(), v1alpha1.PrometheusName+"."):
			local = true
		case ns == MonitoringNamespace:
			thanos[9091], thanos[9092] = true, true
			if port, err := strconv.Atoi(u.Port()); err == nil {
				thanos[port] = true
			}
		}
	}
	var out []networkingv1.NetworkPolicyEgressRule
	if local {
		out = append(out, networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{pods(v1alpha1.PrometheusName)}, Ports: tcp(v1alpha1.PrometheusPort)})
	}
	if len(thanos) > 0 {
		out = append(out, networkingv1.NetworkPolicyEgressRule{
			To:    []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{NamespaceNameLabel: MonitoringNamespace}}}},
			Ports: tcp(sortedPorts(thanos)...),
		})
	}
	return out
}

// predictor selects a model's predictor pods in namespace ns.
func predictor(c *v1alpha1.ModelPerformanceMetrics, m v1alpha1.Model, ns string) networkingv1.NetworkPolicyPeer {
	peer := networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{
		v1alpha1.LabelInferenceService: m.Name,
		v1alpha1.LabelKServeComponent:  v1alpha1.ComponentPredictor,
	}}}
	if ns != c.Spec.Namespace {
		peer.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{NamespaceNameLabel: ns}}
	}
	return peer
}

// dns allows the cluster DNS: OpenShift's dns-default pods listen on 5353
// behind the Service's 53; kube-dns/CoreDNS on 53.
func dns(c *v1alpha1.ModelPerformanceMetrics) networkingv1.NetworkPolicyEgressRule {
	if c.Spec.Platform == v1alpha1.PlatformOpenShift {
		return networkingv1.NetworkPolicyEgressRule{
			To:    []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{NamespaceNameLabel: OpenShiftDNSNamespace}}}},
			Ports: append(portsOf(corev1.ProtocolUDP, 53, 5353), tcp(53, 5353)...),
		}
	}
	return networkingv1.NetworkPolicyEgressRule{
		To: []networkingv1.NetworkPolicyPeer{{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{NamespaceNameLabel: KubeDNSNamespace}},
			PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{KubeDNSLabel: KubeDNSValue}},
		}},
		Ports: append(portsOf(corev1.ProtocolUDP, 53), tcp(53)...),
	}
}

func sortedPorts(m map[int]bool) []int {
	var out []int
	for p := range m {
		out = append(out, p)
	}
	sort.Ints(out)
	return out
}
