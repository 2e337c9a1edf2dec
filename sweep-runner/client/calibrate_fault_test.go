package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/vllmsim"
)

// TestCalibrateRetriesTransientErrors: a server without /tokenize is
// calibrated with probe requests; when every other probe fails (500, 429,
// a cut connection) calibration still succeeds, as a sweep against a flaky
// server must not die before its first step. A refusal that is not
// transient (400) fails at once.
func TestCalibrateRetriesTransientErrors(t *testing.T) {
	cfg := vllmsim.DefaultConfig()
	cfg.Model = "m1"
	sim, err := vllmsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	var n, failed atomic.Int64
	var status atomic.Int64
	status.Store(0)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/tokenize":
			http.NotFound(w, r)
			return
		case r.URL.Path == PathCompletions && status.Load() != 0:
			w.WriteHeader(int(status.Load()))
			return
		case r.URL.Path == PathCompletions && n.Add(1)%2 == 1:
			failed.Add(1)
			switch failed.Load() % 3 {
			case 0:
				w.WriteHeader(http.StatusInternalServerError)
			case 1:
				w.WriteHeader(http.StatusTooManyRequests)
			default:
				if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
					c.Close()
				}
			}
			return
		}
		sim.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c := New(srv.URL, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := c.Calibrate(ctx, "completions", "m1", 64)
	if err != nil {
		t.Fatalf("calibration failed on transient errors: %v", err)
	}
	if p.Source != "usage" || !p.Exact || p.Tokens != 64 || failed.Load() < 2 {
		t.Errorf("prompt %+v after %d failed probes", p, failed.Load())
	}
	status.Store(http.StatusBadRequest)
	start := time.Now()
	if _, err := c.Calibrate(ctx, "completions", "m1", 64); err == nil {
		t.Error("calibration succeeded against a server answering 400")
	} else if time.Since(start) > 2*time.Second {
		t.Errorf("a 400 was retried (%v): %v", time.Since(start), err)
	}
}
