// Package layers holds the test of the module's import layers: what each
// layer may import, read from `go list`, so a new import that breaks the
// picture in docs/architecture.md fails here rather than in review.
package layers

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/api/kpi"
)

const mod = "github.com/rhoai-demo/step07/"

// imports maps each package of the module (path relative to the module)
// to the module packages it imports (tests excluded).
func imports(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "github.com/rhoai-demo/step07/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		p := strings.TrimPrefix(f[0], mod)
		m[p] = nil
		for _, i := range f[1:] {
			if r, ok := strings.CutPrefix(i, mod); ok {
				m[p] = append(m[p], r)
			}
		}
	}
	return m
}

func top(p string) string { a, _, _ := strings.Cut(p, "/"); return a }

// TestLayers: internal/ holds bottom-layer libraries only (they import
// nothing of the module but each other: neither the config nor the
// generators nor the programs); a generator imports no other generator
// (what two share is in api/v1alpha1 or internal/); api/ imports only
// api/ and internal/.
func TestLayers(t *testing.T) {
	m := imports(t)
	if len(m) < 20 {
		t.Fatalf("go list found %d packages", len(m))
	}
	for _, v := range violations(m) {
		t.Error(v)
	}
}

// TestLayerRules: the rules catch each kind of wrong import.
func TestLayerRules(t *testing.T) {
	m := map[string][]string{
		"internal/kit":       {"api/v1alpha1"},
		"internal/manifest":  {"internal/kit"},
		"generators/rules":   {"generators/dashboards", "internal/kit", "api/v1alpha1"},
		"generators":         {"generators/rules"},
		"api/v1alpha1":       {"generators/rules", "internal/k8sname"},
		"cmd/step07gen/tree": {"generators"},
	}
	if v := violations(m); len(v) != 3 {
		t.Errorf("want 3 violations, got %q", v)
	}
}

func violations(m map[string][]string) []string {
	var out []string
	for p, imps := range m {
		for _, i := range imps {
			switch {
			case top(p) == "internal" && top(i) != "internal":
				out = append(out, p+" imports "+i+": internal/ is the bottom layer and knows neither the config nor the generators")
			case top(p) == "generators" && strings.Contains(p, "/") && top(i) == "generators" && strings.Split(p, "/")[1] != strings.Split(i, "/")[1]:
				out = append(out, p+" imports "+i+": generators never import each other")
			case top(p) == "api" && top(i) != "internal" && top(i) != "api":
				out = append(out, p+" imports "+i+": the config types and the KPI table import only api/ and internal/")
			}
		}
	}
	return out
}

// TestOneDefinitionOfEachRule: each breaking rule is defined once, in
// api/kpi; no other non-test file spells its name, except where the same
// word means something else (listed, with why).
func TestOneDefinitionOfEachRule(t *testing.T) {
	other := map[string]string{
		"sweep-runner/report/charts.go " + kpi.RuleQueue:         "a chart's kind (waiting requests vs concurrency)",
		"sweep-runner/guidellm/prometheus.go " + kpi.RuleSuccess: "the Prometheus API's status",
		"internal/testenv/prometheus.go " + kpi.RuleSuccess:      "the Prometheus API's status",
	}
	names := map[string]bool{}
	for _, r := range kpi.Rules {
		names[r.Name] = true
	}
	if len(names) < 3 {
		t.Fatalf("kpi.Rules holds %d rules", len(names))
	}
	found := ruleLiterals(t, "..", names)
	for _, f := range found {
		if strings.HasPrefix(f, "api/kpi/") {
			continue
		}
		if _, ok := other[f]; !ok {
			t.Errorf("%s: a breaking rule's name outside api/kpi (use kpi.Rules or its Rule* constants)", f)
		}
	}
	// The check sees a planted copy.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x.go"), []byte("package x\nconst r = \""+kpi.RuleTTFT+"\"\n"), 0o644)
	if got := ruleLiterals(t, dir, names); len(got) != 1 {
		t.Errorf("planted rule name not found: %q", got)
	}
}

// ruleLiterals lists "path name" for every string literal in the non-test
// Go files under root whose value is one of names.
func ruleLiterals(t *testing.T, root string, names map[string]bool) []string {
	t.Helper()
	var out []string
	goFiles(t, root, root, func(rel string) bool { return false }, func(rel string, f *ast.File) {
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if v, err := strconv.Unquote(lit.Value); err == nil && names[v] {
					out = append(out, rel+" "+v)
				}
			}
			return true
		})
	})
	return out
}

