package golden

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/sweep-runner/report"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// reportRun is a committed run directory (plan.yaml, run.json, steps.jsonl
// of a real sweep of two simulated models, with GPU power, plus a third
// target that broke at its first step); reportWant holds the reports
// `sweep-runner report` must rebuild from it.
var (
	reportRun  = filepath.Join("testdata", "report", "run")
	reportWant = filepath.Join("testdata", "report", "want")
)

// TestReportGolden rebuilds report.md, summary.csv and report.html from the
// fixed steps.jsonl, offline, twice: the output is deterministic (no time
// other than the data's) and equals the committed files (-update rewrites
// them).
func TestReportGolden(t *testing.T) {
	var first map[string][]byte
	for round := 0; round < 2; round++ {
		dir := t.TempDir()
		for _, f := range []string{"plan.yaml", "run.json", "steps.jsonl"} {
			b := mustRead(t, filepath.Join(reportRun, f))
			if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := report.Rebuild(results.At(dir)); err != nil {
			t.Fatal(err)
		}
		got := map[string][]byte{}
		for _, f := range []string{"report.md", "summary.csv", "report.html"} {
			got[f] = mustRead(t, filepath.Join(dir, f))
		}
		pngs, _ := filepath.Glob(filepath.Join(dir, report.ChartsDir, "*.png"))
		if len(pngs) != 5 {
			t.Errorf("%d PNG charts, want 5 (TTFT, throughput, per GPU, queue, KV cache): %v", len(pngs), pngs)
		}
		for _, p := range pngs {
			rel := report.ChartsDir + "/" + filepath.Base(p)
			if !strings.Contains(string(got["report.md"]), "("+rel+")") {
				t.Errorf("report.md does not link %s", rel)
			}
		}
		if first == nil {
			first = got
			continue
		}
		for f, b := range got {
			if !bytes.Equal(b, first[f]) {
				t.Errorf("%s differs between two rebuilds of the same steps", f)
			}
		}
	}
	for f, b := range first {
		want := filepath.Join(reportWant, f)
		if *update {
			if err := os.MkdirAll(reportWant, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(want, b, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if w := string(mustRead(t, want)); w != string(b) {
			d := diffText(w, string(b))
			if len(d) > 4000 {
				d = d[:4000] + "\n..."
			}
			t.Errorf("%s differs from %s (go test ./golden -run TestReportGolden -update rewrites it):\n%s", f, want, d)
		}
	}
}
