package dataset

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestJSONL: prompts, chat messages, max_tokens as output_tokens' other
// name, CRLF endings, blank lines and unknown fields.
func TestJSONL(t *testing.T) {
	p := write(t, "traffic.jsonl", `{"prompt": "Summarise this text", "output_tokens": 128, "id": 7}
{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}], "output_tokens": 64}`+"\r\n"+`

{"prompt": "Count to ten", "max_tokens": 12}
`)
	entries, info, err := LoadWith(p, "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Prompt: "Summarise this text", OutputTokens: 128},
		{Messages: []Message{{"system", "Be brief."}, {"user", "Hello there"}}, OutputTokens: 64},
		{Prompt: "Count to ten", OutputTokens: 12},
	}
	if d := cmp.Diff(want, entries); d != "" {
		t.Errorf("entries (-want +got):\n%s", d)
	}
	if info != (Info{Format: "jsonl", Records: 3}) {
		t.Errorf("info %+v", info)
	}
}

// TestJSONLBadLines: every bad line is an error naming its line number;
// nothing is skipped.
func TestJSONLBadLines(t *testing.T) {
	good := `{"prompt": "ok", "output_tokens": 5}` + "\n"
	for _, tc := range []struct{ name, line, want string }{
		{"invalid JSON", `{"prompt": "x", "output_tokens": 5`, "line 2: invalid JSON at byte"},
		{"not an object", `["x", 5]`, "line 2: not a JSON object"},
		{"both", `{"prompt": "x", "messages": [{"role": "user", "content": "y"}], "output_tokens": 5}`, "line 2: has both prompt and messages"},
		{"neither", `{"output_tokens": 5}`, "line 2: has neither prompt"},
		{"empty prompt", `{"prompt": " ", "output_tokens": 5}`, "line 2: prompt is empty"},
		{"empty messages", `{"messages": [], "output_tokens": 5}`, "line 2: messages is empty"},
		{"no role", `{"messages": [{"content": "y"}], "output_tokens": 5}`, "line 2: messages[0].role is required"},
		{"no text", `{"messages": [{"role": "user", "content": ""}], "output_tokens": 5}`, "line 2: messages hold no text"},
		{"array content", `{"messages": [{"role": "user", "content": [{"type": "text"}]}], "output_tokens": 5}`, "line 2: messages.content: array where a string is expected"},
		{"no output", `{"prompt": "x"}`, "line 2: output_tokens is required"},
		{"both outputs", `{"prompt": "x", "output_tokens": 5, "max_tokens": 5}`, "line 2: gives both output_tokens and max_tokens"},
		{"zero output", `{"prompt": "x", "output_tokens": 0}`, "line 2: output_tokens must be between 1 and 1048576, got 0"},
		{"string output", `{"prompt": "x", "output_tokens": "5"}`, "line 2: output_tokens: string where an integer is expected"},
		{"fraction output", `{"prompt": "x", "output_tokens": 5.5}`, "line 2: output_tokens: number 5.5 where an integer is expected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := write(t, "d.jsonl", good+tc.line+"\n"+good)
			entries, err := Load(p, "jsonl")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), p+": ") {
				t.Errorf("got %v (entries %v), want an error of %s saying %q", err, entries, p, tc.want)
			}
		})
	}
}

