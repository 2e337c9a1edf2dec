package selfcheck

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// The starved-client tests and BenchmarkWindow run this test binary again
// as a child (childEnv set) that does one workload and measures one window
// of it; the parent may first place it in a CPU cgroup with a quota.

const (
	childEnv     = "SELFCHECK_CHILD"    // "spin" or "http"
	spinnersEnv  = "SELFCHECK_SPINNERS" // spinning goroutines (spin)
	usersEnv     = "SELFCHECK_USERS"    // streaming users (http)
	urlEnv       = "SELFCHECK_URL"      // the parent's streaming server (http)
	windowEnv    = "SELFCHECK_WINDOW"   // the window's length
	chunkEvery   = 10 * time.Millisecond
	chunksPerReq = 20
)

// childResult is what a child prints: its window, the p99 of how late a
// 1 ms sleep woke (what an open-loop client's schedule would suffer) and,
// for http, the p99 of the delay from a chunk's write by the server to its
// read by the client (what the client added to the latencies it measured).
type childResult struct {
	Client   results.Client `json:"client"`
	Lateness float64        `json:"lateness_p99_seconds"`
	Delay    float64        `json:"delay_p99_seconds"`
	Chunks   int            `json:"chunks"`
}

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		if err := child(mode); err != nil {
			fmt.Fprintln(os.Stderr, "selfcheck child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// child waits for the parent's go-ahead on stdin (it is in its cgroup by
// then), runs its workload, measures one window of it and prints the
// result as JSON.
func child(mode string) error {
	window, err := time.ParseDuration(os.Getenv(windowEnv))
	if err != nil {
		return err
	}
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return fmt.Errorf("waiting for the go-ahead: %w", err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var mu sync.Mutex
	var measuring atomic.Bool
	var delays, lates []float64
	switch mode {
	case "spin":
		n, _ := strconv.Atoi(os.Getenv(spinnersEnv))
		for range n {
			wg.Go(func() {
				x := 1
				for !stop.Load() {
					for i := range 1000 {
						x = x*31 + i
					}
				}
				_ = x
			})
		}
	case "http":
		n, _ := strconv.Atoi(os.Getenv(usersEnv))
		url := os.Getenv(urlEnv)
		for range n {
			wg.Go(func() {
				var mine []float64
				for !stop.Load() {
					resp, err := http.Get(url)
					if err != nil {
						continue
					}
					s := bufio.NewScanner(resp.Body)
					for s.Scan() {
						sent, err := strconv.ParseInt(s.Text(), 10, 64)
						if err == nil && measuring.Load() {
							mine = append(mine, float64(time.Now().UnixNano()-sent)/1e9)
						}
					}
					resp.Body.Close()
				}
				mu.Lock()
				delays = append(delays, mine...)
				mu.Unlock()
			})
		}
	default:
		return fmt.Errorf("unknown mode %q", mode)
	}
	wg.Go(func() {
		var mine []float64
		for !stop.Load() {
			t := time.Now()
			time.Sleep(time.Millisecond)
			if measuring.Load() {
				mine = append(mine, (time.Since(t) - time.Millisecond).Seconds())
			}
		}
		mu.Lock()
		lates = append(lates, mine...)
		mu.Unlock()
	})
	time.Sleep(200 * time.Millisecond)
	measuring.Store(true)
	p := Start()
	time.Sleep(window)
	c := p.Stop()
	measuring.Store(false)
	stop.Store(true)
	wg.Wait()
	return json.NewEncoder(os.Stdout).Encode(childResult{Client: *c, Lateness: quantile(lates, 0.99), Delay: quantile(delays, 0.99), Chunks: len(delays)})
}

func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[min(len(v)-1, int(math.Ceil(q*float64(len(v))))-1)]
}

// streamServer streams chunksPerReq lines, one every chunkEvery, each the
// Unix time in nanoseconds of its write.
func streamServer(t testing.TB) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := w.(http.Flusher)
		for range chunksPerReq {
			time.Sleep(chunkEvery)
			if _, err := fmt.Fprintf(w, "%d\n", time.Now().UnixNano()); err != nil {
				return
			}
			f.Flush()
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// runChild runs the child with env over a window, in cg when not nil.
func runChild(t testing.TB, cg *cpuCgroup, window time.Duration, env ...string) childResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, windowEnv+"="+window.String())...)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if cg != nil {
		if err := cg.add(cmd.Process.Pid); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("placing the child in %s: %v", cg.dir, err)
		}
	}
	io.WriteString(in, "go\n")
	in.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v\n%s", err, errOut.String())
	}
	var r childResult
	if err := json.Unmarshal([]byte(out.String()), &r); err != nil {
		t.Fatalf("child's output %q: %v\n%s", out.String(), err, errOut.String())
	}
	return r
}

// cpuCgroup is a CPU cgroup a test made, with a quota.
type cpuCgroup struct {
	dir string
}

// newCPUCgroup makes a cgroup limited to cores under the machine's CPU
// controller (v2's unified hierarchy or v1's cpu hierarchy), removed when
// the test ends. Without root or a writable controller the test skips
// loudly, or fails under CI=true.
func newCPUCgroup(t testing.TB, cores float64) *cpuCgroup {
	t.Helper()
	if os.Geteuid() != 0 {
		unavailable(t, "not root: no CPU cgroup can be made for a starved client")
	}
	name := fmt.Sprintf("selfcheck-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	period := 100000
	quota := int(cores * float64(period))
	var dir string
	var files [][2]string
	switch {
	case exists(filepath.Join(cgroupRoot, "cgroup.controllers")):
		ctl, err := os.ReadFile(filepath.Join(cgroupRoot, "cgroup.subtree_control"))
		if err != nil {
			unavailable(t, "cgroup v2 without a readable cgroup.subtree_control: "+err.Error())
		}
		if !slices.Contains(strings.Fields(string(ctl)), "cpu") {
			if err := os.WriteFile(filepath.Join(cgroupRoot, "cgroup.subtree_control"), []byte("+cpu"), 0); err != nil {
				unavailable(t, "cgroup v2: the cpu controller cannot be enabled for children of "+cgroupRoot+": "+err.Error())
			}
		}
		dir = filepath.Join(cgroupRoot, name)
		files = [][2]string{{"cpu.max", fmt.Sprintf("%d %d", quota, period)}}
	case exists(filepath.Join(cgroupRoot, "cpu", "cpu.cfs_quota_us")):
		dir = filepath.Join(cgroupRoot, "cpu", name)
		files = [][2]string{{"cpu.cfs_period_us", strconv.Itoa(period)}, {"cpu.cfs_quota_us", strconv.Itoa(quota)}}
	default:
		unavailable(t, "no CPU cgroup controller under "+cgroupRoot)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		unavailable(t, "cannot make a CPU cgroup: "+err.Error())
	}
	cg := &cpuCgroup{dir: dir}
	t.Cleanup(func() {
		// The child has exited; its cgroup empties a moment later.
		var err error
		for range 50 {
			if err = os.Remove(dir); err == nil || errors.Is(err, os.ErrNotExist) {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Errorf("removing %s: %v", dir, err)
	})
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f[0]), []byte(f[1]), 0); err != nil {
			unavailable(t, fmt.Sprintf("cannot set %s in %s: %v", f[0], dir, err))
		}
	}
	return cg
}

func (c *cpuCgroup) add(pid int) error {
	return os.WriteFile(filepath.Join(c.dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0)
}

// unavailable skips a test that cannot run here, loudly, or fails it under
// CI=true, where every test must run.
func unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true: " + why)
	}
	t.Skip("SKIPPED (not run here, runs in CI): " + why)
}
