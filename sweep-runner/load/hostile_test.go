package load

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/client"
	"github.com/rhoai-demo/step07/sweep-runner/internal/hostile"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// hostileConfig is a step at concurrency 2 against url: 24 tokens asked,
// a 1 s request timeout, a window of window.
func hostileConfig(url string, window time.Duration, refuseAfter int) Config {
	var sla v1alpha1.SLA
	sla.Default()
	return Config{
		Client: client.New(url, client.Options{}), Prompt: &client.Prompt{API: "completions", Model: hostile.Model, Words: 8, Tokens: 9},
		Concurrency: 2, Warmup: 100 * time.Millisecond, Duration: window, Grace: time.Second, RequestTimeout: time.Second,
		InputTokens: 9, OutputTokens: 24, SLA: sla, RefuseAfter: refuseAfter,
	}
}

// TestHostileAccounting: against each hostile server (refusals off, so the
// step runs to its end) the step ends within its deadlines, every request
// the server saw is accounted for (successful + errored + incomplete =
// started, in each phase), the window's errors are of the expected kind
// alone, and a stream past max_tokens adds no more than MaxEvents tokens.
func TestHostileAccounting(t *testing.T) {
	for _, tc := range []struct {
		behaviour, kind string
		window          time.Duration
	}{
		{hostile.SSELine, results.ErrOversized, 300 * time.Millisecond},
		{hostile.Chunks, results.ErrOverlong, 300 * time.Millisecond},
		{hostile.Headers, results.ErrOversized, 300 * time.Millisecond},
		// Each request times out after 1 s: the window must hold some.
		{hostile.SlowBytes, results.ErrTimeout, 1500 * time.Millisecond},
	} {
		t.Run(tc.behaviour, func(t *testing.T) {
			h := hostile.New(tc.behaviour)
			srv := httptest.NewServer(h)
			defer srv.Close()
			cfg := hostileConfig(srv.URL, tc.window, -1)
			start := time.Now()
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			// Warmup, window, the tail's grace and a request timeout.
			if d, most := time.Since(start), cfg.Warmup+tc.window+cfg.Grace+cfg.RequestTimeout+time.Second; d > most {
				t.Errorf("the step took %v, deadlines allow %v", d, most)
			}
			started := 0
			for _, c := range []results.Counts{res.Warmup, res.Requests, res.Tail} {
				if c.Started != c.Successful+c.Errored+c.Incomplete || c.Successful != 0 {
					t.Errorf("counts %+v", c)
				}
				started += c.Started
			}
			// A request started as the step ended may not have reached the
			// server: at most one a user.
			if seen := int(h.Streams.Load()); seen > started || started > seen+cfg.Concurrency {
				t.Errorf("the server saw %d requests, the step started %d", seen, started)
			}
			n := 0
			for k, v := range res.Errors {
				if k != tc.kind {
					t.Errorf("%d errors of kind %s, want %s alone", v, k, tc.kind)
				}
				n += v
			}
			if n != res.Requests.Errored || n == 0 {
				t.Errorf("errors %v, %d window requests errored", res.Errors, res.Requests.Errored)
			}
			if most := int64(started * client.MaxEvents(cfg.OutputTokens)); res.WindowOutputTokens > most {
				t.Errorf("%d tokens in the window from %d requests of 24", res.WindowOutputTokens, started)
			}
			t.Logf("%d requests started, %d seen by the server, window errors %v, in %v", started, h.Streams.Load(), res.Errors, time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestHostileRefused: a run of answers that break the protocol stops the
// step with a *RefusedError naming the kind, at once.
func TestHostileRefused(t *testing.T) {
	for _, tc := range []struct{ behaviour, kind string }{
		{hostile.SSELine, results.ErrOversized},
		{hostile.Chunks, results.ErrOverlong},
		{hostile.Headers, results.ErrOversized},
	} {
		t.Run(tc.behaviour, func(t *testing.T) {
			srv := httptest.NewServer(hostile.New(tc.behaviour))
			defer srv.Close()
			start := time.Now()
			_, err := Run(context.Background(), hostileConfig(srv.URL, 10*time.Second, 0))
			var re *RefusedError
			if !errors.As(err, &re) || re.Kind != tc.kind || re.Count != 8 {
				t.Fatalf("%v, want a run of 8 %s", err, tc.kind)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("stopped after %v", d)
			}
		})
	}
}

// TestFaultRun: faults in a row stop the step; any other outcome starts
// the count again, and incomplete requests do not count.
func TestFaultRun(t *testing.T) {
	st := &state{cfg: &Config{RefuseAfter: 3}, abort: func() {}}
	oversized := &client.Result{ErrKind: results.ErrOversized, Err: errors.New("x")}
	for _, r := range []*client.Result{oversized, oversized, {ErrKind: results.ErrTimeout}, oversized, {Incomplete: true}, oversized} {
		st.checkRefusal(r)
	}
	if st.refused.Load() != nil {
		t.Fatalf("stopped after %d in a row", st.faultRun.Load())
	}
	st.checkRefusal(&client.Result{ErrKind: results.ErrMalformedChunk, Err: errors.New("bad chunk")})
	if e := st.refused.Load(); e == nil || e.Kind != results.ErrMalformedChunk || e.Count != 3 ||
		e.Error() != "the server's answers broke the protocol on 3 requests in a row (malformed_chunk): bad chunk" {
		t.Fatalf("%v", e)
	}
}
