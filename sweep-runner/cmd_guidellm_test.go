package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/guidellm"
	"github.com/rhoai-demo/step07/sweep-runner/results"
	"github.com/rhoai-demo/step07/vllmsim"
)

func TestGuideLLMHelp(t *testing.T) {
	for _, args := range [][]string{
		{"import", "guidellm", "--help"}, {"export", "guidellm", "--help"},
		{"import", "--help"}, {"export", "-h"},
	} {
		code, _, errs := runCLI(args...)
		if code != 0 || !strings.Contains(errs, "Usage: sweep-runner "+args[0]+" guidellm") {
			t.Errorf("%v: exit %d, %q", args, code, errs)
		}
	}
	if code, out, _ := runCLI("help"); code != 0 || !strings.Contains(out, "import guidellm FILE") || !strings.Contains(out, "export guidellm RUN_DIR") {
		t.Errorf("help does not list import and export: %d %q", code, out)
	}
}

func TestGuideLLMBadInput(t *testing.T) {
	dir := t.TempDir()
	v2 := filepath.Join("guidellm", "testdata", "v2-concurrent.json")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"import"}, "import needs a format"},
		{[]string{"import", "aiperf", v2}, `unknown format "aiperf"`},
		{[]string{"import", "guidellm", "--out", dir}, "needs at least one FILE"},
		{[]string{"import", "guidellm", filepath.Join(dir, "nope.json"), "--out", dir}, "no such file"},
		{[]string{"import", "guidellm", filepath.Join("guidellm", "testdata", "bad-missing-p95.json"), "--out", dir},
			"benchmarks[2].metrics.time_to_first_token_ms.successful.percentiles.p95: missing"},
		{[]string{"import", "guidellm", filepath.Join("guidellm", "testdata", "bad-version.json"), "--out", dir}, "metadata.version: unknown report version 3"},
		{[]string{"import", "guidellm", v2, "--target", "m=http://x", "--out", dir}, "an import has no URL"},
		{[]string{"import", "guidellm", v2, v2, v2, "--target", "a", "--target", "b", "--out", dir}, "2 --target for 3 files"},
		{[]string{"import", "guidellm", v2, "--prometheus-url", "ftp://prom", "--out", dir}, "--prometheus-url"},
		{[]string{"import", "guidellm", v2, "--prometheus-token-file", "t", "--out", dir}, "need --prometheus-url"},
		{[]string{"export"}, "export needs a format"},
		{[]string{"export", "guidellm"}, "exactly one RUN_DIR"},
		{[]string{"export", "guidellm", dir}, "is not a run directory"},
	} {
		code, _, errs := runCLI(c.args...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, want 2 and %q in %q", c.args, code, c.want, errs)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("bad input left %d entries in --out", len(ents))
	}
}

func TestGuideLLMImportThenReport(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runCLI("import", "guidellm", filepath.Join("guidellm", "testdata", "v2-concurrent.yaml"),
		filepath.Join("guidellm", "testdata", "v1-args.json"), "--target", "granite,gpus=1", "--target", "llama,gpus=2", "--out", out)
	if code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	// No bisection ran: the breaking points are bounds from GuideLLM's grid.
	if !strings.Contains(stdout, "| granite | 1 | 512in-128out | 8 (ttft_p95) (bound) | - | 4 |") || !strings.Contains(stdout, "| llama | 2 | 256in-64out | 16 (ttft_p95) (bound) | - | 3 |") {
		t.Fatalf("sizing table:\n%s", stdout)
	}
	if !strings.Contains(stderr, "queue rule and the KV cache KPI are unknown") {
		t.Errorf("no note that the server metrics are unknown: %s", stderr)
	}
	ents, _ := os.ReadDir(out)
	if len(ents) != 1 {
		t.Fatalf("%d run directories", len(ents))
	}
	runDir := filepath.Join(out, ents[0].Name())
	if code, _, stderr := runCLI("report", runDir); code != 0 {
		t.Fatalf("report of an imported run: exit %d: %s", code, stderr)
	}
	// Two targets and two scenarios; each target measured one of them.
	var sum results.Summary
	if err := results.ReadJSON(filepath.Join(runDir, results.SummaryJSON), &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Results) != 4 {
		t.Fatalf("%d results", len(sum.Results))
	}
}

// TestGuideLLMRoundTrip: a real sweep against vllm-sim, exported in
// GuideLLM's layout, imported back: the same breaking point.
func TestGuideLLMRoundTrip(t *testing.T) {
	cfg := vllmsim.DefaultConfig()
	cfg.Model, cfg.MaxNumSeqs, cfg.IterFixed, cfg.PerDecodeSeq = "m1", 2, 2*time.Millisecond, 100*time.Microsecond
	sim := simServerWith(t, cfg)
	dir := t.TempDir()
	out := filepath.Join(dir, "run")
	code, _, stderr := runCLI("run", "--target", "sim="+sim+",gpus=1,model=m1", "--scenario", "A", "--max-concurrency", "4",
		"--step-duration", "1s", "--warmup", "200ms", "--min-requests", "8", "--max-requests", "8", "--out", out)
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	ents, _ := os.ReadDir(out)
	runDir := filepath.Join(out, ents[0].Name())

	code, stdout, stderr := runCLI("export", "guidellm", runDir)
	want := filepath.Join(runDir, guidellm.ExportFile)
	if code != 0 || strings.TrimSpace(stdout) != want {
		t.Fatalf("export: exit %d, stdout %q: %s", code, stdout, stderr)
	}
	code, piped, _ := runCLI("export", "guidellm", runDir, "--out", "-")
	file, _ := os.ReadFile(want)
	if code != 0 || piped != string(file) {
		t.Fatalf("export --out -: exit %d, differs from the file", code)
	}
	var doc struct {
		Metadata struct {
			Version int `json:"version"`
		} `json:"metadata"`
		Benchmarks []json.RawMessage `json:"benchmarks"`
	}
	if err := json.Unmarshal(file, &doc); err != nil || doc.Metadata.Version != 2 || len(doc.Benchmarks) == 0 {
		t.Fatalf("export is not a version-2 report: %v", err)
	}

	imp := filepath.Join(dir, "imp")
	code, _, stderr = runCLI("import", "guidellm", want, "--out", imp)
	if code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	ents, _ = os.ReadDir(imp)
	var a, b results.Summary
	results.ReadJSON(filepath.Join(runDir, results.SummaryJSON), &a)
	results.ReadJSON(filepath.Join(imp, ents[0].Name(), results.SummaryJSON), &b)
	ra, rb := a.Results[0], b.Results[0]
	if ra.BreakingPoint == nil {
		t.Fatalf("the sweep found no breaking point: %+v", ra)
	}
	if !reflect.DeepEqual(ra.BreakingPoint, rb.BreakingPoint) || ra.MaxConcurrencyAtSLA != rb.MaxConcurrencyAtSLA || len(ra.Steps) != len(rb.Steps) {
		t.Fatalf("round trip: breaking point %+v, at SLA %d, %d steps -> %+v, %d, %d steps",
			ra.BreakingPoint, ra.MaxConcurrencyAtSLA, len(ra.Steps), rb.BreakingPoint, rb.MaxConcurrencyAtSLA, len(rb.Steps))
	}
	t.Logf("round trip: breaking point %d (%s), %d benchmarks", rb.BreakingPoint.Concurrency, rb.BreakingPoint.Rule, len(doc.Benchmarks))
}
