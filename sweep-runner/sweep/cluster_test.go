package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/analysis"
	"github.com/rhoai-demo/step07/sweep-runner/report"
	"github.com/rhoai-demo/step07/sweep-runner/results"
	"github.com/rhoai-demo/step07/vllmsim"
)

// replicaSims starts n vllm-sims of maxNumSeqs each on 127.0.0.2, .3 ...,
// all on one port, as a headless Service's pods answer on theirs; served
// counts the completions each one got.
func replicaSims(t *testing.T, n, maxNumSeqs int) (port string, addrs []string, served []*atomic.Int64) {
	t.Helper()
	for try := 0; try < 20; try++ {
		var lns []net.Listener
		ok := true
		for i := range n {
			addr := fmt.Sprintf("127.0.0.%d:%s", i+2, port)
			if i == 0 {
				addr = "127.0.0.2:0"
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				ok = false
				break
			}
			if i == 0 {
				_, port, _ = net.SplitHostPort(ln.Addr().String())
			}
			lns = append(lns, ln)
		}
		if !ok {
			for _, ln := range lns {
				ln.Close()
			}
			port = ""
			continue
		}
		for i, ln := range lns {
			cfg := vllmsim.DefaultConfig()
			cfg.Model, cfg.MaxNumSeqs = "m", maxNumSeqs
			s, err := vllmsim.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			c := &atomic.Int64{}
			h := s.Handler()
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/completions") {
					c.Add(1)
				}
				h.ServeHTTP(w, r)
			}))
			srv.Listener.Close()
			srv.Listener = ln
			srv.Start()
			t.Cleanup(func() { srv.Close(); s.Close() })
			addrs = append(addrs, fmt.Sprintf("127.0.0.%d", i+2))
			served = append(served, c)
		}
		return port, addrs, served
	}
	t.Skip("no port free on 127.0.0.2-4 (loopback aliases missing?)")
	return
}

// Three replicas behind one name: the load and the /metrics reads go to
// one of them, the same one every step; the steps say which, and the
// breaking point is one replica's (max-num-seqs 4: 5 users queue).
func TestReplicasPinned(t *testing.T) {
	t.Parallel() // its own servers; verdicts by the queue, which load does not move
	port, addrs, served := replicaSims(t, 3, 4)
	const host = "m-predictor.private-ai.svc.cluster.local"
	plan := testPlan(t, []v1alpha1.Target{{Name: "m", URL: "http://" + host + ":" + port, Model: "m", GPUs: 1}}, 1, 8)
	r := New(plan)
	var lookups atomic.Int64
	r.Resolve = func(_ context.Context, h string) ([]string, error) {
		if h != host {
			return nil, fmt.Errorf("no such host %s", h)
		}
		// a resolver that changes its order from one lookup to the next
		out := append([]string(nil), addrs...)
		k := int(lookups.Add(1)) % len(out)
		return append(out[k:], out[:k]...), nil
	}
	r.ScrapeInterval = 200 * time.Millisecond
	if err := r.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := r.Create(t.TempDir(), "test"); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	loaded := 0
	for _, c := range served {
		if c.Load() > 0 {
			loaded++
		}
	}
	if loaded != 1 {
		t.Errorf("completions per replica %d %d %d: want the load on one replica", served[0].Load(), served[1].Load(), served[2].Load())
	}
	for _, s := range r.Steps() {
		rp := s.Replicas
		if rp == nil || len(rp.Seen) != 3 || len(rp.Measured) != 1 || rp.Measured[0] != addrs[0] || rp.Mode != results.ReplicasPinned {
			t.Fatalf("c=%d: replicas %+v, want 3 seen, %s measured, pinned", s.Concurrency, rp, addrs[0])
		}
		if len(s.Disturbed) > 0 {
			t.Errorf("c=%d disturbed: %v", s.Concurrency, s.Disturbed)
		}
	}
	sum, err := r.summary()
	if err != nil {
		t.Fatal(err)
	}
	if bp := sum.Results[0].BreakingPoint; bp == nil || bp.Concurrency != 5 {
		t.Errorf("breaking point %+v, want 5 (one replica of max-num-seqs 4)", bp)
	}
	if n := strings.Join(report.ClusterNotes(sum), "\n"); !strings.Contains(n, "3 replicas behind the name") || !strings.Contains(n, "per replica") {
		t.Errorf("the report does not say which replicas it measured: %q", n)
	}
}

// foreignClient keeps one request of someone else's on the server, with a
// short pause between them, until stop.
func foreignClient(url string) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			body := `{"model":"m","prompt":"someone else","max_tokens":64}`
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/completions", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if resp, err := http.DefaultClient.Do(req); err == nil {
				var v any
				json.NewDecoder(resp.Body).Decode(&v)
				resp.Body.Close()
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}

