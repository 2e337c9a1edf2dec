package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/results"
	"github.com/rhoai-demo/step07/vllmsim"
)

// TestMain lets the test binary stand in for sweep-runner where a sharded
// run starts itself (os.Executable): `worker ...` and `run ...` as first
// arguments run the CLI.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && (os.Args[1] == "worker" || os.Args[1] == "run") {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// shardSim is the acceptance's simulator: 12 sequences, fast iterations.
func shardSim(t *testing.T) string {
	cfg := vllmsim.DefaultConfig()
	cfg.Model, cfg.MaxNumSeqs, cfg.IterFixed, cfg.PerDecodeSeq = "vllm-sim", 12, 5*time.Millisecond, 200*time.Microsecond
	return simServerWith(t, cfg)
}

// shortSteps keep a step to a couple of seconds.
var shortSteps = []string{"--scenario", "A", "--step-duration", "1s", "--warmup", "200ms", "--min-requests", "20", "--max-requests", "40", "--max-window", "2s"}

func summaryOf(t *testing.T, out string) results.Result {
	t.Helper()
	fs, _ := filepath.Glob(filepath.Join(out, "*", results.SummaryJSON))
	if len(fs) != 1 {
		t.Fatalf("summary.json files: %v", fs)
	}
	b, err := os.ReadFile(fs[0])
	if err != nil {
		t.Fatal(err)
	}
	var s results.Summary
	if err := json.Unmarshal(b, &s); err != nil || len(s.Results) != 1 {
		t.Fatalf("summary: %v, %d results", err, len(s.Results))
	}
	return s.Results[0]
}

func checkAddUp(t *testing.T, steps []results.Step) {
	t.Helper()
	for _, s := range steps {
		if q := s.Requests; q.Successful+q.Errored+q.Incomplete != q.Started || q.Started == 0 {
			t.Errorf("c=%d: requests do not add up: %+v", s.Concurrency, q)
		}
	}
}

// TestShardedSweep: three shards (two worker processes, asked for by the
// plan's shards, not a flag) find the breaking point one process finds, 13
// users for 12 sequences, and every step's requests add up (doubling from
// 8: 8, 16, then 12, 14, 13).
func TestShardedSweep(t *testing.T) {
	sim := shardSim(t)
	bp := map[string]int{}
	plan := filepath.Join(t.TempDir(), "plan.yaml")
	if err := os.WriteFile(plan, []byte("apiVersion: step07.rhoai-demo.io/v1alpha1\nkind: SweepPlan\nspec:\n  shards: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"1", "3"} {
		out := t.TempDir()
		how := []string{"--shards", n}
		if n == "3" {
			how = []string{"--plan", plan}
		}
		args := append(append([]string{"run"}, how...), "--target", "m="+sim+",gpus=1,model=vllm-sim", "--start-concurrency", "8", "--max-concurrency", "32", "--out", out)
		args = append(args, shortSteps...)
		code, _, stderr := runCLI(args...)
		if code != 0 {
			t.Fatalf("--shards %s: exit %d\n%s", n, code, stderr)
		}
		if n == "3" && strings.Count(stderr, "worker pid") != 2 {
			t.Errorf("--shards 3 started %d workers:\n%s", strings.Count(stderr, "worker pid"), stderr)
		}
		r := summaryOf(t, out)
		checkAddUp(t, r.Steps)
		if r.BreakingPoint != nil {
			bp[n] = r.BreakingPoint.Concurrency
		}
	}
	if bp["1"] != 13 || bp["3"] != 13 {
		t.Errorf("breaking points: %v, want 13 with 1 and 3 shards", bp)
	}
}

var workerPid = regexp.MustCompile(`shard 1: worker pid (\d+)`)

// TestShardWorkerKilled: a worker killed (-9) mid-step fails the step,
// which is run again with a new worker; the run completes with the step
// once.
func TestShardWorkerKilled(t *testing.T) {
	sim := shardSim(t)
	out := t.TempDir()
	var errb syncBuf
	done := make(chan int)
	go func() {
		var o syncBuf
		done <- run([]string{"run", "--shards", "2", "--target", "m=" + sim + ",gpus=1,model=vllm-sim", "--concurrency", "8", "--out", out,
			"--scenario", "A", "--step-duration", "3s", "--warmup", "200ms", "--min-requests", "20", "--max-requests", "60", "--max-window", "4s"}, &o, &errb)
	}()
	// Kill the worker once it is generating load: the simulator then runs
	// more requests than the coordinator's 4 users.
	deadline := time.Now().Add(30 * time.Second)
	var pid int
	for pid == 0 || running(t, sim) <= 4 {
		if time.Now().After(deadline) {
			t.Fatalf("the worker never loaded the server:\n%s", errb.String())
		}
		if m := workerPid.FindStringSubmatch(errb.String()); m != nil {
			pid, _ = strconv.Atoi(m[1])
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	code := <-done
	log := errb.String()
	if code != 0 || !strings.Contains(log, "the step is run again") || !strings.Contains(log, "died or was cut off") || strings.Count(log, "shard 1: worker pid ") != 3 {
		t.Fatalf("exit %d (want 0, a retried step, a restarted worker):\n%s", code, log)
	}
	r := summaryOf(t, out)
	if len(r.Steps) != 1 || r.Steps[0].Concurrency != 8 {
		t.Fatalf("steps %+v", r.Steps)
	}
	checkAddUp(t, r.Steps)
}

// running reads the simulator's requests running and waiting.
func running(t *testing.T, sim string) int {
	resp, err := http.Get(sim + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	n := 0.0
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "vllm:num_requests_running") || strings.HasPrefix(l, "vllm:num_requests_waiting") {
			f := strings.Fields(l)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			n += v
		}
	}
	return int(n)
}

// TestShardCoordinatorKilledResume: the coordinator killed (-9) mid-run
// takes its workers with it (their stdin closes); --resume continues the run
// with new workers, keeps the finished steps as they were and runs none of
// them again.
func TestShardCoordinatorKilledResume(t *testing.T) {
	sim := shardSim(t)
	out := t.TempDir()
	var errb syncBuf
	cmd := exec.Command(os.Args[0], "run", "--shards", "2", "--target", "m="+sim+",gpus=1,model=vllm-sim", "--concurrency", "4,8,12", "--out", out,
		"--scenario", "A", "--step-duration", "1s", "--warmup", "200ms", "--min-requests", "20", "--max-requests", "40", "--max-window", "2s")
	cmd.Stdout, cmd.Stderr = io.Discard, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	runDir := relRunDir(t, out, 20*time.Second)
	stepsFile := filepath.Join(runDir, results.StepsFile)
	deadline := time.Now().Add(60 * time.Second)
	for relLines(stepsFile) < 1 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no step finished in time:\n%s", errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(600 * time.Millisecond) // inside the second step
	m := workerPid.FindStringSubmatch(errb.String())
	if m == nil {
		cmd.Process.Kill()
		t.Fatalf("no worker started:\n%s", errb.String())
	}
	worker, _ := strconv.Atoi(m[1])
	cmd.Process.Signal(syscall.SIGKILL)
	if err := <-waited; err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("the coordinator was not killed: %v", err)
	}
	for deadline := time.Now().Add(10 * time.Second); syscall.Kill(worker, 0) == nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			syscall.Kill(worker, syscall.SIGKILL)
			t.Fatalf("worker pid %d outlived its coordinator", worker)
		}
	}
	kept, _, err := results.ReadSteps(stepsFile)
	if err != nil || len(kept) == 0 || len(kept) == 3 {
		t.Fatalf("after kill -9: %d steps (%v); want the run cut mid-way", len(kept), err)
	}
	before, _ := os.ReadFile(stepsFile)

	code, _, stderr := runCLI("run", "--shards", "2", "--resume", runDir)
	if code != 0 {
		t.Fatalf("resume: exit %d\n%s", code, stderr)
	}
	after, _ := os.ReadFile(stepsFile)
	if !strings.HasPrefix(string(after), string(before)) {
		t.Error("--resume rewrote the steps finished before the kill")
	}
	steps, _, err := results.ReadSteps(stepsFile)
	if err != nil {
		t.Fatal(err)
	}
	var conc []int
	for _, s := range steps {
		conc = append(conc, s.Concurrency)
	}
	if !slices.Equal(conc, []int{4, 8, 12}) {
		t.Errorf("steps after resume: %v, want 4, 8, 12 each once", conc)
	}
	checkAddUp(t, steps)
	var st results.Run
	results.ReadJSON(filepath.Join(runDir, results.RunFile), &st)
	if st.Status != results.StatusComplete {
		t.Errorf("run.json status %q after resume", st.Status)
	}
}

