package dashboards

import (
	"slices"
	"sort"
	"testing"

	"github.com/rhoai-demo/step07/api/v1alpha1"
)

// TestNamesMatchObjects: Grafana mounts the ConfigMaps by Names() without
// building the dashboards, so Names must be exactly what Objects emits.
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
	if !slices.Equal(got, Names()) {
		t.Errorf("Objects emits %v, Names says %v", got, Names())
	}
}
