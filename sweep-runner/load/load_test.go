package load

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/client"
)

// TestClosedLoop: exactly N requests in flight (never more), every request
// accounted for, warmup requests apart, tokens counted.
func TestClosedLoop(t *testing.T) {
	var inflight, peak, total atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		n := inflight.Add(1)
		defer inflight.Add(-1)
		total.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		f := w.(http.Flusher)
		for i := 0; i < 8; i++ {
			fmt.Fprint(w, "data: {\"choices\":[{\"text\":\" x\"}]}\n\n")
			f.Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
		fmt.Fprint(w, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":8}}\n\ndata: [DONE]\n\n")
	}))
	defer srv.Close()
	var sla v1alpha1.SLA
	sla.Default()
	const n = 16
	res, err := Run(context.Background(), Config{
		Client: client.New(srv.URL, client.Options{MaxConns: n}), Prompt: &client.Prompt{API: "completions", Model: "m", Words: 8, Tokens: 12},
		Concurrency: n, Warmup: 200 * time.Millisecond, Duration: time.Second, Grace: time.Second, RequestTimeout: 5 * time.Second,
		InputTokens: 12, OutputTokens: 8, SLA: sla,
	})
	if err != nil {
		t.Fatal(err)
	}
	if peak.Load() != n {
		t.Errorf("peak in flight %d, want exactly %d", peak.Load(), n)
	}
	c, w, tl := res.Requests, res.Warmup, res.Tail
	if c.Successful+c.Errored+c.Incomplete != c.Started || w.Successful+w.Errored+w.Incomplete != w.Started || tl.Successful+tl.Errored+tl.Incomplete != tl.Started {
		t.Errorf("accounting: %+v %+v %+v", c, w, tl)
	}
	if int64(c.Started+w.Started+tl.Started) != total.Load() {
		t.Errorf("server saw %d requests, engine accounted %d", total.Load(), c.Started+w.Started+tl.Started)
	}
	// The load went on until every window request had finished.
	if c.Incomplete != 0 || res.Censored != 0 || tl.Started == 0 {
		t.Errorf("window requests cut: %+v, censored %d, tail %+v", c, res.Censored, tl)
	}
	if w.Started < n || c.Started < n || c.Errored != 0 || len(res.TTFT) != c.Successful+c.Incomplete && len(res.TTFT) < c.Successful {
		t.Errorf("counts %+v %+v ttft %d", c, w, len(res.TTFT))
	}
	if got := res.BusySeconds / res.WindowEnd.Sub(res.WindowStart).Seconds(); got < 0.8*n || got > n+0.01 {
		t.Errorf("concurrency achieved %.2f", got)
	}
	if res.WindowOutputTokens <= 0 || res.TokenCountMismatches != 0 || res.OutputLengthMismatches != 0 || res.ITL.Count() == 0 {
		t.Errorf("tokens: %d out, %d mismatches, %d length, %d gaps", res.WindowOutputTokens, res.TokenCountMismatches, res.OutputLengthMismatches, res.ITL.Count())
	}
	if res.Good != c.Successful {
		t.Errorf("goodput %d of %d", res.Good, c.Successful)
	}
}

// TestInterrupted: cancelling the caller's context ends the step early and
// marks it interrupted; requests cut short are incomplete.
func TestInterrupted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, "data: {\"choices\":[{\"text\":\" x\"}]}\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := Run(ctx, Config{
		Client: client.New(srv.URL, client.Options{}), Prompt: &client.Prompt{Model: "m"},
		Concurrency: 4, Duration: 10 * time.Second, Grace: 10 * time.Second, RequestTimeout: 30 * time.Second, OutputTokens: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || time.Since(start) > 5*time.Second {
		t.Fatalf("interrupted %v after %v", res.Interrupted, time.Since(start))
	}
	if res.Requests.Incomplete != 4 || res.Requests.Started != 4 {
		t.Errorf("%+v", res.Requests)
	}
}

// TestStalledStreamsAreErrors: a stream that went silent for longer than
// StallAfter when the step ended is an error of kind stalled; a stream still
// sending tokens at a steady pace is merely incomplete.
func TestStalledStreamsAreErrors(t *testing.T) {
	run := func(gap time.Duration) *Result {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			f := w.(http.Flusher)
			for {
				fmt.Fprint(w, "data: {\"choices\":[{\"text\":\" x\"}]}\n\n")
				f.Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(gap):
				}
			}
		}))
		defer srv.Close()
		res, err := Run(context.Background(), Config{
			Client: client.New(srv.URL, client.Options{}), Prompt: &client.Prompt{Model: "m"},
			Concurrency: 3, Duration: 300 * time.Millisecond, Grace: 400 * time.Millisecond,
			// Enough tokens asked that a stream at 20 ms a token is not
			// cut as overlong before the step ends.
			RequestTimeout: 30 * time.Second, OutputTokens: 1000, StallAfter: 250 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		c := res.Requests
		if c.Started != 3 || c.Successful+c.Errored+c.Incomplete != c.Started {
			t.Fatalf("accounting %+v", c)
		}
		return res
	}
	if res := run(time.Hour); res.Requests.Errored != 3 || res.Errors["stalled"] != 3 || res.Requests.Incomplete != 0 {
		t.Errorf("silent streams: %+v errors %v, want 3 stalled errors", res.Requests, res.Errors)
	}
	if res := run(20 * time.Millisecond); res.Requests.Incomplete != 3 || res.Requests.Errored != 0 {
		t.Errorf("streaming but unfinished: %+v errors %v, want 3 incomplete", res.Requests, res.Errors)
	}
}
