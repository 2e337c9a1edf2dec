package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// RepoRoot returns the module root (the folder holding go.mod).
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate testenv source")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Find returns the path of a tool from PATH or the repository's .tools/bin
// (where `make tools` installs pinned binaries). When it is missing the test
// is skipped with a loud message, or failed when CI=true.
func Find(t testing.TB, name string, hint string) string {
	t.Helper()
	local := filepath.Join(RepoRoot(t), ".tools", "bin", name)
	if st, err := os.Stat(local); err == nil && !st.IsDir() {
		return local
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	missing(t, name+" is not installed ("+hint+")")
	return ""
}

// missing skips the test loudly, or fails it when CI=true.
func missing(t testing.TB, what string) {
	t.Helper()
	msg := "REQUIRED TOOL MISSING: " + what + "; run `make tools` or .ci/run"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPING LOUDLY: " + msg)
}

// Kustomize is the pinned kustomize CLI.
func Kustomize(t testing.TB) string {
	return Find(t, "kustomize", "go install sigs.k8s.io/kustomize/kustomize/v5@v5.8.2")
}

// Prometheus is Debian's prometheus server.
func Prometheus(t testing.TB) string {
	return Find(t, "prometheus", "apt-get install -y prometheus")
}

// Promtool comes with Debian's prometheus package.
func Promtool(t testing.TB) string {
	return Find(t, "promtool", "apt-get install -y prometheus")
}

// Chromium is Debian's headless-capable chromium.
func Chromium(t testing.TB) string {
	return Find(t, "chromium", "apt-get install -y chromium")
}
