package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/client"
	"github.com/rhoai-demo/step07/sweep-runner/results"
	"github.com/rhoai-demo/step07/sweep-runner/shard"
	"github.com/rhoai-demo/step07/sweep-runner/sweep"
)

// shardOpts are run's sharding flags (docs/measuring.md, "Sharded sweeps").
// --shards N alone: this process coordinates and starts N-1 local workers.
// With --shard-index and --coordinator (the generated Indexed Job): index 0
// coordinates, its workers are NAME-i.SUBDOMAIN:PORT; any other index is a
// worker listening on the coordinator's port.
type shardOpts struct {
	n, index    int
	coordinator string
}

func addShardFlags(fs *pflag.FlagSet, s *shardOpts) {
	fs.IntVar(&s.n, "shards", 1, fmt.Sprintf("spread each step's users over this many sweep-runner processes (1..%d): this one coordinates; without --shard-index it starts the others on 127.0.0.1 (default: the plan's shards, 1)", v1alpha1.MaxShards))
	fs.IntVar(&s.index, "shard-index", -1, "this process's shard (an Indexed Job's completion index): 0 coordinates, any other is a worker (needs --coordinator)")
	fs.StringVar(&s.coordinator, "coordinator", "", "index 0's HOST:PORT (NAME-0.SUBDOMAIN:PORT); workers listen on its port and are reached as NAME-i.SUBDOMAIN:PORT")
}

func (s *shardOpts) check() error {
	if s.n < 1 || s.n > v1alpha1.MaxShards {
		return usagef("--shards must be within 1..%d, got %d", v1alpha1.MaxShards, s.n)
	}
	if s.index >= s.n {
		return usagef("--shard-index %d: want 0..%d (--shards %d)", s.index, s.n-1, s.n)
	}
	if s.index >= 0 && s.n > 1 && s.coordinator == "" {
		return usagef("--shard-index needs --coordinator HOST:PORT")
	}
	return nil
}

// worker: this process serves a coordinator.
func (s *shardOpts) worker() bool { return s.n > 1 && s.index > 0 }

// inJob: this process coordinates the shards of a Job.
func (s *shardOpts) inJob() bool { return s.n > 1 && s.index == 0 }

// jobMarker, in a run directory, names the coordinator that made it: a
// coordinator restarted by its Job resumes its run.
const jobMarker = "shard-coordinator"

// rejoin is the run directory a restarted Job coordinator resumes: the
// latest under out made by the same coordinator and not complete.
func (s *shardOpts) rejoin(out string) string {
	if !s.inJob() {
		return ""
	}
	dirs, _ := results.List(out)
	for i := len(dirs) - 1; i >= 0; i-- {
		d := dirs[i]
		if b, err := results.At(d).Read(jobMarker); err != nil || strings.TrimSpace(string(b)) != s.coordinator {
			continue
		}
		if _, st, _, err := results.Load(d); err == nil && st.Status != results.StatusComplete {
			return d
		}
		return ""
	}
	return ""
}

// setupShards makes r's closed-loop steps sharded; done is called once
// the run ended (ok: completed), to release the workers.
func setupShards(f *runFlags, r *sweep.Runner, stderr io.Writer) (done func(ok bool), err error) {
	s := &f.shard
	if s.n <= 1 {
		return func(bool) {}, nil
	}
	if s.inJob() {
		addrs, err := shard.JobWorkers(s.coordinator, s.n)
		if err != nil {
			return nil, usagef("%v", err)
		}
		if err := r.Dir().WriteFile(jobMarker, []byte(s.coordinator+"\n")); err != nil {
			return nil, err
		}
		wait := max(r.Plan.Spec.ReadyTimeout.Duration, 5*time.Minute)
		pool := &shard.Static{Workers: addrs, Timeout: wait}
		r.Load = (&shard.Coordinator{Pool: pool, Log: stderr}).Run
		fmt.Fprintf(stderr, "shard 0 of %d: coordinating %s\n", s.n, strings.Join(addrs, ", "))
		return func(ok bool) {
			if !ok {
				return // the Job restarts this index, which resumes
			}
			for _, a := range addrs {
				if resp, err := http.Post("http://"+a+"/done", "text/plain", nil); err == nil {
					resp.Body.Close()
				}
			}
		}, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var args []string
	if k := r.Plan.Spec.APIKeyFile; k != "" {
		args = append(args, "--api-key-file", k)
	}
	if c := r.Plan.Spec.CAFile; c != "" {
		args = append(args, "--ca-file", c)
	}
	pool, err := shard.StartLocal(s.n, exe, args, stderr)
	if err != nil {
		return nil, err
	}
	r.Load = (&shard.Coordinator{Pool: pool, Log: stderr}).Run
	return func(bool) { pool.Close() }, nil
}

// runShardWorker is `run --shard-index i` (i > 0): a worker of a Job,
// listening on the coordinator's port, with the plan's API key and CA.
func runShardWorker(f *runFlags, stderr io.Writer) error {
	plan, err := buildPlan(f)
	if err != nil {
		return err
	}
	_, port, err := net.SplitHostPort(f.shard.coordinator)
	if err != nil {
		return usagef("--coordinator %q: %v", f.shard.coordinator, err)
	}
	return serveWorker(":"+port, plan.Spec.APIKeyFile, plan.Spec.CAFile, time.Hour, false, io.Discard, stderr)
}

// cmdWorker is `sweep-runner worker`: a worker process (run --shards
// starts them on 127.0.0.1).
func cmdWorker(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("worker", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "HOST:PORT to serve the coordinator on; the address is printed as \"listening ADDR\"")
	keyFile := fs.String("api-key-file", "", "file holding the targets' API key")
	caFile := fs.String("ca-file", "", "PEM CA bundle trusted for https targets")
	idle := fs.Duration("idle-timeout", time.Hour, "exit (status 1) after this long without a call from the coordinator")
	withStdin := fs.Bool("exit-with-stdin", false, "exit when stdin closes (the parent that started this worker is gone)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return usagef("%v (see sweep-runner worker --help)", err)
	}
	return serveWorker(*listen, *keyFile, *caFile, *idle, *withStdin, stdout, stderr)
}

func serveWorker(listen, keyFile, caFile string, idle time.Duration, withStdin bool, stdout, stderr io.Writer) error {
	key, err := readAPIKey(keyFile)
	if err != nil {
		return err
	}
	roots, err := client.CertPool(caFile)
	if err != nil {
		return usagef("--ca-file: %v", err)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	w := shard.NewWorker(key, roots, nil)
	srv := &http.Server{Handler: w.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	fmt.Fprintf(stdout, "listening %s\n", ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	parentGone := make(chan struct{})
	if withStdin {
		go func() { io.Copy(io.Discard, os.Stdin); close(parentGone) }()
	}
	tick := time.NewTicker(min(idle, time.Second))
	defer tick.Stop()
	for {
		select {
		case <-w.Done():
			return nil
		case <-parentGone:
			return nil
		case <-ctx.Done():
			return sweep.ErrInterrupted
		case <-tick.C:
			if w.Idle() > idle {
				return fmt.Errorf("worker: no call from the coordinator for %s", idle)
			}
		}
	}
}
