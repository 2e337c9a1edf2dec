package golden

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// problemLine is one reported problem: a field path (or "(file)" for the
// whole file), a colon, the message.
var problemLine = regexp.MustCompile(`^  (\(file\)|(apiVersion|kind|metadata|spec)([.\[][^ :]*)?): \S`)

// generatedBadConfigs are the corpus entries too big to commit.
func generatedBadConfigs() map[string][]byte {
	const h = "apiVersion: step07.rhoai-demo.io/v1alpha1\nkind: ModelPerformanceMetrics\n"
	var big bytes.Buffer
	big.WriteString(h + "spec:\n  models:\n")
	for big.Len() < 10<<20 {
		big.WriteString("    - name: mistral-3-bf16\n      precision: bf16\n      gpus: 4\n")
	}
	var deep bytes.Buffer
	deep.WriteString(h + "spec:\n")
	for i := 0; deep.Len() < 900<<10; i++ {
		deep.WriteString(strings.Repeat(" ", i+2) + "k:\n")
	}
	garbage := bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef, 0x00, 0x7f}, 2<<20/6)
	return map[string][]byte{
		"ten-megabytes.yaml":     big.Bytes(),
		"ten-megabyte-garbage":   append(garbage, bytes.Repeat([]byte("x"), 8<<20)...),
		"deep-block-nesting.yml": deep.Bytes(),
		"config-is-a-directory":  nil, // a directory where the file should be
	}
}

// TestBadConfigCorpus runs the real `step07gen generate` on every invalid
// config of testdata/invalid and on the generated ones (10 MB, deep block
// nesting, garbage, a directory): exit 2, each problem with a field path or
// (file), no panic, nothing written next to the config or in --out, within
// bounded time and memory. TestInvalidConfigs pins the exact messages.
func TestBadConfigCorpus(t *testing.T) {
	type entry struct {
		name string
		data []byte
		dir  bool
	}
	var corpus []entry
	for _, name := range configs(t, "invalid") {
		b, err := os.ReadFile(filepath.Join("testdata", "invalid", name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		corpus = append(corpus, entry{name: name + ".yaml", data: b})
	}
	for name, b := range generatedBadConfigs() {
		corpus = append(corpus, entry{name: name, data: b, dir: b == nil})
	}
	if len(corpus) < 25 {
		t.Fatalf("corpus has %d configs, want at least 25", len(corpus))
	}
	for _, e := range corpus {
		t.Run(e.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, e.name)
			if e.dir {
				if err := os.Mkdir(cfg, 0o755); err != nil {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(cfg, e.data, 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "tree")
			for _, args := range [][]string{{"generate", "--config", e.name, "--out", out}, {"fn", e.name}} {
				stdout, stderr, code, rss, took := runBounded(t, dir, args...)
				if code != 2 {
					t.Errorf("%s: exit %d, want 2; stderr:\n%s", args[0], code, stderr)
				}
				if args[0] == "fn" && stdout != "" {
					t.Errorf("fn printed objects for a bad config")
				}
				low := strings.ToLower(stderr)
				for _, bad := range []string{"panic", "goroutine", "internal error", "runtime error"} {
					if strings.Contains(low, bad) {
						t.Errorf("%s: stderr mentions %q:\n%s", args[0], bad, stderr)
					}
				}
				if took > 10*time.Second {
					t.Errorf("%s: took %v", args[0], took)
				}
				if rss > 512<<20 {
					t.Errorf("%s: peak memory %d MiB", args[0], rss>>20)
				}
				lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
				if e.dir {
					// Not a config at all: a plain message naming the file.
					if len(lines) != 1 || !strings.Contains(stderr, e.name) {
						t.Errorf("%s: want one line naming the file, got:\n%s", args[0], stderr)
					}
					continue
				}
				if len(lines) < 2 || !strings.Contains(lines[0], "nothing was written") {
					t.Fatalf("%s: want a header and problems, got:\n%s", args[0], stderr)
				}
				for _, l := range lines[1:] {
					if !problemLine.MatchString(l) {
						t.Errorf("%s: problem without a field path: %q", args[0], l)
					}
				}
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 || entries[0].Name() != e.name {
				var names []string
				for _, x := range entries {
					names = append(names, x.Name())
				}
				t.Errorf("files written next to the config: %v", names)
			}
		})
	}
}

// runBounded runs the built step07gen with a deadline and reports its exit
// code, peak resident memory (where the OS reports it) and wall time.
func runBounded(t *testing.T, dir string, args ...string) (stdout, stderr string, code int, maxRSS int64, took time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	start := time.Now()
	err := cmd.Run()
	took = time.Since(start)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running step07gen: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("step07gen %v did not finish in 60s", args)
	}
	return o.String(), e.String(), code, peakRSS(cmd.ProcessState), took
}
