package golden

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/internal/kit"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// A small NetworkPolicy evaluator (networking.k8s.io/v1 semantics): a flow
// is allowed when the source's egress and the destination's ingress both
// allow it. A pod no policy of a type selects is not isolated for that type;
// an isolated pod accepts what at least one rule of a selecting policy
// allows. Peers: podSelector (the policy's namespace), namespaceSelector,
// both (AND), ipBlock (addresses only; pod IPs are not modelled).

type endpoint struct {
	name   string
	ns     string            // "" for an address outside the pod network
	labels map[string]string // pod labels
	ip     string
}

type cluster struct {
	t          *testing.T
	nsLabels   map[string]map[string]string
	policies   []*networkingv1.NetworkPolicy
	namedPorts bool
}

func (cl *cluster) selects(sel *metav1.LabelSelector, set map[string]string) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		cl.t.Fatalf("selector %v: %v", sel, err)
	}
	return s.Matches(labels.Set(set))
}

func (cl *cluster) peerMatches(p *networkingv1.NetworkPolicy, peer networkingv1.NetworkPolicyPeer, e endpoint) bool {
	if peer.IPBlock != nil {
		if e.ip == "" {
			return false
		}
		_, cidr, err := net.ParseCIDR(peer.IPBlock.CIDR)
		if err != nil {
			cl.t.Fatalf("%s: %v", p.Name, err)
		}
		ip := net.ParseIP(e.ip)
		if !cidr.Contains(ip) {
			return false
		}
		for _, ex := range peer.IPBlock.Except {
			if _, n, _ := net.ParseCIDR(ex); n != nil && n.Contains(ip) {
				return false
			}
		}
		return true
	}
	if e.ns == "" {
		return false // selectors match pods only
	}
	if peer.NamespaceSelector != nil {
		if !cl.selects(peer.NamespaceSelector, cl.nsLabels[e.ns]) {
			return false
		}
	} else if e.ns != p.Namespace {
		return false
	}
	return peer.PodSelector == nil || cl.selects(peer.PodSelector, e.labels)
}

func (cl *cluster) portMatches(ports []networkingv1.NetworkPolicyPort, port int, proto corev1.Protocol) bool {
	if len(ports) == 0 {
		return true
	}
	for _, pp := range ports {
		pr := corev1.ProtocolTCP
		if pp.Protocol != nil {
			pr = *pp.Protocol
		}
		if pr != proto {
			continue
		}
		if pp.Port == nil {
			return true
		}
		if pp.Port.Type != 0 {
			cl.namedPorts = true
			continue
		}
		lo, hi := int(pp.Port.IntVal), int(pp.Port.IntVal)
		if pp.EndPort != nil {
			hi = int(*pp.EndPort)
		}
		if port >= lo && port <= hi {
			return true
		}
	}
	return false
}

func hasType(p *networkingv1.NetworkPolicy, typ networkingv1.PolicyType) bool {
	for _, x := range p.Spec.PolicyTypes {
		if x == typ {
			return true
		}
	}
	return false
}

func (cl *cluster) allowed(from, to endpoint, port int, proto corev1.Protocol) bool {
	egress, isolated := false, false
	if from.ns != "" {
		for _, p := range cl.policies {
			if p.Namespace != from.ns || !hasType(p, networkingv1.PolicyTypeEgress) || !cl.selects(&p.Spec.PodSelector, from.labels) {
				continue
			}
			isolated = true
			for _, r := range p.Spec.Egress {
				peers := len(r.To) == 0
				for _, peer := range r.To {
					peers = peers || cl.peerMatches(p, peer, to)
				}
				egress = egress || (peers && cl.portMatches(r.Ports, port, proto))
			}
		}
	}
	if isolated && !egress {
		return false
	}
	ingress, isolated := false, false
	if to.ns != "" {
		for _, p := range cl.policies {
			if p.Namespace != to.ns || !hasType(p, networkingv1.PolicyTypeIngress) || !cl.selects(&p.Spec.PodSelector, to.labels) {
				continue
			}
			isolated = true
			for _, r := range p.Spec.Ingress {
				peers := len(r.From) == 0
				for _, peer := range r.From {
					peers = peers || cl.peerMatches(p, peer, from)
				}
				ingress = ingress || (peers && cl.portMatches(r.Ports, port, proto))
			}
		}
	}
	return !isolated || ingress
}

type flow struct {
	from, to endpoint
	port     int
	proto    corev1.Protocol
	allow    bool
	why      string
}