// fileFuncs are, by import path, the functions that reach a file by its
// path: os's, io/ioutil's, the directory walks, the raw system calls, and
// the path-based helpers of sweep-runner/results that its *Dir wraps.
var fileFuncs = map[string][]string{
	"os":                         {"Chmod", "Chtimes", "CopyFS", "Create", "CreateTemp", "DirFS", "Link", "Lstat", "Mkdir", "MkdirAll", "MkdirTemp", "Open", "OpenFile", "OpenInRoot", "OpenRoot", "ReadDir", "ReadFile", "Readlink", "Remove", "RemoveAll", "Rename", "Stat", "Symlink", "Truncate", "WriteFile"},
	"io/ioutil":                  {"ReadDir", "ReadFile", "TempDir", "TempFile", "WriteFile"},
	"path/filepath":              {"Glob", "Walk", "WalkDir"},
	"syscall":                    {"Creat", "Flock", "Mkdir", "Mkdirat", "Open", "Openat", "Rename", "Renameat", "Rmdir", "Truncate", "Unlink", "Unlinkat"},
	mod + "sweep-runner/results": {"AppendStep", "AppendSynced", "ReadJSON", "ReadSteps", "RepairSteps", "WriteFileAtomic", "WriteJSON"},
}

// fileAccessAllowed are the files outside a run directory that sweep-runner
// reaches by path ("file function package.Name"), each with why: files the
// user names, and the kernel's files about the process itself. Anything in
// a run directory goes through a *results.Dir.
var fileAccessAllowed = map[string]string{
	"sweep-runner/run.go buildPlan os.ReadFile":                             "--plan: the plan the user names (a run's plan.yaml is read by results.Load)",
	"sweep-runner/run.go readAPIKey os.ReadFile":                            "--api-key-file or spec.apiKeyFile: the targets' API key",
	"sweep-runner/run.go applyOutputs os.Stat":                              "--prometheus-token-file: present before GPU power is measured",
	"sweep-runner/client/client.go CertPool os.ReadFile":                    "--ca-file or spec.caFile: the CA bundle trusted for https targets",
	"sweep-runner/guidellm/read.go ReadFile os.Stat":                        "import guidellm FILE...: the GuideLLM reports imported (a file, or a directory holding benchmarks.json)",
	"sweep-runner/guidellm/read.go ReadFile os.ReadFile":                    "import guidellm FILE...: the GuideLLM reports imported",
	"sweep-runner/guidellm/prometheus.go Prometheus.rangeQuery os.ReadFile": "import's --prometheus-token-file, read at every query (tokens rotate)",
	"sweep-runner/dataset/dataset.go open os.Open":                          "a file the user names: a scenario's dataset or dataset stats FILE (recorded traffic)",
	"sweep-runner/cmd_guidellm.go cmdExport results.WriteFileAtomic":        "export guidellm --out FILE: a file the user names, anywhere (the default, in the run directory, is written through results.At)",
	"sweep-runner/selfcheck/cgroup.go readCgroup os.ReadFile":               "/proc/self/cgroup: the cgroup the client is in, for its CPU throttling",
	"sweep-runner/selfcheck/cgroup.go readCgroupAt os.ReadFile":             "the client's cgroup's cpu.stat and CPU limit (cpu.max, cpu.cfs_quota_us, cpu.cfs_period_us) under /sys/fs/cgroup",
	"sweep-runner/selfcheck/cgroup.go exists os.Stat":                       "which cgroup hierarchy /sys/fs/cgroup holds, and whether the client's cgroup is under it",
}

// TestRunDirectoryOwner: sweep-runner/results owns the run directory
// (create, open, load, lock, append, prune), so no other non-test file
// under sweep-runner/ reaches a file by its path, except the files the
// user names listed in fileAccessAllowed; a listed exception no longer
// found fails too, so the list stays exact.
func TestRunDirectoryOwner(t *testing.T) {
	used := map[string]bool{}
	for _, f := range fileAccess(t, "..") {
		if _, ok := fileAccessAllowed[f]; ok {
			used[f] = true
			continue
		}
		t.Errorf("%s: a file reached by path outside sweep-runner/results (a run directory's files go through a *results.Dir; a file the user names is listed in fileAccessAllowed with why)", f)
	}
	for k := range fileAccessAllowed {
		if !used[k] {
			t.Errorf("fileAccessAllowed %q: not found any more, remove it", k)
		}
	}
}

