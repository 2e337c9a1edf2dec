package golden

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rhoai-demo/step07/api/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite the expected files under testdata")

// bin is step07gen built once for the tests that run the real command.
var bin string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "step07gen-golden-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "step07gen")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/step07gen")
	cmd.Dir = repoRoot()
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building step07gen:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// treeDir is the committed gitops tree and its config.
var (
	treeDir    = filepath.Join(repoRoot(), "gitops", "step-07-model-performance-metrics")
	treeConfig = filepath.Join(treeDir, "step07.yaml")
)

// step07gen runs the built command.
func step07gen(t *testing.T, dir string, stdin []byte, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running step07gen: %v", err)
	}
	return o.String(), e.String(), code
}

// configs lists testdata/<kind>/*.yaml by base name.
func configs(t *testing.T, kind string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join("testdata", kind, "*.yaml"))
	if err != nil || len(m) == 0 {
		t.Fatalf("no configs under testdata/%s: %v", kind, err)
	}
	var names []string
	for _, p := range m {
		names = append(names, strings.TrimSuffix(filepath.Base(p), ".yaml"))
	}
	sort.Strings(names)
	return names
}

func load(t *testing.T, path string) (*v1alpha1.ModelPerformanceMetrics, []byte) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := v1alpha1.LoadConfig(raw)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c, raw
}

// readTree reads every file under dir, keyed by slash path.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return out
}

func diffText(want, got string) string { return cmp.Diff(want, got) }
