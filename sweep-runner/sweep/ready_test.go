package sweep

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/client"
)

// TestCheckWaitsForATargetThatIsNotReady: a target answering 503 (a
// predictor still loading its model) is retried within readyTimeout and the
// check passes once it serves; with no readyTimeout, or for an answer no
// wait can fix (a model it does not serve), the check fails at once.
func TestCheckWaitsForATargetThatIsNotReady(t *testing.T) {
	real := sim(t, "m1", 4)
	var calls atomic.Int64
	u, _ := url.Parse(real.URL)
	proxy := httputil.NewSingleHostReverseProxy(u)
	starting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			http.Error(w, "loading model", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(starting.Close)

	check := func(model string, ready time.Duration) (error, time.Duration) {
		plan := testPlan(t, []v1alpha1.Target{{Name: "t", URL: starting.URL, Model: model}}, 1, 1)
		plan.Spec.ReadyTimeout = v1alpha1.DP(ready)
		start := time.Now()
		err := New(plan).Check(context.Background())
		return err, time.Since(start)
	}

	calls.Store(0)
	if err, _ := check("m1", 0); err == nil {
		t.Fatal("a target answering 503 passed the check without a ready timeout")
	} else if ce := (*client.CheckError)(nil); !errors.As(err, &ce) || !ce.Transient {
		t.Errorf("503 not reported as transient: %v", err)
	}

	calls.Store(0)
	if err, took := check("m1", 20*time.Second); err != nil {
		t.Fatalf("check with a ready timeout failed: %v", err)
	} else if calls.Load() < 3 || took < time.Second {
		t.Errorf("passed after %d calls in %v: it did not wait for the target", calls.Load(), took)
	}

	calls.Store(10) // ready now: a model it does not serve fails at once
	if err, took := check("nope", 20*time.Second); err == nil || took > 5*time.Second {
		t.Errorf("wrong model: err %v after %v, want an immediate failure", err, took)
	}
}