// TestShardJobCoordinatorRejoins: index 0 of a Job, started again after it
// died, finds the run it made (its marker, not complete) and resumes it; a
// complete run or another Job's is left alone.
func TestShardJobCoordinatorRejoins(t *testing.T) {
	sim := shardSim(t)
	out := t.TempDir()
	code, _, stderr := runCLI(append([]string{"run", "--target", "m=" + sim + ",gpus=1,model=vllm-sim", "--concurrency", "2", "--out", out}, shortSteps...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	dirs, _ := filepath.Glob(filepath.Join(out, "*", results.RunFile))
	if len(dirs) != 1 {
		t.Fatalf("run directories: %v", dirs)
	}
	runDir := filepath.Dir(dirs[0])
	const coord = "sweep-0.guidellm-sweep-shards:7070"
	job := shardOpts{n: 2, index: 0, coordinator: coord}
	os.WriteFile(filepath.Join(runDir, jobMarker), []byte(coord+"\n"), 0o644)
	if d := job.rejoin(out); d != "" {
		t.Errorf("a complete run is resumed: %s", d)
	}
	// The coordinator died mid-run: run.json still says running.
	var st map[string]any
	b, _ := os.ReadFile(dirs[0])
	json.Unmarshal(b, &st)
	st["status"] = string(results.StatusRunning)
	b, _ = json.Marshal(st)
	os.WriteFile(dirs[0], b, 0o644)
	if d := job.rejoin(out); d != runDir {
		t.Errorf("rejoin = %q, want the interrupted run %s", d, runDir)
	}
	other := shardOpts{n: 2, index: 0, coordinator: "other-0.guidellm-sweep-shards:7070"}
	if d := other.rejoin(out); d != "" {
		t.Errorf("another Job's coordinator resumes %s", d)
	}
	if d := (&shardOpts{n: 1, index: -1}).rejoin(out); d != "" {
		t.Errorf("a run outside a Job resumes %s", d)
	}
}