// TestBounds: a line over MaxLineBytes (named by its number), a file over
// MaxFileBytes (refused before it is read), a file that outgrows the
// limit while read, a directory, a missing file, a file with no request.
func TestBounds(t *testing.T) {
	good := `{"prompt": "ok", "output_tokens": 5}` + "\n"
	long := `{"prompt": "` + strings.Repeat("a", MaxLineBytes) + `", "output_tokens": 5}` + "\n"
	if _, err := Load(write(t, "long.jsonl", good+good+long+good), ""); err == nil || !strings.Contains(err.Error(), "line 3 is over the 16 MiB limit of a line") {
		t.Errorf("long line: %v", err)
	}
	// A line of exactly the limit is read.
	exact := `{"prompt": "` + strings.Repeat("a", MaxLineBytes-len(`{"prompt": "", "output_tokens": 5}`)) + `", "output_tokens": 5}`
	if len(exact) != MaxLineBytes {
		t.Fatalf("exact line of %d bytes", len(exact))
	}
	if e, err := Load(write(t, "exact.jsonl", exact+"\r\n"), ""); err != nil || len(e) != 1 {
		t.Errorf("a line of the limit: %v", err)
	}
	big := filepath.Join(t.TempDir(), "big.jsonl")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(good)
	if err := f.Truncate(MaxFileBytes + 1); err != nil { // sparse: nothing is written
		t.Fatal(err)
	}
	f.Close()
	if _, err := Load(big, ""); err == nil || !strings.Contains(err.Error(), "over the 256 MiB limit of a dataset file") {
		t.Errorf("big file: %v", err)
	}
	// A reader that outgrows the limit (a pipe, a file written to).
	r := &limitedReader{r: strings.NewReader("0123456789"), left: 4}
	if b, err := io.ReadAll(r); !errors.Is(err, errFileTooBig) || string(b) != "0123" {
		t.Errorf("limitedReader: %q %v", b, err)
	}
	r = &limitedReader{r: strings.NewReader("0123"), left: 4}
	if b, err := io.ReadAll(r); err != nil || string(b) != "0123" {
		t.Errorf("limitedReader at the limit: %q %v", b, err)
	}
	if _, err := Load(t.TempDir(), "jsonl"); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none.jsonl"), ""); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Load(write(t, "empty.jsonl", "\n\n"), ""); err == nil || !strings.Contains(err.Error(), "holds no request") {
		t.Errorf("empty file: %v", err)
	}
	if _, err := Load(write(t, "x.jsonl", good), "csv"); err == nil || !strings.Contains(err.Error(), `unknown dataset format "csv"`) {
		t.Errorf("unknown format: %v", err)
	}
}

const shareGPT = `[
  {"id": "a", "conversations": [
    {"from": "system", "value": "You are a pirate."},
    {"from": "human", "value": "Where is the gold?"},
    {"from": "gpt", "value": "Buried on the island, matey, under the old palm tree."},
    {"from": "human", "value": "How deep?"},
    {"from": "gpt", "value": "Ten feet."},
    {"from": "human", "value": "Thanks!"}
  ]},
  {"id": "b", "conversations": [
    {"from": "user", "value": "Say hi"},
    {"from": "assistant", "value": "hi"},
    {"from": "human", "value": ""},
    {"from": "gpt", "value": "An answer to nothing."}
  ]},
  {"id": "c", "conversations": []}
]
`

