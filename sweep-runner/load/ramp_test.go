package load

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/client"
)

// TestRamp: with Ramp the workers' first requests are spread over it (a
// lower bound only: timers never fire early), and every worker still runs.
func TestRamp(t *testing.T) {
	var mu sync.Mutex
	var arrivals []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		mu.Unlock()
		select {
		case <-r.Context().Done():
			return
		case <-time.After(time.Second):
		}
		fmt.Fprint(w, "data: {\"choices\":[{\"text\":\" x\"}]}\n\ndata: [DONE]\n\n")
	}))
	defer srv.Close()
	const n = 8
	start := time.Now()
	res, err := Run(context.Background(), Config{
		Client: client.New(srv.URL, client.Options{}), Prompt: &client.Prompt{Model: "m"},
		Concurrency: n, Warmup: 600 * time.Millisecond, Ramp: 400 * time.Millisecond, Duration: 500 * time.Millisecond,
		Grace: 3 * time.Second, RequestTimeout: 5 * time.Second, OutputTokens: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(arrivals) < n {
		t.Fatalf("%d requests, want at least %d", len(arrivals), n)
	}
	if last := arrivals[n-1].Sub(start); last < 7*400*time.Millisecond/8 {
		t.Errorf("the %dth worker started after %v, want >= 350ms", n, last)
	}
	if c := res.Warmup; c.Started != n || c.Successful+c.Errored+c.Incomplete != c.Started {
		t.Errorf("warmup %+v", c)
	}
}
