package sweepjob

import (
	"testing"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// TestPodResources: the sweep container is sized from the plan's heaviest
// step on one pod (closed-loop users over the shards, rounded up; an
// open-loop scenario's requests in flight, on the coordinator alone and
// bounded by maxInFlight and by its top rate times the request timeout),
// one core plus one per 128 streams and 1 GiB plus 2 MiB a stream, with
// requests equal to limits.
func TestPodResources(t *testing.T) {
	// open is an open-loop scenario with an explicit list of rates, or
	// doubling from a tenth of maxRate up to it.
	open := func(rates []float64, maxRate float64, maxInFlight int) v1alpha1.Scenario {
		return v1alpha1.Scenario{Name: "O", InputTokens: 128, OutputTokens: 64,
			Arrival: &v1alpha1.Arrival{Rates: rates, StartRate: maxRate / 10, MaxRate: maxRate, MaxInFlight: maxInFlight}}
	}
	closed := v1alpha1.Scenario{Name: "C", InputTokens: 128, OutputTokens: 64}
	cases := []struct {
		name        string
		s           v1alpha1.SweepSettings
		streams     int
		cpu, memory string
	}{
		{"defaults: doubling to 32", v1alpha1.SweepSettings{}, 32, "2", "1088Mi"},
		{"3 shards: 11 of 32 on index 0", v1alpha1.SweepSettings{Shards: v1alpha1.Ptr(3)}, 11, "2", "1046Mi"},
		{"explicit list", v1alpha1.SweepSettings{Concurrency: []int{1, 4, 16, 64}}, 64, "2", "1152Mi"},
		{"one stream", v1alpha1.SweepSettings{Concurrency: []int{1}}, 1, "2", "1026Mi"},
		{"128 streams fill a core", v1alpha1.SweepSettings{MaxConcurrency: v1alpha1.Ptr(128)}, 128, "2", "1280Mi"},
		{"129 streams need another", v1alpha1.SweepSettings{MaxConcurrency: v1alpha1.Ptr(129)}, 129, "3", "1282Mi"},
		{"2048 over 4 shards", v1alpha1.SweepSettings{MaxConcurrency: v1alpha1.Ptr(2048), Shards: v1alpha1.Ptr(4)}, 512, "5", "2Gi"},
		{"open loop: top rate x timeout", v1alpha1.SweepSettings{Scenarios: []v1alpha1.Scenario{open(nil, 10, 0)}}, 1200, "11", "3424Mi"},
		{"open loop: explicit rates, 30s timeout", v1alpha1.SweepSettings{RequestTimeout: v1alpha1.DP(30 * time.Second),
			Scenarios: []v1alpha1.Scenario{open([]float64{0.5, 2.5}, 0, 0)}}, 75, "2", "1174Mi"},
		{"open loop: maxInFlight bounds it", v1alpha1.SweepSettings{Scenarios: []v1alpha1.Scenario{open(nil, 1000, 300)}}, 300, "4", "1624Mi"},
		{"open loop is not sharded", v1alpha1.SweepSettings{Shards: v1alpha1.Ptr(4), Scenarios: []v1alpha1.Scenario{closed, open(nil, 1, 0)}}, 120, "2", "1264Mi"},
		{"no closed-loop scenario: the grid is unused", v1alpha1.SweepSettings{MaxConcurrency: v1alpha1.Ptr(4096),
			Scenarios: []v1alpha1.Scenario{open(nil, 0.1, 0)}}, 12, "2", "1048Mi"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.s
			s.Default()
			if err := s.Validate("spec"); err != nil {
				t.Fatalf("invalid settings: %v", err)
			}
			if got := podStreams(s); got != tc.streams {
				t.Errorf("podStreams = %d, want %d", got, tc.streams)
			}
			r := podResources(s)
			for name, want := range map[corev1.ResourceName]string{corev1.ResourceCPU: tc.cpu, corev1.ResourceMemory: tc.memory} {
				req, lim := r.Requests[name], r.Limits[name]
				if req.Cmp(resource.MustParse(want)) != 0 || req.String() != want {
					t.Errorf("%s request %s, want %s", name, req.String(), want)
				}
				if req.Cmp(lim) != 0 {
					t.Errorf("%s request %s, limit %s: want equal (Guaranteed)", name, req.String(), lim.String())
				}
			}
		})
	}
}
