package dashboards

import (
	"slices"
	"sort"
	"testing"

	"github.com/rhoai-demo/step07/api/v1alpha1"
)

// TestNamesMatchObjects: Grafana mounts the ConfigMaps by
// v1alpha1.DashboardConfigMapNames without building the dashboards, so those
// names must be exactly what Objects emits.
func TestNamesMatchObjects(t *testing.T) {
	c := &v1alpha1.ModelPerformanceMetrics{}
	if err := c.Default(); err != nil {
		t.Fatal(err)
	}
	objs, err := Objects(c)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.GetName())
	}
	sort.Strings(got)
	if want := v1alpha1.DashboardConfigMapNames(); !slices.Equal(got, want) {
		t.Errorf("Objects emits %v, v1alpha1.DashboardConfigMapNames says %v", got, want)
	}
}
