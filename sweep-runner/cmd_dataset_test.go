package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/sweep-runner/client"
	"github.com/rhoai-demo/step07/sweep-runner/dataset"
	"github.com/rhoai-demo/step07/vllmsim"
)

// serverCount asks the server's POST /tokenize itself, as the reference
// the command's counts must match.
func serverCount(t *testing.T, base string, body map[string]any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(base+"/tokenize", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Count int }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST /tokenize: HTTP %d %v", resp.StatusCode, err)
	}
	return out.Count
}

// tableRow is the printed row of the table for name ("prompt", "output").
func tableRow(t *testing.T, out, name string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 8 && f[0] == name && strings.Trim(f[1], "0123456789") == "" {
			return strings.Join(f[1:], " ")
		}
	}
	t.Fatalf("no %s row in:\n%s", name, out)
	return ""
}

func row(d dataset.Dist) string {
	return fmt.Sprintf("%d %.1f %d %d %d %d %d", d.N, d.Mean, d.P50, d.P90, d.P99, d.Min, d.Max)
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDatasetStatsTokenizer: dataset stats against an in-process vllm-sim
// counts every prompt as the sweep sends it (its unique prefix first;
// completions: a chat entry's contents a line each; chat: the messages
// through the server's template) and every ShareGPT answer (without BOS)
// as the server's /tokenize does, and prints their distributions.
func TestDatasetStatsTokenizer(t *testing.T) {
	sim := simServer(t, 8)
	prefix := string(client.AppendText(nil, 0, 0)) // the sweep's unique prefix of the first request
	var lines []string
	var want []int
	outputs := []int{}
	for i := range 40 {
		prompt := strings.Repeat("word ", i*7+1) + fmt.Sprintf("number %d, with punctuation!", i)
		if i%3 == 0 {
			msgs := []map[string]string{{"role": "system", "content": "You are terse."}, {"role": "user", "content": prompt}}
			b, _ := json.Marshal(map[string]any{"messages": msgs, "output_tokens": 10 + i})
			lines = append(lines, string(b))
			want = append(want, serverCount(t, sim, map[string]any{"model": "m1", "prompt": prefix + "You are terse.\n" + prompt}))
		} else {
			b, _ := json.Marshal(map[string]any{"prompt": prompt, "max_tokens": 10 + i})
			lines = append(lines, string(b))
			want = append(want, serverCount(t, sim, map[string]any{"model": "m1", "prompt": prefix + prompt}))
		}
		outputs = append(outputs, 10+i)
	}
	file := writeFile(t, "traffic.jsonl", strings.Join(lines, "\n")+"\n")
	code, out, errs := runCLI("dataset", "stats", file, "--target", sim, "--model", "m1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if got, w := tableRow(t, out, "prompt"), row(dataset.Distribution(want)); got != w {
		t.Errorf("prompt row %q, want the server's counts %q:\n%s", got, w, out)
	}
	if got, w := tableRow(t, out, "output"), row(dataset.Distribution(outputs)); got != w {
		t.Errorf("output row %q, want %q", got, w)
	}
	for _, s := range []string{"jsonl: 40 requests from 40 lines", "counted by " + sim + "/tokenize as a sweep with api completions sends them", "output tokens: recorded in the file", "\nprompt tokens\n", "#"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "estimated") {
		t.Errorf("counted lengths called estimated:\n%s", out)
	}

	// ShareGPT: the answers are counted too, and --api picks the form of
	// the prompt.
	type turn struct {
		From  string `json:"from"`
		Value string `json:"value"`
	}
	var recs []map[string]any
	var completions, chat, answers []int
	for i := range 12 {
		q := fmt.Sprintf("Question %d: %s?", i, strings.Repeat("why ", i+1))
		a := strings.Repeat("because it is so. ", 2*i+1)
		recs = append(recs, map[string]any{"id": i, "conversations": []turn{{"system", "Answer kindly."}, {"human", q}, {"gpt", a}, {"human", "ok"}, {"gpt", "fine"}}})
		completions = append(completions, serverCount(t, sim, map[string]any{"prompt": prefix + q}), serverCount(t, sim, map[string]any{"prompt": prefix + "ok"}))
		chat = append(chat,
			serverCount(t, sim, map[string]any{"messages": []map[string]string{{"role": "system", "content": "Answer kindly."}, {"role": "user", "content": prefix + q}}}),
			serverCount(t, sim, map[string]any{"messages": []map[string]string{{"role": "system", "content": "Answer kindly."}, {"role": "user", "content": prefix + "ok"}}}))
		answers = append(answers, serverCount(t, sim, map[string]any{"prompt": a, "add_special_tokens": false}), serverCount(t, sim, map[string]any{"prompt": "fine", "add_special_tokens": false}))
		if answers[len(answers)-2] != vllmsim.CountTokens(a)-1 {
			t.Fatalf("the simulator's answer count %d is not its token rule's %d", answers[len(answers)-2], vllmsim.CountTokens(a)-1)
		}
	}
	b, _ := json.Marshal(recs)
	sg := writeFile(t, "sharegpt.json", string(b))
	for api, prompts := range map[string][]int{"completions": completions, "chat": chat} {
		code, out, errs := runCLI("dataset", "stats", sg, "--target", sim, "--api", api)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", api, code, errs)
		}
		if got, w := tableRow(t, out, "prompt"), row(dataset.Distribution(prompts)); got != w {
			t.Errorf("%s: prompt row %q, want %q", api, got, w)
		}
		if got, w := tableRow(t, out, "output"), row(dataset.Distribution(answers)); got != w {
			t.Errorf("%s: output row %q, want the server's counts %q", api, got, w)
		}
		if !strings.Contains(out, "sharegpt: 24 requests from 12 conversations") || !strings.Contains(out, "the answers' lengths, counted by") {
			t.Errorf("%s:\n%s", api, out)
		}
	}
}

