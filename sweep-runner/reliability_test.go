package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// Reliability tests of the CLI: kill -9 and --resume on the real binary,
// results directories that cannot be written, API key hygiene.

var (
	relBinOnce sync.Once
	relBin     string
	relBinErr  error
)

// relBinary builds sweep-runner once for the tests that need a real process.
func relBinary(t *testing.T) string {
	t.Helper()
	relBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sweep-runner-bin")
		if err != nil {
			relBinErr = err
			return
		}
		relBin = filepath.Join(dir, "sweep-runner")
		out, err := exec.Command("go", "build", "-o", relBin, ".").CombinedOutput()
		if err != nil {
			relBinErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if relBinErr != nil {
		t.Fatal(relBinErr)
	}
	return relBin
}

// relPlan writes a sweep plan with a short scenario (64 in, 24 out: ~0.3 s
// a request on vllm-sim) and an explicit grid, no bisection.
func relPlan(t *testing.T, dir, url, conc, extra string) string {
	t.Helper()
	p := filepath.Join(dir, "plan.yaml")
	y := fmt.Sprintf(`apiVersion: step07.rhoai-demo.io/v1alpha1
kind: SweepPlan
spec:
  targets:
  - {name: sim, url: %q, model: m1, gpus: 1, metricsURL: %q}
  scenarios:
  - {name: S, inputTokens: 64, outputTokens: 24}
  concurrency: [%s]
  stepDuration: 1s
  warmup: 200ms
  requestTimeout: 10s
  minRequests: 8
  maxRequests: 8
  bisect: false
%s`, url, url+"/metrics", conc, extra)
	if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// relRunDir waits for the single run directory under out.
func relRunDir(t *testing.T, out string, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if ents, _ := os.ReadDir(out); len(ents) == 1 {
			d := filepath.Join(out, ents[0].Name())
			if _, err := os.Stat(filepath.Join(d, results.RunFile)); err == nil {
				return d
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no run directory under %s after %v", out, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func relLines(path string) int {
	b, _ := os.ReadFile(path)
	return bytes.Count(b, []byte("\n"))
}

// shape lists the key paths of a JSON document: objects by key, arrays by
// their elements' shapes (the count is part of the shape). The keys of
// "errors" (the error kinds met) are values, not structure.
func shape(v any, path string, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		out[path+"{}"] = true
		if strings.HasSuffix(path, ".errors") {
			return
		}
		for k, e := range x {
			shape(e, path+"."+k, out)
		}
	case []any:
		out[fmt.Sprintf("%s[%d]", path, len(x))] = true
		for _, e := range x {
			shape(e, path+"[]", out)
		}
	default:
		out[path] = true
	}
}

func jsonShape(t *testing.T, file string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	out := map[string]bool{}
	shape(v, "", out)
	return out
}

func diffKeys(a, b map[string]bool) []string {
	var d []string
	for k := range a {
		if !b[k] {
			d = append(d, "-"+k)
		}
	}
	for k := range b {
		if !a[k] {
			d = append(d, "+"+k)
		}
	}
	sort.Strings(d)
	return d
}

func stepKeys(t *testing.T, file string) []string {
	t.Helper()
	steps, truncated, err := results.ReadSteps(file)
	if err != nil || truncated {
		t.Fatalf("%s: invalid (%v, truncated %v)", file, err, truncated)
	}
	var keys []string
	for _, s := range steps {
		keys = append(keys, fmt.Sprintf("%s/%s/%d", s.Target, s.Scenario, s.Concurrency))
	}
	sort.Strings(keys)
	return keys
}

// TestKill9Resume kills the real sweep-runner with SIGKILL in the middle of
// its third step, leaves a torn last line as a kill during the write would,
// and runs the same command again (a Job's retried pod): it resumes the
// run without being told to, the finished steps are kept as they were,
// none is run again, steps.jsonl is valid, and summary.json, summary.csv
// and report.md have the structure of an uninterrupted run of the same plan.
func TestKill9Resume(t *testing.T) {
	bin := relBinary(t)
	dir := t.TempDir()
	key := "sk-kill9-" + fmt.Sprint(time.Now().UnixNano())
	keyFile := filepath.Join(dir, "key")
	os.WriteFile(keyFile, []byte(key+"\n"), 0o600)
	extra := "  apiKeyFile: " + keyFile + "\n"
	simA, simB := simServer(t, 64), simServer(t, 64)
	planA := relPlan(t, t.TempDir(), simA, "1, 2, 4, 8", extra)
	planB := relPlan(t, t.TempDir(), simB, "1, 2, 4, 8", extra)
	outA, outB := filepath.Join(dir, "a"), filepath.Join(dir, "b")

	// The uninterrupted run of the same plan, alongside.
	ref := make(chan string, 1)
	go func() {
		code, _, stderr := runCLI("run", "--plan", planB, "--out", outB)
		if code != 0 {
			ref <- fmt.Sprintf("exit %d: %s", code, stderr)
		}
		close(ref)
	}()

	var errA bytes.Buffer
	cmd := exec.Command(bin, "run", "--plan", planA, "--out", outA)
	cmd.Stderr, cmd.Stdout = &errA, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	runDir := relRunDir(t, outA, 20*time.Second)
	stepsFile := filepath.Join(runDir, results.StepsFile)
	deadline := time.Now().Add(30 * time.Second)
	for relLines(stepsFile) < 2 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("two steps not done in time: %s", errA.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // inside the third step (1.2 s + grace)
	cmd.Process.Signal(syscall.SIGKILL)
	if err := <-waited; err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("sweep-runner was not killed: %v", err)
	}
	kept, _, err := results.ReadSteps(stepsFile)
	if err != nil || len(kept) < 2 || len(kept) > 3 {
		t.Fatalf("after kill -9: %d steps (%v)", len(kept), err)
	}
	var st results.Run
	results.ReadJSON(filepath.Join(runDir, results.RunFile), &st)
	if st.Status != results.StatusRunning {
		t.Errorf("run.json after kill -9: %q (nothing could update it)", st.Status)
	}
	// A kill in the middle of the append leaves half a line.
	f, _ := os.OpenFile(stepsFile, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"schema_version":1,"run_id":"x","target":"sim","scenario":"S","concurren`)
	f.Close()
	// So does a kill in the middle of an atomic rewrite of a report.
	leftover := filepath.Join(runDir, "."+results.SummaryJSON+".tmp12345")
	os.WriteFile(leftover, []byte(`{"schema_v`), 0o644)

	var errR, outR bytes.Buffer
	res := exec.Command(bin, "run", "--plan", planA, "--out", outA)
	res.Stderr, res.Stdout = &errR, &outR
	done := make(chan error, 1)
	if err := res.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- res.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("resume: %v\n%s", err, errR.String())
		}
	case <-time.After(60 * time.Second):
		res.Process.Kill()
		t.Fatalf("resume hung: %s", errR.String())
	}
	for _, s := range kept {
		if strings.Contains(errR.String(), fmt.Sprintf(" c=%d ", s.Concurrency)) {
			t.Errorf("resume ran the finished step c=%d again:\n%s", s.Concurrency, errR.String())
		}
	}
	steps, truncated, err := results.ReadSteps(stepsFile)
	if err != nil || truncated {
		t.Fatalf("steps.jsonl after resume: %v (truncated %v)", err, truncated)
	}
	seen := map[results.Key]bool{}
	for i, s := range steps {
		if seen[s.Key()] {
			t.Errorf("step %+v repeated", s.Key())
		}
		seen[s.Key()] = true
		if s.Seq != i+1 {
			t.Errorf("line %d has seq %d", i+1, s.Seq)
		}
		if i < len(kept) {
			a, _ := json.Marshal(kept[i])
			b, _ := json.Marshal(s)
			if !bytes.Equal(a, b) {
				t.Errorf("finished step %d changed by the resume", i+1)
			}
		}
		if c := s.Requests; c.Successful+c.Errored+c.Incomplete != c.Started || c.Started == 0 {
			t.Errorf("c=%d: %+v", s.Concurrency, c)
		}
	}
	if _, err := os.Stat(leftover); err == nil {
		t.Errorf("resume left the temporary file of an interrupted write: %s", leftover)
	}
	if runs, _ := results.RunDirs(outA); len(runs) != 1 || !strings.Contains(errR.String(), "resuming the unfinished run") {
		t.Errorf("the same command again: %d run directories (want the one resumed):\n%s", len(runs), errR.String())
	}
	results.ReadJSON(filepath.Join(runDir, results.RunFile), &st)
	if st.Status != results.StatusComplete || st.Resumes != 1 {
		t.Errorf("run.json after resume: %+v", st)
	}
	if !strings.Contains(outR.String(), "| sim |") {
		t.Errorf("no sizing table after resume:\n%s", outR.String())
	}

	if msg, failed := <-ref; failed {
		t.Fatalf("uninterrupted run: %s", msg)
	}
	refDir := relRunDir(t, outB, time.Second)
	if a, b := stepKeys(t, stepsFile), stepKeys(t, filepath.Join(refDir, results.StepsFile)); strings.Join(a, " ") != strings.Join(b, " ") {
		t.Errorf("steps after resume %v, uninterrupted %v", a, b)
	}
	if d := diffKeys(jsonShape(t, filepath.Join(refDir, results.SummaryJSON)), jsonShape(t, filepath.Join(runDir, results.SummaryJSON))); len(d) > 0 {
		t.Errorf("summary.json after resume differs in structure from an uninterrupted run: %v", d)
	}
	for _, name := range []string{results.SummaryCSV, results.ReportMD} {
		a, _ := os.ReadFile(filepath.Join(refDir, name))
		b, _ := os.ReadFile(filepath.Join(runDir, name))
		if len(a) == 0 || bytes.Count(a, []byte("\n")) != bytes.Count(b, []byte("\n")) {
			t.Errorf("%s: %d lines after resume, %d uninterrupted", name, bytes.Count(b, []byte("\n")), bytes.Count(a, []byte("\n")))
		}
	}
	relNoKey(t, key, []string{runDir, refDir}, errA.String(), errR.String(), outR.String())
}

// relNoKey fails when key appears in any file under dirs or in texts.
func relNoKey(t *testing.T, key string, dirs []string, texts ...string) {
	t.Helper()
	n := 0
	for _, d := range dirs {
		filepath.Walk(d, func(p string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return nil
			}
			n++
			b, _ := os.ReadFile(p)
			if bytes.Contains(b, []byte(key)) {
				t.Errorf("API key written to %s", p)
			}
			return nil
		})
	}
	for i, s := range texts {
		if strings.Contains(s, key) {
			t.Errorf("API key in output %d:\n%s", i, s)
		}
	}
	if len(dirs) > 0 && n == 0 {
		t.Errorf("no file checked under %v", dirs)
	}
}

// TestResultsDirFailures: a results directory that cannot be written gives
// a clear error (exit 1, the path and the cause) at the step where it
// happens, and the run stops there. Tests run as root, where permissions do
// not stop writes, so the failures are made otherwise: a results path
// below a regular file, steps.jsonl replaced by a directory, and
// steps.jsonl linked to /dev/full (every write fails with ENOSPC).
func TestResultsDirFailures(t *testing.T) {
	sim := simServer(t, 64)
	t.Run("results path below a regular file", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		file := filepath.Join(dir, "file")
		os.WriteFile(file, nil, 0o644)
		out := filepath.Join(file, "out")
		code, _, stderr := runCLI("run", "--plan", relPlan(t, dir, sim, "1", ""), "--out", out)
		if code != exitFailure || !strings.Contains(stderr, file) || !strings.Contains(stderr, "not a directory") {
			t.Errorf("exit %d, stderr:\n%s", code, stderr)
		}
	})
	for _, tc := range []struct {
		name, cause string
		spoil       func(path string) error
	}{
		{"steps.jsonl is a directory", "is a directory", func(p string) error { return os.Mkdir(p, 0o755) }},
		{"disk full (/dev/full)", "no space left on device", func(p string) error {
			if _, err := os.Stat("/dev/full"); err != nil {
				t.Skip("no /dev/full")
			}
			return os.Symlink("/dev/full", p)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			plan := relPlan(t, dir, sim, "1, 2", "")
			type result struct {
				code           int
				stdout, stderr string
			}
			done := make(chan result, 1)
			go func() {
				code, stdout, stderr := runCLI("run", "--plan", plan, "--out", out)
				done <- result{code, stdout, stderr}
			}()
			runDir := relRunDir(t, out, 20*time.Second)
			stepsFile := filepath.Join(runDir, results.StepsFile)
			if err := tc.spoil(stepsFile); err != nil {
				t.Fatal(err)
			}
			var r result
			select {
			case r = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("the run did not stop")
			}
			if r.code != exitFailure {
				t.Errorf("exit %d, want %d", r.code, exitFailure)
			}
			for _, want := range []string{stepsFile, tc.cause, "c=1"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			t.Logf("stderr: %s", r.stderr)
			if strings.Contains(r.stderr, "c=2 ") {
				t.Errorf("the run went on after a step could not be saved:\n%s", r.stderr)
			}
			var st results.Run
			if err := results.ReadJSON(filepath.Join(runDir, results.RunFile), &st); err != nil || st.Status != results.StatusFailed || !strings.Contains(st.Message, tc.cause) {
				t.Errorf("run.json %+v (%v)", st, err)
			}
		})
	}
}

// TestAPIKeyNeverLeaks runs against a server that echoes every request
// header (Authorization included) in its error bodies, in error objects
// inside streams and on /metrics, and fails in the pre-flight, in
// calibration and during the steps: the key never reaches stdout, stderr
// or any file of the run directory.
func TestAPIKeyNeverLeaks(t *testing.T) {
	key := "sk-leak-" + fmt.Sprint(time.Now().UnixNano())
	var authorized atomic.Int64
	echo := func(r *http.Request) string {
		var b strings.Builder
		r.Header.Write(&b)
		return b.String()
	}
	// mode: "ok" (some requests fail), "preflight" (/v1/models refuses),
	// "calibration" (/tokenize and probes fail).
	server := func(mode string) string {
		var n atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") == "Bearer "+key {
				authorized.Add(1)
			}
			body, _ := io.ReadAll(r.Body)
			h := echo(r)
			q, _ := json.Marshal(h)
			switch {
			case r.URL.Path == "/v1/models" && mode == "preflight":
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprintf(w, `{"error":{"message":%s}}`, q)
			case r.URL.Path == "/v1/models":
				fmt.Fprint(w, `{"object":"list","data":[{"id":"m1"}]}`)
			case r.URL.Path == "/metrics":
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprint(w, h)
			case r.URL.Path == "/tokenize":
				w.WriteHeader(http.StatusInternalServerError)
				fmt.Fprint(w, h)
			case mode == "calibration":
				w.WriteHeader(http.StatusInternalServerError)
				fmt.Fprintf(w, `{"error":{"message":%s}}`, q)
			case bytes.Contains(body, []byte(`"max_tokens":1,`)): // calibration probe
				fmt.Fprint(w, "data: {\"choices\":[{\"text\":\"a\"}],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":1}}\n\ndata: [DONE]\n\n")
			default:
				switch n.Add(1) % 4 {
				case 0:
					w.WriteHeader(http.StatusInternalServerError)
					fmt.Fprintf(w, `{"error":{"message":%s}}`, q)
				case 1:
					fmt.Fprintf(w, "data: {\"error\":{\"message\":%s}}\n\n", q)
				default:
					fmt.Fprintf(w, "data: {\"choices\":[{\"text\":\" x\"}],\"note\":%s}\n\n", q)
					fmt.Fprint(w, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":1}}\n\ndata: [DONE]\n\n")
				}
			}
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	for _, tc := range []struct {
		mode    string
		viaPlan bool
		code    int
	}{
		{"ok", true, exitOK},
		{"preflight", false, exitUsage},
		{"calibration", false, exitFailure},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			keyFile := filepath.Join(dir, "api-key")
			os.WriteFile(keyFile, []byte(key+"\n"), 0o600)
			url := server(tc.mode)
			out := filepath.Join(dir, "out")
			args := []string{"run", "--out", out}
			if tc.viaPlan {
				args = append(args, "--plan", relPlan(t, dir, url, "2", "  apiKeyFile: "+keyFile+"\n"))
			} else {
				args = append(args, "--plan", relPlan(t, dir, url, "2", ""), "--api-key-file", keyFile)
			}
			before := authorized.Load()
			code, stdout, stderr := runCLI(args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.code, stderr)
			}
			if authorized.Load() == before {
				t.Fatal("the key was never sent: the test proves nothing")
			}
			var dirs []string
			// The pre-flight check (the model list, then each scenario's
			// calibration and probe) runs before a run directory exists.
			if tc.mode == "ok" {
				runDir := relRunDir(t, out, time.Second)
				dirs = append(dirs, runDir)
				if tc.mode == "ok" {
					steps, _, _ := results.ReadSteps(filepath.Join(runDir, results.StepsFile))
					if len(steps) != 1 || steps[0].Requests.Errored == 0 {
						t.Fatalf("steps %+v", steps)
					}
				}
				plan, _ := os.ReadFile(filepath.Join(runDir, results.PlanFile))
				if tc.viaPlan && !bytes.Contains(plan, []byte(keyFile)) {
					t.Errorf("the plan as run lost apiKeyFile (the path, not the key, belongs there):\n%s", plan)
				}
			}
			relNoKey(t, key, dirs, stdout, stderr)
			t.Logf("exit %d; stderr: %s", code, strings.TrimSpace(stderr))
		})
	}
}
