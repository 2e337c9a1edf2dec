package shard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/client"
	"github.com/rhoai-demo/step07/sweep-runner/load"
	"github.com/rhoai-demo/step07/vllmsim"
)

func TestShares(t *testing.T) {
	for _, c := range []struct {
		n, k int
		want []int
	}{{10, 3, []int{4, 3, 3}}, {2, 3, []int{1, 1, 0}}, {9, 3, []int{3, 3, 3}}, {1, 1, []int{1}}} {
		if got := shares(c.n, c.k); !slices.Equal(got, c.want) {
			t.Errorf("shares(%d, %d) = %v, want %v", c.n, c.k, got, c.want)
		}
	}
}

func TestJobWorkers(t *testing.T) {
	got, err := JobWorkers("sweep-abc-0.guidellm-sweep-shards:7070", 3)
	want := []string{"sweep-abc-1.guidellm-sweep-shards:7070", "sweep-abc-2.guidellm-sweep-shards:7070"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("JobWorkers = %v, %v; want %v", got, err, want)
	}
	if got, err := JobWorkers("job-0:7070", 2); err != nil || !slices.Equal(got, []string{"job-1:7070"}) {
		t.Errorf("without a subdomain: %v, %v", got, err)
	}
	for _, bad := range []string{"sweep-1.sub:7070", "sweep-0.sub", "-0.sub:7070"} {
		if _, err := JobWorkers(bad, 3); err == nil {
			t.Errorf("JobWorkers(%q) accepted", bad)
		}
	}
}

// sim is an in-process vllm-sim counting the generation requests it gets.
func sim(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	cfg := vllmsim.DefaultConfig()
	cfg.Model, cfg.MaxNumSeqs, cfg.IterFixed, cfg.PerDecodeSeq = "m", 64, 2*time.Millisecond, 0
	s, err := vllmsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := new(atomic.Int64)
	h := s.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == client.PathCompletions {
			n.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { srv.Close(); s.Close() })
	return srv.URL, n
}

// teeWorker serves a Worker and keeps the results it sent.
type teeWorker struct {
	mu      sync.Mutex
	results []*load.Result // read with got
	// fail answers the first fail step requests with HTTP 500.
	fail atomic.Int32
}

func (tw *teeWorker) got() []*load.Result {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	return slices.Clone(tw.results)
}

func (tw *teeWorker) server(t *testing.T) string {
	w := NewWorker("", nil, nil)
	h := w.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/step" {
			h.ServeHTTP(rw, r)
			return
		}
		if tw.fail.Add(-1) >= 0 {
			http.Error(rw, "injected fault", http.StatusInternalServerError)
			return
		}
		h.ServeHTTP(&recorder{ResponseWriter: rw, tw: tw}, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// recorder passes a worker's response on, keeping its result: parsed as
// its line is written, so before the coordinator can have it.
type recorder struct {
	http.ResponseWriter
	tw  *teeWorker
	buf []byte
}

func (r *recorder) Write(b []byte) (int, error) {
	r.buf = append(r.buf, b...)
	for {
		i := bytes.IndexByte(r.buf, '\n')
		if i < 0 {
			break
		}
		var m Message
		if json.Unmarshal(r.buf[:i], &m) == nil && m.Result != nil {
			r.tw.mu.Lock()
			r.tw.results = append(r.tw.results, m.Result)
			r.tw.mu.Unlock()
		}
		r.buf = r.buf[i+1:]
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Flush() { r.ResponseWriter.(http.Flusher).Flush() }

func stepConfig(t *testing.T, url string, users int) load.Config {
	t.Helper()
	c := client.New(url, client.Options{})
	p, err := c.Calibrate(context.Background(), "completions", "m", 32)
	if err != nil {
		t.Fatal(err)
	}
	var sla v1alpha1.SLA
	sla.Default()
	return load.Config{Client: c, Prompt: p, Concurrency: users, Warmup: 100 * time.Millisecond, Duration: 500 * time.Millisecond,
		Grace: 2 * time.Second, RequestTimeout: 10 * time.Second, InputTokens: 32, OutputTokens: 8, SLA: sla, MinRequests: 10}
}

// Three shards (two workers) run one step: each does its share, and the
// merged result holds every request the server got.
func TestCoordinatorMergesShards(t *testing.T) {
	url, served := sim(t)
	w1, w2 := &teeWorker{}, &teeWorker{}
	pool := &Static{Workers: []string{w1.server(t), w2.server(t)}, Timeout: 5 * time.Second}
	var log bytes.Buffer
	co := &Coordinator{Pool: pool, Log: &log}
	res, err := co.Run(context.Background(), v1alpha1.Target{Name: "sim", URL: url, Model: "m"}, stepConfig(t, url, 7))
	if err != nil {
		t.Fatal(err)
	}
	r1, r2 := w1.got(), w2.got()
	if len(r1) != 1 || len(r2) != 1 {
		t.Fatalf("worker results: %d and %d, want one each", len(r1), len(r2))
	}
	started := func(r *load.Result) int { return r.Warmup.Started + r.Requests.Started + r.Tail.Started }
	all := started(res)
	workers := started(r1[0]) + started(r2[0])
	if started(r1[0]) == 0 || started(r2[0]) == 0 || all <= workers {
		t.Errorf("started: merged %d, workers %d and %d (the coordinator's own share is the rest)", all, started(r1[0]), started(r2[0]))
	}
	// Every started request reached the server, but a user's last one,
	// cut at the step's end before it was sent.
	if n := int(served.Load()); n > all || n < all-7 {
		t.Errorf("the server got %d requests, the merged result started %d", n, all)
	}
	if q := res.Requests; q.Successful+q.Errored+q.Incomplete != q.Started || q.Started < 10 {
		t.Errorf("window requests do not add up: %+v", q)
	}
	if !res.WindowEnd.After(res.WindowStart) || res.Interrupted {
		t.Errorf("window %v..%v interrupted %v", res.WindowStart, res.WindowEnd, res.Interrupted)
	}
	if log.Len() != 0 {
		t.Errorf("faults logged on a clean step: %s", log.String())
	}
}

// A worker that fails a step fails it with the shard named; the step runs
// again once, and a second failure ends it.
func TestCoordinatorRetriesOnce(t *testing.T) {
	url, _ := sim(t)
	flaky := &teeWorker{}
	flaky.fail.Store(1)
	var log bytes.Buffer
	co := &Coordinator{Pool: &Static{Workers: []string{flaky.server(t)}, Timeout: 5 * time.Second}, Log: &log}
	target := v1alpha1.Target{Name: "sim", URL: url, Model: "m"}
	res, err := co.Run(context.Background(), target, stepConfig(t, url, 4))
	if err != nil || res == nil || len(flaky.got()) != 1 {
		t.Fatalf("one fault then a clean attempt: %v (%d worker results)", err, len(flaky.got()))
	}
	if !strings.Contains(log.String(), "shard 1") || !strings.Contains(log.String(), "run again") {
		t.Errorf("log: %s", log.String())
	}
	broken := &teeWorker{}
	broken.fail.Store(2)
	co = &Coordinator{Pool: &Static{Workers: []string{broken.server(t)}, Timeout: 5 * time.Second}}
	_, err = co.Run(context.Background(), target, stepConfig(t, url, 4))
	var se *ShardError
	if err == nil || !strings.Contains(err.Error(), "failed twice") || !errors.As(err, &se) || se.Shard != 1 {
		t.Errorf("two faults: %v", err)
	}
}
