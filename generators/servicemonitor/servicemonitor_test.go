package servicemonitor

import (
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/api/v1alpha1"
)

func load(t *testing.T, spec string) *v1alpha1.ModelPerformanceMetrics {
	t.Helper()
	c, err := v1alpha1.LoadConfig([]byte("apiVersion: step07.rhoai-demo.io/v1alpha1\nkind: ModelPerformanceMetrics\n" + spec))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestServiceMonitorNames(t *testing.T) {
	c := load(t, "spec:\n  monitoring: {serviceMonitor: own}\n")
	objs, err := Objects(c)
	if err != nil || len(objs) != len(c.Spec.Models) {
		t.Fatalf("%d ServiceMonitors for %d models, err %v", len(objs), len(c.Spec.Models), err)
	}
	for _, o := range objs {
		if !strings.HasSuffix(o.GetName(), "-perf-metrics") {
			t.Errorf("%s could clash with RHOAI's <isvc>-metrics", o.GetName())
		}
	}
	// serviceMonitor: platform (the default on OpenShift) reuses RHOAI's.
	if objs, err := Objects(load(t, "spec: {}\n")); err != nil || len(objs) != 0 {
		t.Errorf("serviceMonitor platform: %d objects, err %v", len(objs), err)
	}
}
