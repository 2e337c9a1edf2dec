package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/results"
	"github.com/rhoai-demo/step07/vllmsim"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func runCLI(args ...string) (int, string, string) {
	var out, errb syncBuf
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func simServer(t *testing.T, maxNumSeqs int) string {
	t.Helper()
	cfg := vllmsim.DefaultConfig()
	cfg.Model = "m1"
	cfg.MaxNumSeqs = maxNumSeqs
	return simServerWith(t, cfg)
}

// simServerWith starts an in-process vllm-sim with cfg; it returns its URL.
func simServerWith(t *testing.T, cfg vllmsim.Config) string {
	t.Helper()
	s, err := vllmsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Close() })
	return srv.URL
}

func deadURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	badPlan := filepath.Join(dir, "bad-plan.yaml")
	os.WriteFile(badPlan, []byte(`apiVersion: step07.rhoai-demo.io/v1alpha1
kind: SweepPlan
spec:
  targets:
  - name: a
    url: http://127.0.0.1:1
  scenarios:
  - name: A
    inputTokens: -5
    outputTokens: 10
  stepDurationX: 3s
`), 0o644)
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<html>nope</html>") }))
	defer html.Close()
	sim := simServer(t, 4)
	out := filepath.Join(dir, "out")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"invalid plan: field paths", []string{"run", "--plan", badPlan, "--out", out}, []string{"spec.stepDurationX", "unknown field"}},
		{"invalid values: field paths", []string{"run", "--target", "a=http://x", "--step-duration", "10ms", "--out", out}, []string{"spec.stepDuration", "at least 1s"}},
		{"no target", []string{"run", "--out", out}, []string{"spec.targets", "--target"}},
		{"unreachable target", []string{"run", "--target", "a=" + deadURL(t), "--out", out}, []string{"target a", "cannot reach"}},
		{"not an OpenAI server", []string{"run", "--target", "h=" + html.URL, "--out", out}, []string{"not an OpenAI-compatible server"}},
		{"model not served", []string{"run", "--target", "s=" + sim + ",model=nope", "--out", out}, []string{`does not serve model "nope"`, "m1"}},
		{"unknown scenario", []string{"run", "--target", "s=" + sim + ",model=m1", "--scenario", "Z", "--out", out}, []string{`unknown scenario "Z"`}},
		{"bad target syntax", []string{"run", "--target", "justaname", "--out", out}, []string{"NAME=URL"}},
		{"bad gpus", []string{"run", "--target", "a=http://x,gpus=zero", "--out", out}, []string{"gpus"}},
		{"unknown flag", []string{"run", "--frobnicate"}, []string{"unknown flag"}},
		{"both grids", []string{"run", "--target", "a=http://x", "--concurrency", "1,2", "--max-concurrency", "8"}, []string{"exclude"}},
		{"unknown command", []string{"frob"}, []string{"unknown command"}},
		{"report of a non-run dir", []string{"report", dir}, []string{"not a run directory"}},
		{"resume of a non-run dir", []string{"run", "--resume", dir}, []string{"--resume"}},
		{"missing api key file", []string{"run", "--target", "s=" + sim + ",model=m1", "--api-key-file", filepath.Join(dir, "nokey"), "--out", out}, []string{"API key file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(tc.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr: %s", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
				t.Errorf("panic: %s", stderr)
			}
		})
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("bad input left run directories behind: %v", ents)
	}
	// A key pasted where its file name belongs is not echoed back.
	const pasted = "sk-pasted-secret-0123456789"
	code, stdout, stderr := runCLI("run", "--target", "s="+sim+",model=m1", "--api-key-file", pasted, "--out", out)
	if code != 2 || strings.Contains(stderr+stdout, pasted) || !strings.Contains(stderr, "API key file") {
		t.Errorf("key given as a path: exit %d, output echoes it or lacks the reason:\n%s%s", code, stdout, stderr)
	}
}

func TestVersionAndHelp(t *testing.T) {
	if code, out, _ := runCLI("--version"); code != 0 || !strings.Contains(out, "sweep-runner") {
		t.Errorf("--version: %d %q", code, out)
	}
	if code, _, errs := runCLI("run", "--help"); code != 0 || !strings.Contains(errs, "--max-concurrency") {
		t.Errorf("run --help: %d %q", code, errs)
	}
	if code, out, _ := runCLI("help"); code != 0 || !strings.Contains(out, "report RUN_DIR") {
		t.Errorf("help: %d", code)
	}
}

