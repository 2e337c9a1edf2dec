package sweep

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/vllmsim"
)

// A dataset scenario replays the file's prompts and output lengths: the
// server sees the file's prompt lengths (its own count, the request's
// four-token unique prefix added), a record longer than the context is
// reported and never sent, and the plan's nominal lengths become the
// means of what was sent.
func TestDatasetScenario(t *testing.T) {
	t.Parallel()
	cfg := vllmsim.DefaultConfig()
	cfg.Model, cfg.MaxNumSeqs, cfg.MaxModelLen = "m", 16, 1024
	srv := simWith(t, cfg)
	dir := t.TempDir()
	file := filepath.Join(dir, "traffic.jsonl")
	var lines []string
	words := []int{10, 40, 80, 160, 20}
	outs := []int{8, 16, 32, 8, 24}
	for i := range words {
		b, _ := json.Marshal(map[string]any{"prompt": fmt.Sprintf("q%d %s", i, strings.Repeat("cat ", words[i])), "output_tokens": outs[i]})
		lines = append(lines, string(b))
	}
	// longer than the 1024-token context: reported, never sent
	b, _ := json.Marshal(map[string]any{"prompt": strings.Repeat("dog ", 2000), "output_tokens": 8})
	lines = append(lines, string(b))
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plan := testPlan(t, []v1alpha1.Target{{Name: "m", URL: srv.URL, Model: "m", GPUs: 1}}, 1, 4)
	plan.Spec.Scenarios = []v1alpha1.Scenario{{Name: "D", Dataset: &v1alpha1.Dataset{Path: file, Format: v1alpha1.DatasetJSONL}}}
	plan.Spec.Concurrency, plan.Spec.StartConcurrency, plan.Spec.MaxConcurrency = []int{4}, nil, nil
	if err := plan.Validate(); err != nil {
		t.Fatal(err)
	}
	r := New(plan)
	warn := &lineWriter{}
	r.Warn = warn
	if err := r.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := r.Create(t.TempDir(), "test"); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(warn.lines, "\n"), "1 of 6 records") {
		t.Errorf("the record longer than the context was not reported: %q", warn.lines)
	}
	// the file's prompts as the server counts them (POST /tokenize), with
	// the four one-token words of the unique prefix
	var want float64
	for _, l := range lines[:len(words)] {
		var rec struct{ Prompt string }
		json.Unmarshal([]byte(l), &rec)
		body, _ := json.Marshal(map[string]string{"model": "m", "prompt": rec.Prompt})
		resp, err := http.Post(srv.URL+"/tokenize", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var tok struct{ Count int }
		json.NewDecoder(resp.Body).Decode(&tok)
		resp.Body.Close()
		want += float64(tok.Count + 4)
	}
	want /= float64(len(words))
	sc := r.Plan.Spec.Scenarios[0]
	if math.Abs(float64(sc.InputTokens)-want) > 1 || sc.OutputTokens != 18 {
		t.Errorf("plan's lengths %d/%d, want the means of what is sent: %.1f/18", sc.InputTokens, sc.OutputTokens, want)
	}
	for _, s := range r.Steps() {
		if s.Requests.Successful == 0 || math.Abs(s.Tokens.Prompt.Mean-want) > 0.35*want || s.Tokens.Prompt.Max > 200 {
			t.Errorf("c=%d: %d ok, prompt tokens mean %.1f max %.0f, want about %.1f and never the long record", s.Concurrency, s.Requests.Successful, s.Tokens.Prompt.Mean, s.Tokens.Prompt.Max, want)
		}
		if s.Tokens.OutputLengthMismatches > 0 {
			t.Errorf("c=%d: %d outputs not the record's length", s.Concurrency, s.Tokens.OutputLengthMismatches)
		}
	}
}

// A dataset that cannot be read is bad input: the check stops the run
// before any step with a TargetError (exit 2), naming the file.
func TestDatasetMissing(t *testing.T) {
	srv := sim(t, "m", 4)
	plan := testPlan(t, []v1alpha1.Target{{Name: "m", URL: srv.URL, Model: "m", GPUs: 1}}, 1, 2)
	missing := filepath.Join(t.TempDir(), "nope.jsonl")
	plan.Spec.Scenarios = []v1alpha1.Scenario{{Name: "D", Dataset: &v1alpha1.Dataset{Path: missing}}}
	err := New(plan).Check(context.Background())
	var te *TargetError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), missing) {
		t.Errorf("a missing dataset: %v, want a TargetError naming %s", err, missing)
	}
}