// TestShareGPT: each human turn answered by the next turn is a request,
// multi-turn conversations give several, the system turn leads the chat
// messages, unanswered and empty turns are counted as skipped, and the
// answers' lengths are estimated (and said to be).
func TestShareGPT(t *testing.T) {
	entries, info, err := LoadWith(write(t, "sg.json", shareGPT), "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	pirate := Message{"system", "You are a pirate."}
	want := []Entry{
		{Prompt: "Where is the gold?", Messages: []Message{pirate, {"user", "Where is the gold?"}}, OutputTokens: EstimateTokens("Buried on the island, matey, under the old palm tree.")},
		{Prompt: "How deep?", Messages: []Message{pirate, {"user", "How deep?"}}, OutputTokens: 3},
		{Prompt: "Say hi", Messages: []Message{{"user", "Say hi"}}, OutputTokens: 2},
	}
	if d := cmp.Diff(want, entries); d != "" {
		t.Errorf("entries (-want +got):\n%s", d)
	}
	if info != (Info{Format: "sharegpt", Records: 3, Skipped: 2, OutputEstimated: true}) {
		t.Errorf("info %+v", info)
	}
	if want[0].OutputTokens != 14 { // 10 words
		t.Errorf("estimate of 10 words: %d", want[0].OutputTokens)
	}
}

// TestShareGPTCounted: with CountAnswer the answers are counted by it
// (concurrently), in the entries' order.
func TestShareGPTCounted(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	count := func(s string) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, s)
		return len(s), nil
	}
	entries, info, err := LoadWith(write(t, "sg.json", shareGPT), "sharegpt", Options{CountAnswer: count})
	if err != nil {
		t.Fatal(err)
	}
	got := []int{}
	for _, e := range entries {
		got = append(got, e.OutputTokens)
	}
	if !slices.Equal(got, []int{53, 9, 2}) || info.OutputEstimated {
		t.Errorf("counted %v (asked %q), info %+v", got, asked, info)
	}
	boom := errors.New("boom")
	_, _, err = LoadWith(write(t, "sg.json", shareGPT), "", Options{CountAnswer: func(string) (int, error) { return 0, boom }})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "conversation 1 (line 2): counting the answer's tokens") {
		t.Errorf("count error: %v", err)
	}
}

// TestShareGPTLines: one record a line is read too.
func TestShareGPTLines(t *testing.T) {
	p := write(t, "sg.jsonl", `{"conversations": [{"from": "human", "value": "a b c"}, {"from": "gpt", "value": "d e f g h i"}]}
{"conversations": [{"from": "human", "value": "x"}, {"from": "chatgpt", "value": "y"}]}
`)
	entries, info, err := LoadWith(p, "sharegpt", Options{})
	if err != nil || len(entries) != 2 || entries[0].OutputTokens != 8 || info.Records != 2 {
		t.Errorf("%v %+v %+v", err, entries, info)
	}
}

// TestShareGPTErrors name the conversation and its line.
func TestShareGPTErrors(t *testing.T) {
	for _, tc := range []struct{ name, data, want string }{
		{"unknown from", "[\n{\"conversations\": [{\"from\": \"human\", \"value\": \"a\"}]},\n{\"conversations\": [{\"from\": \"robot\", \"value\": \"a\"}]}\n]", `conversation 2 (line 3): conversations[0]: from "robot" is none of`},
		{"no value", "[{\"conversations\": [{\"from\": \"human\"}]}]", "conversation 1 (line 1): conversations[0]: value is missing"},
		{"no conversations", "[\n  {\"id\": 1, \"turns\": []}\n]", "conversation 1 (line 2): no conversations"},
		{"syntax", "[\n{\"conversations\": []},\n{\"conversations\": [}\n]", "line 3: invalid JSON"},
		{"not a record", "[\"x\"]", "line 1: string where an object is expected"},
		{"not JSON", "hello", "not ShareGPT JSON"},
		{"trailing", `[{"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]}] []`, "data after the array"},
		{"unanswered only", `[{"conversations": [{"from": "human", "value": "a"}]}]`, "holds no request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(write(t, "sg.json", tc.data), "")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestEstimateTokens(t *testing.T) {
	for text, want := range map[string]int{"": 0, "  \n": 0, "one": 2, "one two three": 4, "a b c d e f": 8} {
		if got := EstimateTokens(text); got != want {
			t.Errorf("EstimateTokens(%q) = %d, want %d", text, got, want)
		}
	}
}

// The file name is what a bad line's error starts with; a line number
// counts blank lines too (it is the editor's).
func TestLineNumbersCountBlankLines(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(`{"prompt": "ok", "output_tokens": 5}` + "\n\n\n")
	b.WriteString(`{"prompt": "ok"}` + "\n")
	p := write(t, "d.jsonl", b.String())
	if _, err := Load(p, ""); err == nil || err.Error() != p+": line 4: output_tokens is required: the recorded answer's length in tokens (max_tokens is accepted too)" {
		t.Errorf("%v", err)
	}
}
