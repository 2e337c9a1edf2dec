package load

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/client"
)

// idleWatch is a streaming server (max_tokens chunks, 15 ms apart, so the
// users' desynchronised first requests put them at different phases) that
// counts requests and records when it had none in flight (drained).
type idleWatch struct {
	inflight, total atomic.Int64
	mu              sync.Mutex
	idleAt          []time.Time
}

func (s *idleWatch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		MaxTokens int `json:"max_tokens"`
	}
	json.NewDecoder(r.Body).Decode(&req)
	io.Copy(io.Discard, r.Body)
	s.inflight.Add(1)
	s.total.Add(1)
	defer func() {
		if s.inflight.Add(-1) == 0 {
			s.mu.Lock()
			s.idleAt = append(s.idleAt, time.Now())
			s.mu.Unlock()
		}
	}()
	f := w.(http.Flusher)
	for i := 0; i < req.MaxTokens; i++ {
		fmt.Fprint(w, "data: {\"choices\":[{\"text\":\" x\"}]}\n\n")
		f.Flush()
		select {
		case <-r.Context().Done():
			return
		case <-time.After(15 * time.Millisecond):
		}
	}
	fmt.Fprintf(w, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":%d}}\n\ndata: [DONE]\n\n", req.MaxTokens)
}

func (s *idleWatch) idleBetween(a, b time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.idleAt {
		if t.After(a) && t.Before(b) {
			return true
		}
	}
	return false
}

// TestSessionKeepsUsers: a session's steps go from 4 users to 8, 8 again
// and 3 without the server ever draining between them; each later step
// records the change and settles (every request in flight sent after the
// change) before its window; every request is accounted for exactly once,
// carried-over tail requests included; each window runs the step's users.
func TestSessionKeepsUsers(t *testing.T) {
	srv := &idleWatch{}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	var sla v1alpha1.SLA
	sla.Default()
	cfg := Config{
		Client: client.New(ts.URL, client.Options{MaxConns: 16}), Prompt: &client.Prompt{API: "completions", Model: "m", Words: 8, Tokens: 12},
		Warmup: 100 * time.Millisecond, SteadyWarmup: true, MaxWarmup: 3 * time.Second, Desync: true,
		Duration: 500 * time.Millisecond, MinRequests: 10, MaxWindow: 3 * time.Second, Grace: 2 * time.Second, RequestTimeout: 5 * time.Second,
		InputTokens: 12, OutputTokens: 10, SLA: sla, Counter: new(atomic.Uint64),
	}
	s, err := NewSession(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	accounted := 0
	var prevEnd time.Time
	for i, users := range []int{4, 8, 8, 3} {
		cfg.Concurrency = users
		res, err := s.Step(context.Background(), cfg)
		if err != nil || res.Interrupted {
			t.Fatalf("step %d: %v %+v", i, err, res)
		}
		if s.Users() != users {
			t.Errorf("step %d: %d users running, want %d", i, s.Users(), users)
		}
		for name, c := range map[string]struct{ s, ok, e, inc int }{
			"warmup": {res.Warmup.Started, res.Warmup.Successful, res.Warmup.Errored, res.Warmup.Incomplete},
			"window": {res.Requests.Started, res.Requests.Successful, res.Requests.Errored, res.Requests.Incomplete},
			"tail":   {res.Tail.Started, res.Tail.Successful, res.Tail.Errored, res.Tail.Incomplete},
		} {
			if c.ok+c.e+c.inc != c.s {
				t.Errorf("step %d %s: %+v does not add up", i, name, c)
			}
		}
		if res.Requests.Successful < 10 || res.Requests.Incomplete != 0 || res.Censored != 0 {
			t.Errorf("step %d: window %+v, censored %d", i, res.Requests, res.Censored)
		}
		win := res.WindowEnd.Sub(res.WindowStart).Seconds()
		if got := res.BusySeconds / win; got < 0.75*float64(users) || got > float64(users)+0.01 {
			t.Errorf("step %d: %.2f in flight in the window, want about %d", i, got, users)
		}
		accounted += res.Warmup.Started + res.Requests.Started + res.Tail.Started
		if i == 0 {
			if res.Settle != nil {
				t.Errorf("first step: settle %+v, want a fresh start", res.Settle)
			}
		} else {
			want := map[int][2]int{1: {4, 0}, 2: {0, 0}, 3: {0, 5}}[i]
			st := res.Settle
			if st == nil || st.Added != want[0] || st.Retired != want[1] || !st.Settled || !res.WarmupSteady {
				t.Errorf("step %d: settle %+v (steady %v), want added %d retired %d, settled", i, st, res.WarmupSteady, want[0], want[1])
			}
			if srv.idleBetween(prevEnd, res.WindowStart) {
				t.Errorf("step %d: the server drained between the steps", i)
			}
		}
		prevEnd = res.WindowEnd
	}
	s.Close()
	// Tail requests carried into the next step are counted once, in their
	// own step; requests the session aborted at its close after the last
	// step and the retired users' are the only ones left out.
	if got := int(srv.total.Load()); got < accounted || got > accounted+8+5 {
		t.Errorf("server saw %d requests, steps accounted %d", got, accounted)
	}
}

// TestWarmLifetimes: a fresh session's window opens once its users are
// WarmLifetimes request lifetimes old (not after the one lifetime
// SteadyWarmup alone waits), and a later step whose users are older than
// that only settles.
func TestWarmLifetimes(t *testing.T) {
	ts := httptest.NewServer(&idleWatch{})
	defer ts.Close()
	var sla v1alpha1.SLA
	sla.Default()
	cfg := Config{
		Client: client.New(ts.URL, client.Options{MaxConns: 16}), Prompt: &client.Prompt{API: "completions", Model: "m", Words: 8, Tokens: 12},
		Warmup: 10 * time.Millisecond, SteadyWarmup: true, MaxWarmup: 5 * time.Second, Desync: true, WarmLifetimes: 3,
		Duration: 300 * time.Millisecond, MinRequests: 4, MaxWindow: 2 * time.Second, Grace: 2 * time.Second, RequestTimeout: 5 * time.Second,
		InputTokens: 12, OutputTokens: 20, SLA: sla, Counter: new(atomic.Uint64), Concurrency: 3,
	}
	s, err := NewSession(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.Step(context.Background(), cfg)
	if err != nil || res.Interrupted {
		t.Fatalf("%v %+v", err, res)
	}
	// A request is 20 chunks 15 ms apart: about 0.3 s.
	var sum float64
	for _, e := range res.E2E {
		sum += e
	}
	if len(res.E2E) == 0 {
		t.Fatal("no request finished in the window")
	}
	life := time.Duration(sum / float64(len(res.E2E)) * float64(time.Second))
	warm := res.WindowStart.Sub(res.Start)
	if !res.WarmupSteady || warm < time.Duration(2.5*float64(life)) {
		t.Errorf("window opened %v after the start (steady %v: %s), want 3 lifetimes of %v", warm, res.WarmupSteady, res.WarmupNote, life)
	}
	cfg.Concurrency = 4
	res, err = s.Step(context.Background(), cfg)
	if err != nil || res.Interrupted {
		t.Fatalf("%v %+v", err, res)
	}
	if w := res.WindowStart.Sub(res.Start); !res.WarmupSteady || w > 2*life {
		t.Errorf("a step of old users warmed up %v (steady %v: %s), want the settle rule's one lifetime of %v", w, res.WarmupSteady, res.WarmupNote, life)
	}
}
