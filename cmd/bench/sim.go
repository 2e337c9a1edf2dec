package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rhoai-demo/step07/vllmsim"
)

// sim is a running vllm-sim: a separate process (bin/vllm-sim, the default:
// it competes with the load engine for the CPUs as a real server beside it
// would, and the engine's CPU time is then the bench process's own) or an
// in-process server (--in-process, for the smoke test).
type sim struct {
	URL   string
	Model string
	pid   int // 0: in process
	stop  func()
}

var listenRE = regexp.MustCompile(`api listening on (http://\S+)`)

// startSim starts vllm-sim with args (vllm-sim flags) and waits until it
// answers /health.
func startSim(ctx context.Context, o *options, model string, args ...string) (*sim, error) {
	if o.inProcess {
		return startInProcess(model, args...)
	}
	path, err := besideSelf(o.simPath, "vllm-sim")
	if err != nil {
		return nil, err
	}
	all := append([]string{"--listen", "127.0.0.1:0", "--model", model}, args...)
	cmd := exec.Command(path, all...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s (make build first, or --sim): %w", path, err)
	}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil && !sent {
				urlc <- m[1]
				sent = true
			}
		}
		if !sent {
			close(urlc)
		}
		io.Copy(io.Discard, stderr)
	}()
	s := &sim{Model: model, pid: cmd.Process.Pid}
	s.stop = func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(8 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	select {
	case u, ok := <-urlc:
		if !ok {
			s.stop()
			return nil, fmt.Errorf("%s %s exited without listening", path, strings.Join(all, " "))
		}
		s.URL = u
	case <-time.After(20 * time.Second):
		s.stop()
		return nil, errors.New("vllm-sim did not start within 20 s")
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
	if err := waitHealthy(ctx, s.URL); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func waitHealthy(ctx context.Context, url string) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s/health did not answer 200 within 20 s", url)
}

// besideSelf is path, or when it is "" the program name beside this one
// (make build puts them all in bin/).
func besideSelf(path, name string) (string, error) {
	if path != "" {
		return path, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(exe), name), nil
}

// startInProcess parses the few vllm-sim flags the bench passes.
func startInProcess(model string, args ...string) (*sim, error) {
	cfg := vllmsim.DefaultConfig()
	for i := 0; i+1 < len(args); i += 2 {
		switch args[i] {
		case "--profile":
			c, err := vllmsim.Profile(args[i+1])
			if err != nil {
				return nil, err
			}
			cfg = c
		case "--max-num-seqs":
			n, err := strconv.Atoi(args[i+1])
			if err != nil {
				return nil, err
			}
			cfg.MaxNumSeqs = n
		default:
			return nil, fmt.Errorf("in-process sim: flag %s not supported", args[i])
		}
	}
	cfg.Model = model
	s, err := vllmsim.New(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.Close()
		return nil, err
	}
	hs := &http.Server{Handler: s.Handler()}
	go hs.Serve(ln)
	return &sim{URL: "http://" + ln.Addr().String(), Model: model, stop: func() { hs.Close(); s.Close() }}, nil
}

// cpuSeconds of the sim process (user + system), 0 in process.
func (s *sim) cpuSeconds() float64 {
	if s.pid == 0 {
		return 0
	}
	return procCPU(fmt.Sprintf("/proc/%d/stat", s.pid))
}