// TestNetworkPolicyFlows builds, for each valid config, the generated pods
// (labels from the generated Pod templates), RHOAI's predictor pods, the
// router, DNS, the monitoring stack and strangers, and checks the flows the
// README documents are allowed and everything else tried is denied.
func TestNetworkPolicyFlows(t *testing.T) {
	for _, name := range configs(t, "valid") {
		t.Run(name, func(t *testing.T) {
			d := decodeAll(t, name)
			c := d.c
			ns := c.Spec.Namespace
			openshift := c.Spec.Platform == v1alpha1.PlatformOpenShift
			cl := &cluster{t: t, nsLabels: map[string]map[string]string{}}
			for _, o := range d.objects {
				if kit.Kind(o) != "NetworkPolicy" {
					continue
				}
				var p networkingv1.NetworkPolicy
				if err := yaml.UnmarshalStrict(d.docs[kit.ID(o)], &p); err != nil {
					t.Fatal(err)
				}
				if p.Namespace != ns {
					t.Errorf("NetworkPolicy %s in namespace %q", p.Name, p.Namespace)
				}
				cl.policies = append(cl.policies, &p)
			}
			if len(cl.policies) != 3 {
				t.Fatalf("want 3 NetworkPolicies (prometheus, grafana, sweep), got %d", len(cl.policies))
			}
			ingressNS := "openshift-ingress"
			if !openshift {
				ingressNS = c.Spec.NetworkPolicies.IngressNamespace
			}
			dcgmNS := c.Spec.Monitoring.DCGMNamespace
			for _, n := range []string{ns, "elsewhere", "kube-system", "openshift-dns", "openshift-monitoring", "openshift-user-workload-monitoring", ingressNS, dcgmNS} {
				cl.nsLabels[n] = map[string]string{"kubernetes.io/metadata.name": n}
			}
			if openshift {
				cl.nsLabels["openshift-ingress"]["policy-group.network.openshift.io/ingress"] = ""
			}

			pods := d.podSpecs()
			pod := func(workload string, extra map[string]string) endpoint {
				l := map[string]string{}
				for k, v := range pods[workload].Labels {
					l[k] = v
				}
				for k, v := range extra {
					l[k] = v
				}
				return endpoint{name: workload, ns: ns, labels: l}
			}
			prom := pod(v1alpha1.PrometheusName, map[string]string{"pod-template-hash": "5d9f7"})
			graf := pod(v1alpha1.GrafanaName, map[string]string{"pod-template-hash": "7c4b8"})
			// A Job from the CronJob (scheduled or `create job --from`) adds these.
			sweep := pod(v1alpha1.SweepName, map[string]string{"job-name": "guidellm-sweep-29000000", "batch.kubernetes.io/job-name": "guidellm-sweep-29000000", "controller-uid": "u"})
			predictor := func(model, namespace string) endpoint {
				return endpoint{name: "predictor " + model + " in " + namespace, ns: namespace, labels: map[string]string{
					"serving.kserve.io/inferenceservice": model, "component": "predictor", "app": "isvc." + model + "-predictor",
				}}
			}
			router := endpoint{name: "router", ns: ingressNS, labels: map[string]string{"ingresscontroller.operator.openshift.io/deployment-ingresscontroller": "default", "app.kubernetes.io/name": "ingress-nginx"}}
			dnsPod := endpoint{name: "dns", ns: "openshift-dns", labels: map[string]string{"dns.operator.openshift.io/daemonset-dns": "default"}}
			dnsPorts := []int{53, 5353}
			if !openshift {
				dnsPod = endpoint{name: "coredns", ns: "kube-system", labels: map[string]string{"k8s-app": "kube-dns"}}
				dnsPorts = []int{53}
			}
			kubeSystemOther := endpoint{name: "kube-system/metrics-server", ns: "kube-system", labels: map[string]string{"k8s-app": "metrics-server"}}
			thanos := endpoint{name: "thanos-querier", ns: "openshift-monitoring", labels: map[string]string{"app.kubernetes.io/name": "thanos-query"}}
			uwm := endpoint{name: "user-workload prometheus", ns: "openshift-user-workload-monitoring", labels: map[string]string{"app.kubernetes.io/name": "prometheus"}}
			dcgmExporter := endpoint{name: "nvidia-dcgm-exporter in " + dcgmNS, ns: dcgmNS, labels: map[string]string{"app": "nvidia-dcgm-exporter"}}
			strangerOn9400 := endpoint{name: "a pod in elsewhere", ns: "elsewhere", labels: map[string]string{"app": "nvidia-dcgm-exporter"}}
			stranger := endpoint{name: "notebook in " + ns, ns: ns, labels: map[string]string{"app": "notebook"}}
			// Another namespace's pod copying Grafana's labels must not pass for Grafana.
			impostor := endpoint{name: "impostor", ns: "elsewhere", labels: pods[v1alpha1.GrafanaName].Labels}
			apiServer := endpoint{name: "kube-apiserver", ip: "10.0.0.5"}
			internet := endpoint{name: "internet", ip: "203.0.113.7"}
			tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
			serving := c.GrafanaServingPort()
			restrictProm := len(c.Spec.NetworkPolicies.APIServerCIDRs) > 0
			plan := c.Plan()
			planThanos := strings.Contains(hostOf(plan.Spec.PrometheusURL), ".openshift-monitoring.")

			fl := []flow{
				{graf, prom, 9090, tcp, true, "Grafana queries Prometheus"},
				{sweep, prom, 9090, tcp, true, "sweep queries and remote-writes"},
				{router, graf, serving, tcp, true, "the router reaches Grafana's serving port"},
				{stranger, prom, 9090, tcp, false, "other pods of the namespace"},
				{impostor, prom, 9090, tcp, false, "Grafana's labels in another namespace"},
				{router, prom, 9090, tcp, false, "Prometheus is not exposed"},
				{uwm, prom, 9090, tcp, false, "no platform scrape of the local Prometheus"},
				{thanos, prom, 9090, tcp, false, "monitoring stack"},
				{graf, prom, 9091, tcp, false, "only Prometheus' port"},
				{sweep, prom, 8080, tcp, false, "only Prometheus' port"},
				{stranger, graf, serving, tcp, false, "only the router reaches Grafana"},
				{prom, graf, serving, tcp, false, "only the router reaches Grafana"},
				{sweep, graf, serving, tcp, false, "the sweep has no business with Grafana"},
				{impostor, graf, serving, tcp, false, "only the router reaches Grafana"},
				{router, sweep, 8080, tcp, false, "nothing connects to the sweep"},
				{prom, sweep, 8080, tcp, false, "nothing connects to the sweep"},
				{stranger, sweep, 8080, tcp, false, "nothing connects to the sweep"},
				{sweep, internet, 443, tcp, false, "no Internet from the sweep"},
				{sweep, apiServer, 6443, tcp, false, "the sweep needs no API"},
				{sweep, apiServer, 443, tcp, false, "the sweep needs no API"},
				{sweep, thanos, 9091, tcp, planThanos, "the sweep reaches the Thanos Querier only if the plan uses it"},
				{sweep, thanos, 9092, tcp, planThanos, "the sweep reaches the Thanos Querier only if the plan uses it"},
				{sweep, stranger, 8080, tcp, false, "only predictor pods"},
				{sweep, predictor("some-other-model", ns), 8080, tcp, false, "only the configured models"},
				{sweep, predictor(c.Spec.Models[0].Name, "elsewhere"), 8080, tcp, false, "same labels in another namespace"},
				{sweep, uwm, 9090, tcp, false, "no other Prometheus"},
				{prom, predictor(c.Spec.Models[0].Name, ns), 9090, tcp, !restrictProm, "Prometheus scrapes metrics ports only (when restricted)"},
				{prom, apiServer, 6443, tcp, true, "kubernetes_sd"},
				{prom, apiServer, 443, tcp, true, "kubernetes_sd"},
				{prom, internet, 443, tcp, !restrictProm, "Prometheus egress (restricted with apiServerCIDRs)"},
				{prom, dcgmExporter, 9400, tcp, true, "Prometheus scrapes the DCGM exporter (gpu-metrics)"},
				{prom, dcgmExporter, 9401, tcp, !restrictProm, "only the exporter's port (when restricted)"},
				{prom, strangerOn9400, 9400, tcp, !restrictProm, "9400 in the DCGM namespace only (when restricted)"},
				{sweep, dcgmExporter, 9400, tcp, false, "the sweep reads GPU power from the local Prometheus"},
				{graf, thanos, 9091, tcp, true, "Grafana's egress is not restricted"},
				{graf, predictor(c.Spec.Models[0].Name, ns), 8080, tcp, true, "Grafana's egress is not restricted"},
			}
			// Two shards of one Indexed Job (its pods carry their index):
			// with shards > 1 they talk on the coordination port, both ways,
			// and on nothing else; with one shard nothing reaches the sweep.
			sharded := c.Spec.Sweep.ShardCount() > 1
			shard := func(i string) endpoint {
				e := pod(v1alpha1.SweepName, map[string]string{"job-name": "guidellm-sweep-29000000", "batch.kubernetes.io/job-name": "guidellm-sweep-29000000",
					"controller-uid": "u", "batch.kubernetes.io/job-completion-index": i})
				e.name = "sweep shard " + i
				return e
			}
			shard0, shard1 := shard("0"), shard("1")
			foreignShard := endpoint{name: "sweep labels in elsewhere", ns: "elsewhere", labels: shard1.labels}
			coord := v1alpha1.SweepCoordPort
			fl = append(fl,
				flow{shard1, shard0, coord, tcp, sharded, "a worker dials the coordinator (shards > 1 only)"},
				flow{shard0, shard1, coord, tcp, sharded, "shard to shard on the coordination port (shards > 1 only)"},
				flow{shard1, shard0, 8080, tcp, false, "shards talk on the coordination port only"},
				flow{shard0, shard1, coord + 1, tcp, false, "shards talk on the coordination port only"},
				flow{shard1, shard0, coord, udp, false, "TCP only"},
				flow{stranger, shard0, coord, tcp, false, "only the sweep's pods reach the coordination port"},
				flow{prom, shard0, coord, tcp, false, "only the sweep's pods reach the coordination port"},
				flow{graf, shard0, coord, tcp, false, "only the sweep's pods reach the coordination port"},
				flow{router, shard0, coord, tcp, false, "only the sweep's pods reach the coordination port"},
				flow{foreignShard, shard0, coord, tcp, false, "the sweep's labels in another namespace"},
				flow{shard0, foreignShard, coord, tcp, false, "the sweep's labels in another namespace"},
				flow{shard0, stranger, coord, tcp, false, "the shards dial no other pod on the coordination port"},
				flow{shard0, prom, coord, tcp, false, "the shards dial no other pod on the coordination port"},
			)
			for _, p := range cl.policies {
				if p.Name != v1alpha1.SweepName {
					continue
				}
				if want := map[bool]int{false: 0, true: 1}[sharded]; len(p.Spec.Ingress) != want {
					t.Errorf("sweep policy: %d ingress rules, want %d (shards %d)", len(p.Spec.Ingress), want, c.Spec.Sweep.ShardCount())
				}
			}
			if serving != 3000 {
				fl = append(fl, flow{router, graf, 3000, tcp, false, "with the OAuth proxy Grafana itself is unreachable"})
			} else {
				fl = append(fl, flow{router, graf, 8443, tcp, false, "only Grafana's port"})
			}
			if !openshift {
				fl = append(fl, flow{sweep, kubeSystemOther, 53, udp, false, "only the DNS pods of kube-system"})
				fl = append(fl, flow{router, graf, serving, tcp, true, "configured ingress namespace"})
				otherIngress := endpoint{name: "another ingress", ns: "elsewhere", labels: router.labels}
				fl = append(fl, flow{otherIngress, graf, serving, tcp, false, "only the configured ingress namespace"})
			} else {
				// A router namespace on plain Kubernetes is not OpenShift's router.
				cl.nsLabels["ingress-nginx"] = map[string]string{"kubernetes.io/metadata.name": "ingress-nginx"}
				fl = append(fl, flow{endpoint{name: "ingress-nginx", ns: "ingress-nginx", labels: router.labels}, graf, serving, tcp, false, "only namespaces labelled as OpenShift ingress"})
			}
			for _, p := range dnsPorts {
				for _, proto := range []corev1.Protocol{udp, tcp} {
					fl = append(fl, flow{sweep, dnsPod, p, proto, true, "DNS"}, flow{prom, dnsPod, p, proto, true, "DNS"})
				}
			}
			fl = append(fl, flow{sweep, dnsPod, 80, tcp, false, "DNS ports only"})
			for _, m := range c.Spec.Models {
				mns := ns
				if h := hostOf(m.Endpoint); h != "" {
					if n, ok := v1alpha1.EndpointNamespace(h, ns); ok {
						mns = n
					}
				}
				pr := predictor(m.Name, mns)
				// Pod ports: the endpoint's (the predictor Service is
				// headless), vLLM's when the URL names none, the metrics port.
				api := v1alpha1.PredictorPort
				if u, err := url.Parse(m.Endpoint); err == nil && u.Port() != "" {
					api, _ = strconv.Atoi(u.Port())
				}
				for _, p := range []int{api, m.MetricsPort} {
					fl = append(fl, flow{sweep, pr, p, tcp, true, "the sweep calls and scrapes the model"})
				}
				if api != 80 && m.MetricsPort != 80 {
					fl = append(fl, flow{sweep, pr, 80, tcp, false, "no pod port 80 behind a headless predictor Service"})
				}
				fl = append(fl,
					flow{sweep, pr, 22, tcp, false, "model ports only"},
					flow{sweep, pr, m.MetricsPort, udp, false, "TCP only"},
					flow{prom, predictor(m.Name, ns), m.MetricsPort, tcp, true, "Prometheus scrapes the model"},
					flow{pr, prom, 9090, tcp, false, "models do not reach Prometheus"},
					flow{pr, graf, serving, tcp, false, "models do not reach Grafana"},
				)
			}
			for _, f := range fl {
				if got := cl.allowed(f.from, f.to, f.port, f.proto); got != f.allow {
					verb := map[bool]string{true: "allowed", false: "denied"}
					t.Errorf("%s -> %s:%d/%s is %s, want %s (%s)", f.from.name, f.to.name, f.port, f.proto, verb[got], verb[f.allow], f.why)
				}
			}
			if cl.namedPorts {
				t.Error("a policy uses a named port; the generator uses numbers")
			}
			checkPolicySelectors(t, cl, pods)
		})
	}
}

