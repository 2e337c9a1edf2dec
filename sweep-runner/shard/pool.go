package shard

import (
	"bufio"
	"context"
	"fmt"
	"github.com/rhoai-demo/step07/sweep-runner/load"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ready waits until addr answers GET /healthz, for at most timeout.
func ready(ctx context.Context, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	cl := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
		if err != nil {
			return err
		}
		resp, err := cl.Do(req)
		if err == nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1024))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /healthz: HTTP %d", resp.StatusCode)
		}
		if time.Now().After(deadline) || !load.Pause(ctx, 250*time.Millisecond) {
			return fmt.Errorf("worker unreachable after %s: %w", timeout, err)
		}
	}
}

// Static is a pool of workers at fixed addresses (a Job's pods, restarted
// by the Job when they die).
type Static struct {
	Workers []string
	// Timeout bounds the wait for a worker to answer.
	Timeout time.Duration
}

func (s *Static) Addrs() []string { return s.Workers }

func (s *Static) Ready(ctx context.Context) error {
	for i, a := range s.Workers {
		if err := ready(ctx, a, s.Timeout); err != nil {
			return &ShardError{Shard: i + 1, Addr: a, Err: err}
		}
	}
	return nil
}

// JobWorkers are the workers of an Indexed Job's shards 1..n-1 given the
// coordinator's address, that of index 0: NAME-0.SUBDOMAIN:PORT (the pods'
// hostnames in the headless Service's subdomain) gives NAME-i.SUBDOMAIN:PORT.
func JobWorkers(coordinator string, n int) ([]string, error) {
	host, port, err := net.SplitHostPort(coordinator)
	if err != nil {
		return nil, fmt.Errorf("--coordinator %q: %v", coordinator, err)
	}
	first, rest, _ := strings.Cut(host, ".")
	name, ok := strings.CutSuffix(first, "-0")
	if !ok || name == "" {
		return nil, fmt.Errorf("--coordinator %q: want NAME-0[.SUBDOMAIN]:PORT, index 0's hostname", coordinator)
	}
	var out []string
	for i := 1; i < n; i++ {
		h := name + "-" + strconv.Itoa(i)
		if rest != "" {
			h += "." + rest
		}
		out = append(out, net.JoinHostPort(h, port))
	}
	return out, nil
}

// Local is a pool of worker processes on 127.0.0.1 (sweep-runner run
// --shards N): `sweep-runner worker --listen 127.0.0.1:0` children that
// print their address, exit with their parent (their stdin closes) and
// are started again when they died.
type Local struct {
	// Exe and Args start a worker (Args after "worker").
	Exe  string
	Args []string
	Log  io.Writer

	mu    sync.Mutex
	procs []*proc
}

type proc struct {
	cmd   *exec.Cmd
	addr  string
	stdin io.Closer
	dead  chan struct{}
}

// StartLocal starts n-1 worker processes.
func StartLocal(n int, exe string, args []string, log io.Writer) (*Local, error) {
	l := &Local{Exe: exe, Args: args, Log: log, procs: make([]*proc, n-1)}
	for i := range l.procs {
		if err := l.start(i); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

func (l *Local) start(i int) error {
	cmd := exec.Command(l.Exe, append([]string{"worker", "--listen", "127.0.0.1:0", "--exit-with-stdin"}, l.Args...)...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("shard %d: starting a worker: %w", i+1, err)
	}
	p := &proc{cmd: cmd, stdin: stdin, dead: make(chan struct{})}
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if err != nil || !ok {
		cmd.Process.Kill()
		cmd.Wait()
		return fmt.Errorf("shard %d: the worker did not say where it listens (%q, %v)", i+1, line, err)
	}
	go func() { io.Copy(io.Discard, out); cmd.Wait(); close(p.dead) }()
	p.addr = addr
	l.procs[i] = p
	if l.Log != nil {
		fmt.Fprintf(l.Log, "shard %d: worker pid %d on %s\n", i+1, cmd.Process.Pid, addr)
	}
	return nil
}

func (l *Local) Addrs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	a := make([]string, len(l.procs))
	for i, p := range l.procs {
		a[i] = p.addr
	}
	return a
}

// Pids of the worker processes (shard 1 first), for their CPU figures.
func (l *Local) Pids() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	pids := make([]int, len(l.procs))
	for i, p := range l.procs {
		pids[i] = p.cmd.Process.Pid
	}
	return pids
}

// Ready starts again the workers that exited, then waits for every one.
func (l *Local) Ready(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, p := range l.procs {
		select {
		case <-p.dead:
			if l.Log != nil {
				fmt.Fprintf(l.Log, "shard %d: worker pid %d exited (%v); starting another\n", i+1, p.cmd.Process.Pid, p.cmd.ProcessState)
			}
			if err := l.start(i); err != nil {
				return &ShardError{Shard: i + 1, Addr: p.addr, Err: err}
			}
		default:
		}
		if err := ready(ctx, l.procs[i].addr, 10*time.Second); err != nil {
			return &ShardError{Shard: i + 1, Addr: l.procs[i].addr, Err: err}
		}
	}
	return nil
}

// Close stops the workers: their stdin closes and they exit.
func (l *Local) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range l.procs {
		if p == nil {
			continue
		}
		p.stdin.Close()
		select {
		case <-p.dead:
		case <-time.After(5 * time.Second):
			p.cmd.Process.Kill()
			<-p.dead
		}
	}
}
