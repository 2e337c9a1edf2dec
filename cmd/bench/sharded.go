package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/load"
	"github.com/rhoai-demo/step07/sweep-runner/shard"
	"github.com/rhoai-demo/step07/vllmsim"
)

// Sharded is a fidelity step run over shards on this machine: this process
// coordinates and runs its share, `sweep-runner worker` processes the rest
// (as `sweep-runner run --shards N` does), and the merged result is
// measured like a single process's, beside the single-process step at the
// same stream count.
type Sharded struct {
	Shards  int `json:"shards"`
	Streams int `json:"streams"`
	// Merged: the figures of the merged result; its CPU and memory are
	// every shard's.
	Merged *Level `json:"merged"`
	// Single: the same step in one process (fidelity).
	Single       *Level       `json:"single,omitempty"`
	Coordination Coordination `json:"coordination"`
}

// Coordination is what sharding the step cost.
type Coordination struct {
	// WireBytes between the coordinator and its workers over the step,
	// both ways (step requests, progress lines, phase changes, results).
	WireBytes int64 `json:"wire_bytes"`
	// ExtraWallSeconds: the sharded step's wall time minus the single
	// one's (the common start's lead, the merge, the tail's wait for the
	// slowest shard).
	ExtraWallSeconds float64 `json:"extra_wall_seconds"`
	// ExtraCPUSecondsPerMillionOutputTokens: all shards' CPU per million
	// tokens minus the single process's.
	ExtraCPUSecondsPerMillionOutputTokens float64 `json:"extra_cpu_seconds_per_million_output_tokens"`
}

// shardedRun is a coordinator with its local worker processes.
type shardedRun struct {
	pool  *shard.Local
	coord *shard.Coordinator
	wire  atomic.Int64
}

func startSharded(o *options, logw io.Writer) (*shardedRun, error) {
	exe, err := besideSelf(o.runnerPath, "sweep-runner")
	if err != nil {
		return nil, err
	}
	pool, err := shard.StartLocal(o.shards, exe, nil, logw)
	if err != nil {
		return nil, fmt.Errorf("%w (make build first, or --runner)", err)
	}
	sr := &shardedRun{pool: pool}
	d := &net.Dialer{Timeout: 10 * time.Second}
	tr := &http.Transport{Proxy: nil, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countingConn{Conn: c, n: &sr.wire}, nil
	}}
	sr.coord = &shard.Coordinator{Pool: pool, Log: logw, HTTP: &http.Client{Transport: tr}}
	return sr, nil
}

func (sr *shardedRun) run(ctx context.Context, s *sim, cfg load.Config) (*load.Result, error) {
	return sr.coord.Run(ctx, v1alpha1.Target{Name: "sim", URL: s.URL, Model: s.Model}, cfg)
}

// workerCPU: the worker processes' CPU seconds.
func (sr *shardedRun) workerCPU() float64 {
	var t float64
	for _, pid := range sr.pool.Pids() {
		t += procCPU(fmt.Sprintf("/proc/%d/stat", pid))
	}
	return t
}

// workerRSS: the worker processes' resident sets, MiB.
func (sr *shardedRun) workerRSS() float64 {
	var m float64
	for _, pid := range sr.pool.Pids() {
		m += rssOf(strconv.Itoa(pid))
	}
	return m
}

func (sr *shardedRun) close() { sr.pool.Close() }

// countingConn counts the bytes through a connection.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.n.Add(int64(n))
	return n, err
}

// sharded runs the sharded steps (o.shardStreams) against a fresh
// fixed-latency simulator.
func sharded(ctx context.Context, o *options, rep *Report, logw io.Writer) error {
	if len(o.shardStreams) == 0 || o.shards < 2 {
		return nil
	}
	s, prompt, err := fixedLatencySim(ctx, o)
	if err != nil {
		return err
	}
	defer s.stop()
	sr, err := startSharded(o, logw)
	if err != nil {
		return err
	}
	defer sr.close()
	prof, _ := vllmsim.Profile("fixed-latency")
	counter := new(atomic.Uint64)
	rep.Sharded = map[string]*Sharded{}
	for _, n := range o.shardStreams {
		fmt.Fprintf(logw, "bench: %d streams over %d shards ...\n", n, o.shards)
		w0 := sr.wire.Load()
		l, err := runLevel(ctx, o, s, prompt, prof, counter, n, sr)
		if err != nil {
			return err
		}
		sh := &Sharded{Shards: o.shards, Streams: n, Merged: l, Single: rep.Fidelity[strconv.Itoa(n)]}
		sh.Coordination.WireBytes = sr.wire.Load() - w0
		if one := sh.Single; one != nil {
			sh.Coordination.ExtraWallSeconds = l.StepWallSeconds - one.StepWallSeconds
			sh.Coordination.ExtraCPUSecondsPerMillionOutputTokens = l.CPUSecondsPerMillionOutputTokens - one.CPUSecondsPerMillionOutputTokens
		}
		fmt.Fprintf(logw, "bench: %d streams over %d shards: TTFT skew p99 %.3f ms, ITL skew p99 %.3f ms, %.1f CPU s/Mtok, %s\n",
			n, o.shards, l.TTFTSkewMs.P99, l.ITLSkewMs.P99, l.CPUSecondsPerMillionOutputTokens, verdictText(l))
		rep.Sharded[strconv.Itoa(n)] = sh
	}
	return nil
}
