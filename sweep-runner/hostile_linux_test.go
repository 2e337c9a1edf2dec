//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/internal/hostile"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// hostileCase is what the real binary must do against one hostile server:
// end within deadline with exit code code, its stderr naming what the
// server did wrong (want), the window's errors of kind kind alone (none
// when ""), its peak resident memory under maxRSS.
type hostileCase struct {
	behaviour string
	code      int
	want      string
	kind      string
	deadline  time.Duration
	maxRSS    int64
}

// hostileKillRSS: a run whose resident memory passes this is killed (the
// test fails): a regression must not take the machine down.
const hostileKillRSS = 1536 << 20

var hostileCases = []hostileCase{
	// The stream's first line never ends: every request is oversized, a
	// run of them stops the sweep with the server's fault (exit 2).
	{hostile.SSELine, exitUsage, "(oversized): SSE line over the 1 MiB limit", "", 20 * time.Second, 64 << 20},
	// Valid chunks past max_tokens: cut after max_tokens and a slack.
	{hostile.Chunks, exitUsage, "(overlong): the stream went on past", "", 20 * time.Second, 64 << 20},
	// /metrics without end: the queue is unknown, the sweep goes on.
	{hostile.Metrics, exitOK, "queue -", "", 25 * time.Second, 160 << 20},
	// /metrics and /tokenize inflate without end: calibration by usage,
	// queue unknown.
	{hostile.GzipBomb, exitOK, "queue -", "", 25 * time.Second, 160 << 20},
	// Headers without end: the pre-flight probe names them.
	{hostile.Headers, exitUsage, "response headers over the 64 KiB limit", "", 20 * time.Second, 64 << 20},
	// One byte a second: the request timeout ends each request.
	{hostile.SlowBytes, exitOK, "BROKEN", results.ErrTimeout, 25 * time.Second, 64 << 20},
}

// TestHostileServers runs the real binary against each hostile server on
// 127.0.0.1 (a short plan: concurrency 2, 1 s steps, 1 s request
// timeout) and measures its peak resident memory. HOSTILE_BIN runs another
// binary instead (to measure a build before a change).
func TestHostileServers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary against six servers (~30 s)")
	}
	bin := os.Getenv("HOSTILE_BIN")
	if bin == "" {
		bin = relBinary(t)
	}
	for _, hc := range hostileCases {
		t.Run(hc.behaviour, func(t *testing.T) {
			h := hostile.New(hc.behaviour)
			srv := httptest.NewServer(h)
			defer srv.Close()
			dir := t.TempDir()
			plan := filepath.Join(dir, "plan.yaml")
			os.WriteFile(plan, []byte(fmt.Sprintf(`apiVersion: step07.rhoai-demo.io/v1alpha1
kind: SweepPlan
spec:
  targets:
  - {name: h, url: %q, model: %s, gpus: 1, metricsURL: %q}
  scenarios:
  - {name: S, inputTokens: 64, outputTokens: 24}
  concurrency: [2]
  stepDuration: 1s
  warmup: 200ms
  requestTimeout: 1s
  readyTimeout: 5s
  minRequests: 8
  maxRequests: 8
  maxWindow: 2s
  bisect: false
`, srv.URL, hostile.Model, srv.URL+"/metrics")), 0o644)
			out := filepath.Join(dir, "out")
			r := runMeasured(t, bin, hc.deadline, "run", "--plan", plan, "--out", out)
			t.Logf("%s: exit %d in %.1f s, peak RSS %.1f MiB (bound %d MiB); server saw %d completion requests",
				hc.behaviour, r.code, r.took.Seconds(), float64(r.peak)/(1<<20), hc.maxRSS>>20, h.Streams.Load())
			if testing.Verbose() {
				t.Log(tail(r.stderr))
			}
			if r.killed != "" {
				t.Fatalf("%s\n%s", r.killed, tail(r.stderr))
			}
			if r.peak > hc.maxRSS {
				t.Errorf("peak RSS %.1f MiB, want under %d MiB", float64(r.peak)/(1<<20), hc.maxRSS>>20)
			}
			if r.code != hc.code || !strings.Contains(r.stderr, hc.want) {
				t.Errorf("exit %d, want %d with %q in stderr:\n%s", r.code, hc.code, hc.want, tail(r.stderr))
			}
			checkAccounted(t, out, h.Streams.Load(), hc.kind)
		})
	}
}

// checkAccounted: in every recorded step each phase's requests are
// successful, errored or incomplete, the window's errors add up by kind and
// are of kind alone, and the server saw every request the steps say were
// sent (less those still being sent when a step ended, at most the
// concurrency).
func checkAccounted(t *testing.T, out string, seen int64, kind string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(out, "*", results.StepsFile))
	var started int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			var s results.Step
			if err := json.Unmarshal(line, &s); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			for _, c := range []results.Counts{s.WarmupRequests, s.Requests, s.TailRequests} {
				if c.Started != c.Successful+c.Errored+c.Incomplete {
					t.Errorf("c=%d: %+v does not add up", s.Concurrency, c)
				}
				started += c.Started
			}
			n := 0
			for k, v := range s.Errors {
				n += v
				if k != kind {
					t.Errorf("c=%d: %d errors of kind %s, want only %q", s.Concurrency, v, k, kind)
				}
			}
			if kind != "" && n == 0 {
				t.Errorf("c=%d: no error of kind %s", s.Concurrency, kind)
			}
			if n != s.Requests.Errored {
				t.Errorf("c=%d: errors by kind %v add up to %d, not the %d errored", s.Concurrency, s.Errors, n, s.Requests.Errored)
			}
		}
	}
	if int64(started) > seen+2 {
		t.Errorf("the steps started %d requests, the server saw %d (pre-flight included)", started, seen)
	}
}

type measured struct {
	code           int
	stderr, killed string
	peak           int64
	took           time.Duration
}

// runMeasured runs bin with a deadline, polling its resident memory: it is
// killed past hostileKillRSS or the deadline (killed says which). peak is
// the larger of the highest VmHWM read and the rusage's maxrss.
func runMeasured(t *testing.T, bin string, deadline time.Duration, args ...string) measured {
	t.Helper()
	var m measured
	var errb syncBuf
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &errb, &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var err error
wait:
	for {
		select {
		case err = <-done:
			break wait
		case <-ctx.Done():
			m.killed = fmt.Sprintf("still running after %s: killed", deadline)
			cmd.Process.Kill()
			err = <-done
			break wait
		case <-tick.C:
			rss, hwm := procRSS(cmd.Process.Pid)
			m.peak = max(m.peak, hwm)
			if rss > hostileKillRSS {
				m.killed = fmt.Sprintf("resident memory %.2f GB after %.1f s: killed", float64(rss)/1e9, time.Since(start).Seconds())
				cmd.Process.Kill()
				err = <-done
				break wait
			}
		}
	}
	m.took = time.Since(start)
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.peak = max(m.peak, ru.Maxrss*1024)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		m.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	m.stderr = errb.String()
	return m
}

// procRSS reads VmRSS and VmHWM (bytes) of a running process.
func procRSS(pid int) (rss, hwm int64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if k == "VmRSS" {
			rss = n << 10
		} else {
			hwm = n << 10
		}
	}
	return rss, hwm
}

// tail is the end of a long output.
func tail(s string) string {
	if len(s) > 3000 {
		return "..." + s[len(s)-3000:]
	}
	return s
}
