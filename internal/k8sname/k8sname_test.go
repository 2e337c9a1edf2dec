package k8sname

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestShorten(t *testing.T) {
	// Within the limit: unchanged.
	for _, s := range []string{"", "a", "perf-grafana", strings.Repeat("a", 63)} {
		if got := Shorten(s, 63); got != s {
			t.Errorf("Shorten(%q, 63) = %q, want it unchanged", s, got)
		}
	}
	model := "m" + strings.Repeat("0123456789", 5) + "xy"  // 53: the longest model name
	ns := "n" + strings.Repeat("abcdefghij", 5) + "-ab-cd" // 57
	long := []string{
		model + "-perf-metrics",                                     // 66: the ServiceMonitor
		ns + "-perf-grafana-cluster-monitoring-view",                // 94: the ClusterRoleBinding
		strings.Repeat("a", 52) + "-.-_-" + strings.Repeat("b", 20), // separators where it is cut
		strings.Repeat("x", 300),
	}
	seen := map[string]string{}
	for _, s := range long {
		got := Shorten(s, 63)
		if len(got) > 63 || len(got) < 63-10 {
			t.Errorf("Shorten(%q) = %q: %d characters", s, got, len(got))
		}
		if Shorten(s, 63) != got {
			t.Errorf("Shorten(%q) is not deterministic", s)
		}
		if msgs := validation.IsDNS1123Label(got); len(msgs) > 0 {
			t.Errorf("Shorten(%q) = %q: not a DNS-1123 label: %v", s, got, msgs)
		}
		if msgs := validation.IsValidLabelValue(got); len(msgs) > 0 {
			t.Errorf("Shorten(%q) = %q: not a label value: %v", s, got, msgs)
		}
		if !strings.HasPrefix(s, strings.TrimRight(got[:len(got)-11], "-._")) {
			t.Errorf("Shorten(%q) = %q: does not keep the beginning", s, got)
		}
		if prev, dup := seen[got]; dup {
			t.Errorf("Shorten(%q) = Shorten(%q) = %q", s, prev, got)
		}
		seen[got] = s
	}
	if got := Shorten(long[0], 63); len(got) != 63 || !strings.HasPrefix(got, model[:52]+"-") {
		t.Errorf("the ServiceMonitor label keeps 52 characters of the name: %q", got)
	}
	// Two values sharing everything the shortened form keeps still differ.
	a, b := Shorten(model+"-perf-metrics-a", 63), Shorten(model+"-perf-metrics-b", 63)
	if a == b {
		t.Errorf("two long values with the same beginning collide: %q", a)
	}
	// Port names: 15, and no "--" left by the cut.
	p := Shorten("metrics-port-of-model", MaxPortName)
	if msgs := validation.IsValidPortName(p); len(msgs) > 0 || len(p) > MaxPortName {
		t.Errorf("Shorten to a port name: %q %v", p, msgs)
	}
	// A DNS subdomain keeps its parts valid.
	sub := Shorten(strings.Repeat("abc.", 80)+"x", MaxDNSSubdomain)
	if msgs := validation.IsDNS1123Subdomain(sub); len(msgs) > 0 {
		t.Errorf("Shorten to a subdomain: %q %v", sub, msgs)
	}
}