// checkPolicySelectors: each policy selects exactly the generated workload
// it is named after (by labels without a version), and no other pod.
func checkPolicySelectors(t *testing.T, cl *cluster, pods map[string]corev1.PodTemplateSpec) {
	for _, p := range cl.policies {
		for k, v := range p.Spec.PodSelector.MatchLabels {
			if strings.Contains(k, "version") || strings.Contains(v, "v0.") || strings.Contains(v, "v1.") {
				t.Errorf("%s: selector uses a version: %s=%s", p.Name, k, v)
			}
		}
		if len(p.Spec.PodSelector.MatchLabels) == 0 && len(p.Spec.PodSelector.MatchExpressions) == 0 {
			t.Errorf("%s: selects every pod of the namespace", p.Name)
		}
		var matched []string
		for w, tpl := range pods {
			if cl.selects(&p.Spec.PodSelector, tpl.Labels) {
				matched = append(matched, w)
			}
		}
		if fmt.Sprint(matched) != fmt.Sprint([]string{p.Name}) {
			t.Errorf("%s selects %v, want exactly the %s pods", p.Name, matched, p.Name)
		}
	}
}

func hostOf(u string) string {
	s := u
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if h, _, err := net.SplitHostPort(s); err == nil {
		return h
	}
	return s
}

