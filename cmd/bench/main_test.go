package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// TestSmoke runs the bench program with tiny parameters and an in-process
// simulator (without the time-to-answer sweeps: their steps last 1 s at
// least): it finishes, prints the table and writes bench.json with the
// fidelity figures keyed by stream count, and the sharded case's merged
// figures beside the single process's. No timing is asserted.
func TestSmoke(t *testing.T) {
	dir := t.TempDir()
	runner := filepath.Join(dir, "sweep-runner")
	if out, err := exec.Command("go", "build", "-o", runner, "../../sweep-runner").CombinedOutput(); err != nil {
		t.Fatalf("go build sweep-runner: %v\n%s", err, out)
	}
	gb := filepath.Join(dir, "go-bench.txt")
	os.WriteFile(gb, []byte("pkg: x/client\nBenchmarkSSEChunk-2   100  900 ns/op  0 allocs/chunk  900 ns/chunk  0 B/op  0 allocs/op\n"+
		"pkg: x/tree\nBenchmarkGenerateTree-2  10  1000 ns/op  12.5 ms/tree\nPASS\n"), 0o644)
	out := filepath.Join(dir, "bench.json")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{
		"--in-process", "--streams", "1,3", "--sustain", "5", "--warmup", "100ms", "--duration", "400ms", "--grace", "2s",
		"--input-tokens", "16", "--output-tokens", "4", "--answer=false",
		"--go-bench", gb, "--out", out, "--runner", runner, "--shards", "2", "--shard-streams", "3",
	}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var rep Report
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"1", "3"} {
		l := rep.Fidelity[k]
		if l == nil || l.Requests.Started == 0 || l.TTFTSkewMs.Count == 0 {
			t.Fatalf("fidelity[%s] = %+v", k, l)
		}
	}
	if l := rep.Fidelity["3"]; l.ITLSkewMs.Count == 0 || l.ServerTTFTMs.Count == 0 {
		t.Errorf("no ITL skew or server TTFT: %+v", l)
	}
	sh := rep.Sharded["3"]
	if sh == nil || sh.Merged == nil || sh.Single == nil || sh.Shards != 2 {
		t.Fatalf("sharded case: %+v", sh)
	}
	if m := sh.Merged; m.Requests.Started == 0 || m.Requests.Successful+m.Requests.Errored+m.Requests.Incomplete != m.Requests.Started || m.TTFTSkewMs.Count == 0 {
		t.Errorf("merged figures %+v", m)
	}
	if sh.Coordination.WireBytes == 0 || !strings.Contains(stdout.String(), "over 2 shards") {
		t.Errorf("coordination %+v\n%s", sh.Coordination, stdout.String())
	}
	if len(rep.GoBenchmarks) != 2 || rep.GoBenchmarks[1].Metrics["ms/tree"] != 12.5 || rep.GoBenchmarks[0].Name != "BenchmarkSSEChunk" {
		t.Errorf("go benchmarks %+v", rep.GoBenchmarks)
	}
	if len(rep.Goals) < 3 || !strings.Contains(stdout.String(), "TTFT skew") {
		t.Errorf("goals %+v\n%s", rep.Goals, stdout.String())
	}
}

func TestBracket(t *testing.T) {
	steps := []results.Step{{Concurrency: 1}, {Concurrency: 2}, {Concurrency: 4}, {Concurrency: 8, Broken: true}, {Concurrency: 16, Broken: true}}
	if lo, hi := bracket(steps); lo != 4 || hi != 8 {
		t.Errorf("bracket %d..%d, want 4..8", lo, hi)
	}
	steps = append(steps, results.Step{Concurrency: 6}, results.Step{Concurrency: 7, Broken: true})
	if lo, hi := bracket(steps); lo != 6 || hi != 7 {
		t.Errorf("bracket %d..%d, want 6..7", lo, hi)
	}
	if _, hi := bracket(steps[:3]); hi != 0 {
		t.Errorf("nothing broke, hi %d", hi)
	}
}