// TestSIGTERMResumeReport: SIGTERM ends the run with exit 3 and the
// finished steps kept; --resume finishes it; report rebuilds it offline. The
// API key is never written to the run directory.
func TestSIGTERMResumeReport(t *testing.T) {
	sim := simServer(t, 2)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	os.WriteFile(keyFile, []byte("sk-very-secret-key\n"), 0o600)
	out := filepath.Join(dir, "out")
	var errb syncBuf
	done := make(chan int)
	go func() {
		done <- run([]string{"run", "--target", "sim=" + sim + ",gpus=1,model=m1", "--scenario", "A", "--concurrency", "1,2,4",
			"--step-duration", "1s", "--warmup", "200ms", "--min-requests", "8", "--max-requests", "8", "--api-key-file", keyFile, "--out", out}, &syncBuf{}, &errb)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(errb.String(), "c=1 grid") {
		if time.Now().After(deadline) {
			t.Fatalf("no first step: %s", errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // inside the second step
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	var code int
	select {
	case code = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("SIGTERM did not end the run")
	}
	if code != 3 {
		t.Fatalf("exit %d after SIGTERM, want 3: %s", code, errb.String())
	}
	ents, _ := os.ReadDir(out)
	if len(ents) != 1 {
		t.Fatalf("run dirs: %v", ents)
	}
	runDir := filepath.Join(out, ents[0].Name())
	steps, _, err := results.ReadSteps(filepath.Join(runDir, results.StepsFile))
	if err != nil || len(steps) != 1 {
		t.Fatalf("kept %d steps (%v), want 1", len(steps), err)
	}
	var st results.Run
	results.ReadJSON(filepath.Join(runDir, results.RunFile), &st)
	if st.Status != results.StatusInterrupted {
		t.Errorf("status %q", st.Status)
	}

	code, stdout, stderr := runCLI("run", "--resume", runDir)
	if code != 0 {
		t.Fatalf("resume exit %d: %s", code, stderr)
	}
	if strings.Contains(stderr, "c=1 grid") || !strings.Contains(stderr, "c=4 grid") || !strings.Contains(stdout, "| sim |") {
		t.Errorf("resume output:\n%s\n%s", stderr, stdout)
	}
	steps, _, _ = results.ReadSteps(filepath.Join(runDir, results.StepsFile))
	// 1, 2, 4 and the bisection step 3 (max-num-seqs 2), and the step
	// below the breaking point certified again when it had only explored.
	ran := map[int]bool{}
	for _, s := range steps {
		if ran[s.Concurrency] && s.Phase != results.PhaseCertify {
			t.Errorf("c=%d ran twice (%s)", s.Concurrency, s.Phase)
		}
		ran[s.Concurrency] = true
	}
	if len(ran) != 4 || len(steps) > 5 {
		t.Errorf("%d steps after resume at %v, want 1, 2, 3 and 4 (and 2 certified)", len(steps), ran)
	}
	// --resume --out DIR picks the latest run; a finished run just rebuilds.
	if code, _, stderr := runCLI("run", "--resume", "--out", out); code != 0 {
		t.Errorf("resume of a finished run: %d %s", code, stderr)
	}
	os.Remove(filepath.Join(runDir, results.SummaryJSON))
	if code, stdout, stderr := runCLI("report", runDir); code != 0 || !strings.Contains(stdout, "| sim | 1 | A |") {
		t.Errorf("report: %d %s %s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(runDir, results.SummaryJSON)); err != nil {
		t.Error("report did not rebuild summary.json")
	}
	filepath.Walk(runDir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			b, _ := os.ReadFile(p)
			if bytes.Contains(b, []byte("sk-very-secret-key")) {
				t.Errorf("API key written to %s", p)
			}
		}
		return nil
	})
}

// TestRefusedScenarioIsBadInput: a scenario longer than the server's
// context (HTTP 400 for prompt + max_tokens) stops the run before any step,
// with exit 2 and the server's own message, and leaves no run directory;
// it is not measured as a step of refusals.
func TestRefusedScenarioIsBadInput(t *testing.T) {
	cfg := vllmsim.DefaultConfig()
	cfg.Model, cfg.MaxModelLen = "m1", 2048
	url := simServerWith(t, cfg)
	out := filepath.Join(t.TempDir(), "out")
	start := time.Now()
	code, _, stderr := runCLI("run", "--target", "s="+url+",model=m1", "--scenario", "A,B", "--concurrency", "1", "--out", out)
	if code != exitUsage || !strings.Contains(stderr, "scenario B (4096 tokens in, 256 out)") || !strings.Contains(stderr, "maximum context length is 2048 tokens") {
		t.Fatalf("exit %d, want 2 with the scenario and the server's message:\n%s", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		if ents, _ := os.ReadDir(out); len(ents) > 0 {
			t.Errorf("a run directory was made for bad input: %v", ents)
		}
	}
	if time.Since(start) > 20*time.Second {
		t.Errorf("took %v to refuse", time.Since(start))
	}
}
