package shard

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/client"
	"github.com/rhoai-demo/step07/sweep-runner/load"
)

// Worker serves a worker shard's endpoints: POST /step, POST /phase,
// POST /done, GET /healthz.
type Worker struct {
	// APIKey and RootCAs for the targets (the worker's own, as the
	// coordinator's come from the same flags or plan).
	APIKey  string
	RootCAs *x509.CertPool
	// Log receives a line per step (nil: quiet).
	Log io.Writer

	mu      sync.Mutex
	clients map[string]*client.Client
	phases  map[string]*atomic.Int32
	done    chan struct{}
	once    sync.Once
	// last contact from the coordinator (UnixNano).
	last atomic.Int64
}

// NewWorker returns a worker.
func NewWorker(apiKey string, roots *x509.CertPool, log io.Writer) *Worker {
	w := &Worker{APIKey: apiKey, RootCAs: roots, Log: log, clients: map[string]*client.Client{}, phases: map[string]*atomic.Int32{}, done: make(chan struct{})}
	w.last.Store(time.Now().UnixNano())
	return w
}

// Done is closed when the coordinator said the sweep is over (POST /done).
func (w *Worker) Done() <-chan struct{} { return w.done }

// Idle is the time since the coordinator last called.
func (w *Worker) Idle() time.Duration { return time.Since(time.Unix(0, w.last.Load())) }

// Handler serves the worker's endpoints.
func (w *Worker) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, _ *http.Request) {
		w.touch()
		fmt.Fprintln(rw, "ok")
	})
	mux.HandleFunc("POST /done", func(rw http.ResponseWriter, _ *http.Request) {
		w.touch()
		w.once.Do(func() { close(w.done) })
	})
	mux.HandleFunc("POST /phase", w.phase)
	mux.HandleFunc("POST /step", w.step)
	return mux
}

func (w *Worker) touch() { w.last.Store(time.Now().UnixNano()) }

func (w *Worker) logf(format string, args ...any) {
	if w.Log != nil {
		fmt.Fprintf(w.Log, format+"\n", args...)
	}
}

func (w *Worker) phase(rw http.ResponseWriter, req *http.Request) {
	w.touch()
	var p PhaseRequest
	if err := json.NewDecoder(io.LimitReader(req.Body, 1<<16)).Decode(&p); err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	w.mu.Lock()
	ph := w.phases[p.ID]
	w.mu.Unlock()
	if ph == nil {
		http.Error(rw, "no such step "+p.ID, http.StatusNotFound)
		return
	}
	for cur := ph.Load(); int32(p.Phase) > cur && !ph.CompareAndSwap(cur, int32(p.Phase)); cur = ph.Load() {
	}
}

func (w *Worker) client(url string, conns int) *client.Client {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := fmt.Sprintf("%s %d", url, conns)
	c := w.clients[k]
	if c == nil {
		c = client.New(url, client.Options{APIKey: w.APIKey, MaxConns: conns, RootCAs: w.RootCAs})
		w.clients[k] = c
	}
	return c
}

// step runs one share of a step and streams its progress, then its result.
func (w *Worker) step(rw http.ResponseWriter, req *http.Request) {
	w.touch()
	var sr StepRequest
	if err := json.NewDecoder(io.LimitReader(req.Body, 64<<20)).Decode(&sr); err != nil {
		http.Error(rw, "step request: "+err.Error(), http.StatusBadRequest)
		return
	}
	ph := new(atomic.Int32)
	w.mu.Lock()
	w.phases[sr.ID] = ph
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		delete(w.phases, sr.ID)
		w.mu.Unlock()
	}()
	cfg := sr.Config.Config
	cfg.Client = w.client(sr.TargetURL, cfg.Concurrency)
	cfg.Prompt = &sr.Prompt
	cfg.Counter = new(atomic.Uint64)
	cfg.Counter.Store(sr.Counter)
	cfg.Decide = nil
	// Steer hands the progress to the stream below, without blocking the
	// step: snapshots not yet written are folded into one.
	var (
		pmu     sync.Mutex
		pending *load.Snapshot
	)
	wake := make(chan struct{}, 1)
	cfg.Steer = func(s load.Snapshot) int {
		pmu.Lock()
		if pending == nil {
			pending = &load.Snapshot{}
		}
		pending.FirstDone, pending.Successful, pending.Errored = s.FirstDone, s.Successful, s.Errored
		pending.TTFT = append(pending.TTFT, s.TTFT...)
		pmu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
		return int(ph.Load())
	}
	rw.Header().Set("Content-Type", "application/x-ndjson")
	rw.WriteHeader(http.StatusOK)
	fl, _ := rw.(http.Flusher)
	enc := json.NewEncoder(rw)
	send := func(m Message) bool {
		if err := enc.Encode(m); err != nil {
			return false
		}
		if fl != nil {
			fl.Flush()
		}
		return true
	}
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	if d := time.Until(sr.Start); d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return
		}
	}
	type out struct {
		res *load.Result
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := load.Run(ctx, cfg)
		done <- out{res, err}
	}()
	flush := func() bool {
		pmu.Lock()
		p := pending
		pending = nil
		pmu.Unlock()
		return p == nil || send(Message{Progress: p})
	}
	for {
		select {
		case <-wake:
			if !flush() {
				cancel() // the coordinator is gone: stop the load
			}
		case o := <-done:
			flush()
			var refused *load.RefusedError
			switch {
			case errors.As(o.err, &refused):
				send(Message{Refused: refused})
			case o.err != nil:
				send(Message{Error: o.err.Error()})
			default:
				send(Message{Result: o.res})
				w.logf("shard %d, step %s: %d users, %d window requests", sr.Shard, sr.ID, cfg.Concurrency, o.res.Requests.Started)
			}
			w.touch()
			return
		}
	}
}