// TestDatasetStatsEstimate: without --target the lengths are estimated,
// and the output says so, in a table and histograms.
func TestDatasetStatsEstimate(t *testing.T) {
	file := writeFile(t, "sg.json", `[{"conversations": [{"from": "human", "value": "one two three"}, {"from": "gpt", "value": "a b c d e f"}, {"from": "human", "value": "bye"}]}]`)
	code, out, errs := runCLI("dataset", "stats", file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, s := range []string{
		"sharegpt: 1 requests from 1 conversations",
		"1 human turns are no request",
		"prompt tokens: estimated, 4/3 of a token per word",
		"output tokens: the answers' lengths, estimated",
		"prompt          1        4.0        4        4        4        4        4",
		"output          1        8.0        8        8        8        8        8",
		"(2, 5]  ######################################## 1",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
}

// TestDatasetStatsBadInput: a bad file, flag or target answer is exit 2
// with the reason; a target that cannot be reached is exit 1.
func TestDatasetStatsBadInput(t *testing.T) {
	sim := simServer(t, 8)
	good := `{"prompt": "hello", "output_tokens": 3}` + "\n"
	bad := writeFile(t, "bad.jsonl", good+`{"prompt": "hello"`+"\n")
	ok := writeFile(t, "ok.jsonl", good)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad line", []string{"dataset", "stats", bad}, 2, "bad.jsonl: line 2: invalid JSON"},
		{"missing file", []string{"dataset", "stats", filepath.Join(t.TempDir(), "none.jsonl")}, 2, "no such file"},
		{"unknown format", []string{"dataset", "stats", ok, "--format", "csv"}, 2, `unknown dataset format "csv"`},
		{"no file", []string{"dataset", "stats"}, 2, "exactly one FILE"},
		{"no subcommand", []string{"dataset"}, 2, "dataset stats FILE"},
		{"unknown subcommand", []string{"dataset", "frob"}, 2, `unknown subcommand "frob"`},
		{"model without target", []string{"dataset", "stats", ok, "--model", "m1"}, 2, "need --target"},
		{"bad api", []string{"dataset", "stats", ok, "--api", "x"}, 2, "--api must be"},
		{"bad target URL", []string{"dataset", "stats", ok, "--target", "localhost:8000"}, 2, "base URL"},
		{"model not served", []string{"dataset", "stats", ok, "--target", sim, "--model", "nope"}, 2, "HTTP 404"},
		{"dead target", []string{"dataset", "stats", ok, "--target", deadURL(t)}, 1, "/tokenize"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want %d; stderr lacks %q:\n%s", code, tc.code, tc.want, stderr)
			}
		})
	}
	if code, out, _ := runCLI("help"); code != 0 || !strings.Contains(out, "dataset stats FILE") {
		t.Errorf("help does not list dataset stats:\n%s", out)
	}
	if code, _, errs := runCLI("dataset", "stats", "--help"); code != 0 || !strings.Contains(errs, "--target") {
		t.Errorf("dataset stats --help: %d %s", code, errs)
	}
}