// Someone else's traffic: a busy model stops the sweep before its first
// step (InUseError); allowed (allowBusy), the steps are kept and marked;
// traffic that starts after the check and breaks a step (2 users and a
// third request on a server of 2 sequences: a queue) disturbs it: it is
// measured again, and the answer resting on it is not clear.
func TestForeignTraffic(t *testing.T) {
	t.Parallel() // its own servers; verdicts by the queue, which load does not move
	srv := sim(t, "m", 2)
	targets := []v1alpha1.Target{{Name: "m", URL: srv.URL, Model: "m", GPUs: 1}}
	stop := foreignClient(srv.URL)
	defer stop()
	time.Sleep(300 * time.Millisecond)

	plan := testPlan(t, targets, 1, 2)
	plan.Spec.Concurrency, plan.Spec.StartConcurrency, plan.Spec.MaxConcurrency = []int{2}, nil, nil
	plan.Spec.Bisect = v1alpha1.Ptr(false)
	err := New(plan).Check(context.Background())
	var inUse *InUseError
	if !errors.As(err, &inUse) || !strings.Contains(err.Error(), "someone else") || !strings.Contains(err.Error(), "--allow-busy") {
		t.Fatalf("a busy model: %v, want an InUseError naming --allow-busy", err)
	}

	plan.Spec.AllowBusy = true
	r, _ := newRunner(t, plan, t.TempDir())
	defer r.Close()
	if err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := r.Steps()
	for _, s := range st {
		if s.Foreign == nil || !s.Foreign.Allowed || len(s.Disturbed) > 0 {
			t.Fatalf("allowBusy: foreign %+v, disturbed %v: want every step kept, marked as shared", s.Foreign, s.Disturbed)
		}
	}

	// Not allowed, and someone else starts after the check.
	stop()
	plan.Spec.AllowBusy = false
	time.Sleep(500 * time.Millisecond)
	r2, _ := newRunner(t, plan, t.TempDir())
	defer r2.Close()
	stop2 := foreignClient(srv.URL)
	defer stop2()
	if err := r2.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	at2 := 0
	for _, s := range r2.Steps() {
		if s.Foreign == nil {
			t.Errorf("c=%d: foreign traffic not seen", s.Concurrency)
			continue
		}
		// a step that held despite the traffic is evidence; one that broke is not
		if d := strings.Join(s.Disturbed, " "); s.Broken != strings.Contains(d, "foreign traffic") {
			t.Errorf("c=%d broken %v: disturbed %q", s.Concurrency, s.Broken, d)
		}
		if s.Concurrency == 2 {
			at2++
		}
	}
	if at2 != analysis.MaxRemeasures+1 {
		t.Errorf("%d steps at c=2, want the disturbed step measured again %d times", at2, analysis.MaxRemeasures)
	}
	if sum, _ := r2.summary(); sum.Results[0].Confidence == "clear" || len(sum.Results[0].DisturbedSteps) == 0 {
		t.Errorf("summary of disturbed steps: confidence %q, disturbed %v", sum.Results[0].Confidence, sum.Results[0].DisturbedSteps)
	}
}

// swapHandler serves through the current handler; restart replaces the
// server behind it by a new one (new start time, counters from zero), as
// a predictor's pod restarting behind its Service does.
type swapHandler struct{ h atomic.Pointer[http.Handler] }

func (s *swapHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*s.h.Load()).ServeHTTP(w, r)
}

// A server restart in the middle of a step: the step records it, is set
// aside, and its concurrency is measured again once the server serves.
func TestRestartMidStep(t *testing.T) {
	t.Parallel() // its own servers; verdicts by the queue, which load does not move
	newSim := func() (*vllmsim.Server, http.Handler) {
		cfg := vllmsim.DefaultConfig()
		cfg.Model, cfg.MaxNumSeqs = "m", 8
		s, err := vllmsim.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s, s.Handler()
	}
	first, h := newSim()
	sw := &swapHandler{}
	sw.h.Store(&h)
	srv := httptest.NewServer(sw)
	defer srv.Close()
	plan := testPlan(t, []v1alpha1.Target{{Name: "m", URL: srv.URL, Model: "m", GPUs: 1}}, 1, 2)
	plan.Spec.Concurrency, plan.Spec.StartConcurrency, plan.Spec.MaxConcurrency = []int{2}, nil, nil
	plan.Spec.StepDuration = v1alpha1.DP(3 * time.Second)
	r, _ := newRunner(t, plan, t.TempDir())
	defer r.Close()
	var second *vllmsim.Server
	go func() {
		time.Sleep(2500 * time.Millisecond) // inside the window
		first.Close()
		var h2 http.Handler
		second, h2 = newSim()
		sw.h.Store(&h2)
	}()
	if err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if second != nil {
			second.Close()
		}
	}()
	st := r.Steps()
	if len(st) < 2 {
		t.Fatalf("%d steps, want the disturbed step and its re-measure", len(st))
	}
	if !restarted(&st[0]) || len(st[0].Disturbed) == 0 {
		t.Errorf("first step: events %+v, disturbed %v: want the restart", st[0].Events, st[0].Disturbed)
	}
	if last := st[len(st)-1]; len(last.Disturbed) > 0 {
		t.Errorf("the re-measure is disturbed too: %v", last.Disturbed)
	}
}