// TestRunDirectoryOwnerRule: the check sees a planted file access (a call,
// a function value, an aliased import, a results path helper) and leaves
// tests, results/, code outside sweep-runner/ and listed exceptions alone.
func TestRunDirectoryOwnerRule(t *testing.T) {
	root := t.TempDir()
	for rel, src := range map[string]string{
		"sweep-runner/sweep/x.go": `package sweep
import (
	o "os"
	"path/filepath"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)
func save(dir string, b []byte) error {
	rm := o.Remove
	_ = rm
	filepath.Glob(filepath.Join(dir, "*"))
	return o.WriteFile(filepath.Join(dir, results.PlanFile), b, 0o644)
}
func (s *S) keep(dir string) error { return results.WriteJSON(filepath.Join(dir, results.RunFile), s) }
`,
		"sweep-runner/run.go": `package main
import "os"
func buildPlan(p string) ([]byte, error) { return os.ReadFile(p) }
func resume(dir string) ([]byte, error) { return os.ReadFile(dir + "/run.json") }
`,
		"sweep-runner/x_test.go":    "package main\nimport \"os\"\nfunc f() { os.WriteFile(\"a\", nil, 0) }\n",
		"sweep-runner/results/x.go": "package results\nimport \"os\"\nfunc f() { os.WriteFile(\"a\", nil, 0) }\n",
		"vllmsim/x.go":              "package vllmsim\nimport \"os\"\nfunc f() { os.WriteFile(\"a\", nil, 0) }\n",
	} {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var bad []string
	allowed := 0
	for _, f := range fileAccess(t, root) {
		if _, ok := fileAccessAllowed[f]; ok {
			allowed++
		} else {
			bad = append(bad, f)
		}
	}
	want := []string{
		"sweep-runner/run.go resume os.ReadFile",
		"sweep-runner/sweep/x.go S.keep results.WriteJSON",
		"sweep-runner/sweep/x.go save filepath.Glob",
		"sweep-runner/sweep/x.go save os.Remove",
		"sweep-runner/sweep/x.go save os.WriteFile",
	}
	slices.Sort(bad)
	if !slices.Equal(bad, want) || allowed != 1 {
		t.Errorf("found %q (and %d allowed), want %q (and 1 allowed)", bad, allowed, want)
	}
}

// fileAccess lists "file function package.Name" (a package by its path's
// last element, a method as Type.Method) for every use, called or not, of
// a fileFuncs function in the non-test Go files under root/sweep-runner
// outside its results/ (files relative to root).
func fileAccess(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	goFiles(t, root, filepath.Join(root, "sweep-runner"), func(rel string) bool { return rel == "sweep-runner/results" }, func(rel string, f *ast.File) {
		local := map[string]string{} // import name -> path, for the packages of fileFuncs
		for _, s := range f.Imports {
			path, _ := strconv.Unquote(s.Path.Value)
			if fileFuncs[path] == nil {
				continue
			}
			name := path[strings.LastIndex(path, "/")+1:]
			if s.Name != nil {
				name = s.Name.Name
			}
			if name == "." {
				out = append(out, rel+" import . "+path)
			}
			local[name] = path
		}
		for _, decl := range f.Decls {
			fn := "(package)"
			if fd, ok := decl.(*ast.FuncDecl); ok {
				fn = fd.Name.Name
				if fd.Recv != nil && len(fd.Recv.List) == 1 {
					fn = recvName(fd.Recv.List[0].Type) + "." + fn
				}
			}
			ast.Inspect(decl, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				id, ok := sel.X.(*ast.Ident)
				if !ok {
					return true
				}
				path, ok := local[id.Name]
				if ok && slices.Contains(fileFuncs[path], sel.Sel.Name) {
					out = append(out, rel+" "+fn+" "+path[strings.LastIndex(path, "/")+1:]+"."+sel.Sel.Name)
				}
				return true
			})
		}
	})
	return out
}

// goFiles parses every non-test Go file under dir (testdata, .git and
// the folders skip says, by their path relative to root, left out) and
// hands it to visit with its path relative to root.
func goFiles(t *testing.T, root, dir string, skip func(rel string) bool, visit func(rel string, f *ast.File)) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "node_modules" || skip(rel)) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		visit(rel, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// recvName is a method's receiver type without pointer or type parameters.
func recvName(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.Ident:
			return x.Name
		default:
			return "?"
		}
	}
}
