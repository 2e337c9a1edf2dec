package scrape

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/client"
	"github.com/rhoai-demo/step07/sweep-runner/internal/hostile"
)

// TestParseLimit: an exposition longer than MaxMetricsBytes is an error,
// not the sample of its first part.
func TestParseLimit(t *testing.T) {
	line := `vllm:num_requests_waiting{model_name="m1"} 3` + "\n"
	fits := strings.Repeat(line, MaxMetricsBytes/len(line))
	if s, err := Parse(strings.NewReader(fits), "m1"); err != nil || !s.OK || s.Waiting == 0 {
		t.Fatalf("%d bytes: %+v %v", len(fits), s, err)
	}
	over := strings.Repeat(line, MaxMetricsBytes/len(line)+1)
	if _, err := Parse(strings.NewReader(over), "m1"); !errors.Is(err, client.ErrOversized) {
		t.Fatalf("%d bytes: %v, want oversized", len(over), err)
	}
}

// TestOnceHostile: a /metrics page without end, or a gzip bomb, is an
// error of the scrape, within its timeout.
func TestOnceHostile(t *testing.T) {
	for _, b := range []string{hostile.Metrics, hostile.GzipBomb} {
		t.Run(b, func(t *testing.T) {
			srv := httptest.NewServer(hostile.New(b))
			defer srv.Close()
			start := time.Now()
			_, err := New(srv.URL+"/metrics", "m1", "").Once(context.Background())
			if !errors.Is(err, client.ErrOversized) {
				t.Fatalf("%v, want oversized", err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}
