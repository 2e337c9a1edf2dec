package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/client"
)

// tokenServer streams max_tokens chunks, one every gap, and records the
// max_tokens of every request and the requests still running.
type tokenServer struct {
	gap      time.Duration
	mu       sync.Mutex
	lengths  []int
	inflight atomic.Int64
	aborted  atomic.Int64
}

func (ts *tokenServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		MaxTokens int `json:"max_tokens"`
	}
	b, _ := io.ReadAll(r.Body)
	json.Unmarshal(b, &req)
	ts.mu.Lock()
	ts.lengths = append(ts.lengths, req.MaxTokens)
	ts.mu.Unlock()
	ts.inflight.Add(1)
	defer ts.inflight.Add(-1)
	f := w.(http.Flusher)
	for i := 0; i < req.MaxTokens; i++ {
		select {
		case <-r.Context().Done():
			ts.aborted.Add(1)
			return
		case <-time.After(ts.gap):
		}
		fmt.Fprint(w, "data: {\"choices\":[{\"text\":\" x\"}]}\n\n")
		f.Flush()
	}
	fmt.Fprintf(w, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":%d}}\n\ndata: [DONE]\n\n", req.MaxTokens)
}

// TestDesyncedFirstRequests: each user's first request asks for a random
// share of the output, so users start at random points of a request's
// life; later requests ask for the whole output.
func TestDesyncedFirstRequests(t *testing.T) {
	ts := &tokenServer{gap: 5 * time.Millisecond}
	srv := httptest.NewServer(ts)
	defer srv.Close()
	const n, out = 32, 64
	res, err := Run(context.Background(), Config{
		Client: client.New(srv.URL, client.Options{MaxConns: n}), Prompt: &client.Prompt{Model: "m", Tokens: 8},
		Concurrency: n, Desync: true, SteadyWarmup: true, MaxWarmup: 5 * time.Second,
		Duration: 200 * time.Millisecond, Grace: 2 * time.Second, RequestTimeout: 5 * time.Second, OutputTokens: out,
		Counter: new(atomic.Uint64),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts.mu.Lock()
	first := append([]int(nil), ts.lengths[:n]...)
	ts.mu.Unlock()
	sort.Ints(first)
	// Random, within 1..out, and spread: not all alike, both halves used.
	if first[0] < 1 || first[n-1] > out || first[n/4] >= out/2 || first[3*n/4] <= out/2 || first[0] == first[n-1] {
		t.Fatalf("first requests asked for %v tokens, want a spread over 1..%d", first, out)
	}
	ts.mu.Lock()
	short := 0
	for _, l := range ts.lengths {
		if l != out {
			short++
		}
	}
	total := len(ts.lengths)
	ts.mu.Unlock()
	if short > n || total < 2*n {
		t.Errorf("%d of %d requests asked for less than %d tokens, want at most the %d first ones", short, total, out, n)
	}
	if !res.WarmupSteady || res.OutputLengthMismatches != 0 || res.Requests.Successful == 0 {
		t.Errorf("steady %v, mismatches %d, %+v", res.WarmupSteady, res.OutputLengthMismatches, res.Requests)
	}
}

// TestSteadyWarmupLastsARequestLifetime: the window opens only once every
// user has finished a request, however short the configured warmup.
func TestSteadyWarmupLastsARequestLifetime(t *testing.T) {
	ts := &tokenServer{gap: 20 * time.Millisecond}
	srv := httptest.NewServer(ts)
	defer srv.Close()
	start := time.Now()
	res, err := Run(context.Background(), Config{
		Client: client.New(srv.URL, client.Options{}), Prompt: &client.Prompt{Model: "m"},
		Concurrency: 2, SteadyWarmup: true, MaxWarmup: 10 * time.Second,
		Duration: 100 * time.Millisecond, Grace: 5 * time.Second, RequestTimeout: 5 * time.Second, OutputTokens: 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	// A request lasts >= 20 x 20 ms = 400 ms.
	if w := res.WindowStart.Sub(start); w < 400*time.Millisecond || !res.WarmupSteady {
		t.Errorf("window opened after %v (steady %v), want >= 400ms", w, res.WarmupSteady)
	}
	// And a bound that is too short is reported, not hidden.
	res, err = Run(context.Background(), Config{
		Client: client.New(srv.URL, client.Options{}), Prompt: &client.Prompt{Model: "m"},
		Concurrency: 2, SteadyWarmup: true, MaxWarmup: 100 * time.Millisecond,
		Duration: 100 * time.Millisecond, Grace: 5 * time.Second, RequestTimeout: 5 * time.Second, OutputTokens: 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.WarmupSteady || !strings.Contains(res.WarmupNote, "2 of 2 users") {
		t.Errorf("capped warmup: steady %v, note %q", res.WarmupSteady, res.WarmupNote)
	}
}

// TestWindowWaitsForEnoughRequests: a window shorter than a request still
// closes only with MinRequests finished requests; the load goes on until
// the window's requests are done, then what runs is aborted.
func TestWindowWaitsForEnoughRequests(t *testing.T) {
	ts := &tokenServer{gap: 10 * time.Millisecond}
	srv := httptest.NewServer(ts)
	defer srv.Close()
	var decided atomic.Int64
	res, err := Run(context.Background(), Config{
		Client: client.New(srv.URL, client.Options{}), Prompt: &client.Prompt{Model: "m"},
		Concurrency: 4, Duration: 50 * time.Millisecond, MinRequests: 12, MaxWindow: 20 * time.Second,
		Decide:     func(p Progress) bool { decided.Add(1); return p.Successful >= 16 },
		CheckEvery: time.Millisecond,
		Grace:      5 * time.Second, RequestTimeout: 5 * time.Second, OutputTokens: 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Requests
	if c.Successful < 16 || c.Incomplete != 0 || res.Censored != 0 || decided.Load() == 0 || !res.Extended {
		t.Errorf("window %+v censored %d decided %d extended %v", c, res.Censored, decided.Load(), res.Extended)
	}
	if len(res.TTFT) != c.Successful || len(res.TPOT) != c.Successful {
		t.Errorf("%d TTFT, %d TPOT for %d requests", len(res.TTFT), len(res.TPOT), c.Successful)
	}
	deadline := time.Now().Add(2 * time.Second)
	for ts.inflight.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if ts.inflight.Load() != 0 {
		t.Errorf("%d requests still running on the server after the step: cut requests were not aborted", ts.inflight.Load())
	}
}

// TestCensoredRequestsStayInTTFT: a window request that never got its first
// token before the step ended counts in TTFT with the time it waited.
func TestCensoredRequestsStayInTTFT(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done() // queued forever
	}))
	defer srv.Close()
	res, err := Run(context.Background(), Config{
		Client: client.New(srv.URL, client.Options{}), Prompt: &client.Prompt{Model: "m"},
		Concurrency: 3, Duration: 200 * time.Millisecond, Grace: 300 * time.Millisecond,
		RequestTimeout: 30 * time.Second, OutputTokens: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Censored != 3 || len(res.TTFT) != 3 {
		t.Fatalf("censored %d, TTFT values %d, want 3 and 3", res.Censored, len(res.TTFT))
	}
	for _, v := range res.TTFT {
		if v < 0.45 {
			t.Errorf("censored TTFT %v s, want at least the 0.5 s waited", v)
		}
	}
}

// TestRefusalsStopTheStep: a run of 400 answers is bad input, not load: the
// step stops at once with the server's own message.
func TestRefusalsStopTheStep(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"object":"error","message":"This model's maximum context length is 2048 tokens.","type":"BadRequestError","code":400}`)
	}))
	defer srv.Close()
	start := time.Now()
	_, err := Run(context.Background(), Config{
		Client: client.New(srv.URL, client.Options{}), Prompt: &client.Prompt{Model: "m"},
		Concurrency: 4, Duration: 10 * time.Second, Grace: time.Second, RequestTimeout: 5 * time.Second, OutputTokens: 4,
	})
	var re *RefusedError
	if !errors.As(err, &re) || re.Status != 400 || !strings.Contains(err.Error(), "maximum context length is 2048") {
		t.Fatalf("err = %v, want a RefusedError with the server's message", err)
	}
	if time.Since(start) > 3*time.Second || n.Load() > 100 {
		t.Errorf("took %v and %d requests to stop", time.Since(start), n.Load())
	}
}
