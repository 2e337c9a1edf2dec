package remotewrite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/internal/testenv"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

func TestToWriteRequestSortsLabelsAndGroupsSeries(t *testing.T) {
	req := ToWriteRequest([]Sample{
		{Name: "m", Labels: map[string]string{"z": "1", "a": "2"}, Value: 2, TimeMs: 20},
		{Name: "m", Labels: map[string]string{"a": "2", "z": "1"}, Value: 1, TimeMs: 10},
		{Name: "m", Labels: map[string]string{"a": "3"}, Value: 5, TimeMs: 10},
	})
	if len(req.Timeseries) != 2 {
		t.Fatalf("got %d series, want 2", len(req.Timeseries))
	}
	for _, ts := range req.Timeseries {
		for i := 1; i < len(ts.Labels); i++ {
			if ts.Labels[i-1].Name >= ts.Labels[i].Name {
				t.Errorf("labels not sorted: %v", ts.Labels)
			}
		}
	}
	two := req.Timeseries[0] // labels a=2,z=1 sort before a=3
	if len(two.Samples) != 2 || two.Samples[0].Timestamp != 10 || two.Samples[1].Timestamp != 20 {
		t.Errorf("samples of one series not merged in time order: %+v", req.Timeseries)
	}
}

func TestDeliverToRealPrometheusKeepsWhatFails(t *testing.T) {
	prom := testenv.StartPrometheus(t, "global: {scrape_interval: 1s}\n")
	dir := results.At(t.TempDir())
	now := time.Now().UnixMilli()
	sample := func(v float64) Sample {
		return Sample{Name: "llm_sweep_test_value", Labels: map[string]string{"model": "m1", "run_id": fmt.Sprint(v)}, Value: v, TimeMs: now}
	}
	ctx := context.Background()

	// Nothing listens here: the sample must land in the pending file.
	dead, err := New(fmt.Sprintf("http://127.0.0.1:%d/api/v1/write", testenv.FreePort(t)), Options{MaxRetries: 1, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := dead.Deliver(ctx, dir, []Sample{sample(1)}); err == nil {
		t.Fatal("delivery to a closed port reported success")
	}
	if p, _ := ReadPending(dir, PendingFile); len(p) != 1 {
		t.Fatalf("pending holds %d samples, want 1", len(p))
	}

	// The live receiver gets the pending sample and the new one.
	live, err := New(prom+"/api/v1/write", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := live.Deliver(ctx, dir, []Sample{sample(2)}); err != nil {
		t.Fatalf("deliver: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir.Path(), PendingFile)); !os.IsNotExist(err) {
		t.Errorf("pending file still there after a successful delivery")
	}
	got := testenv.Query(t, prom, `sum(llm_sweep_test_value{model="m1"})`)
	if len(got) != 1 || got[0].Value != 3 {
		t.Fatalf("Prometheus holds %+v, want the sum 1+2=3", got)
	}

	// A sample far older than the head block is refused for good: kept aside, not retried.
	old := sample(7)
	old.TimeMs = now - int64(72*time.Hour/time.Millisecond)
	if err := live.Deliver(ctx, dir, []Sample{old}); err == nil {
		t.Fatal("an out-of-bounds sample was reported as delivered")
	}
	if r, _ := ReadPending(dir, RejectedFile); len(r) != 1 {
		t.Fatalf("rejected file holds %d samples, want 1", len(r))
	}
	if p, _ := ReadPending(dir, PendingFile); len(p) != 0 {
		t.Fatalf("a permanently refused sample was queued for retry")
	}
}