// TestEvaluator checks the evaluator on hand-written cases, so that a
// permissive evaluator cannot make TestNetworkPolicyFlows pass.
func TestEvaluator(t *testing.T) {
	tcp := corev1.ProtocolTCP
	p80 := intstrPort(80)
	cl := &cluster{t: t, nsLabels: map[string]map[string]string{"a": {"team": "a"}, "b": {"team": "b"}}}
	web := endpoint{name: "web", ns: "a", labels: map[string]string{"app": "web"}}
	db := endpoint{name: "db", ns: "a", labels: map[string]string{"app": "db"}}
	other := endpoint{name: "other", ns: "b", labels: map[string]string{"app": "web"}}
	if !cl.allowed(web, db, 5432, tcp) {
		t.Error("no policy: all allowed")
	}
	cl.policies = []*networkingv1.NetworkPolicy{{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "a"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}},
				Ports: []networkingv1.NetworkPolicyPort{{Port: &p80}},
			}},
		},
	}}
	for _, c := range []struct {
		from, to endpoint
		port     int
		want     bool
	}{
		{web, db, 80, true}, {web, db, 81, false}, {other, db, 80, false}, {db, db, 80, false}, {db, web, 80, true},
	} {
		if got := cl.allowed(c.from, c.to, c.port, tcp); got != c.want {
			t.Errorf("%s -> %s:%d = %v, want %v", c.from.name, c.to.name, c.port, got, c.want)
		}
	}
	if cl.allowed(web, db, 80, corev1.ProtocolUDP) {
		t.Error("protocol ignored")
	}
}

func intstrPort(p int32) intstr.IntOrString { return intstr.FromInt32(p) }
