package client

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/vllmsim"
)

func TestAppendContent(t *testing.T) {
	for _, tc := range []struct{ chunk, want string }{
		{`{"choices":[{"index":0,"text":" a \"b\"\n"}]}`, ` a \"b\"\n`},
		{`{"choices":[{"index":0,"delta":{"role":"assistant","content":" x"}}],"sim_t_ns":3}`, ` x`},
		{`{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}`, ``},
		{`{"choices":[],"usage":{"prompt_tokens":1}}`, ``},
		{`{"choices":[{"text":"first"},{"text":"second"}]}`, `first`},
	} {
		if got := string(AppendContent([]byte("<"), []byte(tc.chunk))); got != "<"+tc.want {
			t.Errorf("%s: %q, want %q", tc.chunk, got, "<"+tc.want)
		}
	}
}

// Turn bodies are valid JSON: the chat turn k holds the shared system
// prompt, k-1 user/assistant pairs (answers as streamed, escapes intact,
// or a stand-in of their token length) and the new user message; the
// completions turn concatenates the same.
func TestConversationBodies(t *testing.T) {
	for _, api := range []string{"chat", "completions"} {
		p := &Prompt{API: api, Model: "m", Words: 3, Tokens: 12, SharedWords: 4, SharedTokens: 4}
		var c Conversation
		c.Start(3)
		var bodies [][]byte
		for n := uint64(1); !c.Done(); n++ {
			bodies = append(bodies, p.AppendTurn(nil, &c, n, -1, 5))
			answer := []byte(` say \"hi\"`)
			if n == 2 {
				answer = nil // not streamed back: a stand-in
			}
			c.Answered(p, n, -1, answer, 20*int(n), 5)
		}
		if len(bodies) != 3 {
			t.Fatalf("%s: %d turns, want 3", api, len(bodies))
		}
		prev := ""
		for i, b := range bodies {
			var req struct {
				Messages []map[string]string `json:"messages"`
				Prompt   string              `json:"prompt"`
				Max      int                 `json:"max_tokens"`
			}
			if err := json.Unmarshal(b, &req); err != nil || req.Max != 5 {
				t.Fatalf("%s turn %d: %v: %s", api, i+1, err, b)
			}
			text := req.Prompt
			if api == "chat" {
				if len(req.Messages) != 2+2*i || req.Messages[0]["role"] != "system" {
					t.Fatalf("chat turn %d: %d messages %v", i+1, len(req.Messages), req.Messages)
				}
				var parts []string
				for _, m := range req.Messages {
					parts = append(parts, m["content"])
				}
				text = strings.Join(parts, "|")
			}
			if !strings.HasPrefix(text, string(AppendShared(nil, 4))) {
				t.Errorf("%s turn %d does not start with the shared prompt: %q", api, i+1, text)
			}
			if i >= 1 && !strings.Contains(text, `say "hi"`) {
				t.Errorf("%s turn %d lost the first answer: %q", api, i+1, text)
			}
			if i == 2 && !strings.Contains(text, " so we go on so") {
				t.Errorf("%s turn 3 has no stand-in for the second answer: %q", api, text)
			}
			if i >= 1 && !strings.HasPrefix(text, prev) {
				t.Errorf("%s turn %d does not extend turn %d: %q, then %q", api, i+1, i, prev, text)
			}
			prev = strings.TrimSuffix(text, "|")
			if api == "chat" {
				// The next turn's user message follows this one's answer.
				prev = text[:strings.LastIndex(text, "|")+1]
			}
		}
	}
}

func TestNextFits(t *testing.T) {
	p := &Prompt{API: "chat", Tokens: 1000, SharedTokens: 200, MaxModelLen: 4096}
	var c Conversation
	c.Start(10)
	if !c.NextFits(p, 100) {
		t.Error("the first turn always fits")
	}
	c.Answered(p, 1, 3, nil, 1000, 100)
	if !c.NextFits(p, 100) { // 1000 + 100 + 800 + 16 + 100
		t.Error("turn 2 of about 1916 tokens does not fit 4096")
	}
	c.Answered(p, 2, 3, nil, 3100, 100)
	if c.NextFits(p, 100) {
		t.Error("turn 3 of about 4016 tokens + 100 fits 4096")
	}
	p.MaxModelLen = 0
	if !c.NextFits(p, 100) {
		t.Error("an unknown context caps nothing")
	}
}

// With a shared prefix the calibration still gives the scenario's total
// prompt length, exactly, and the shared part is close to what was asked;
// MaxModelLen reads /v1/models.
func TestCalibrateShared(t *testing.T) {
	cfg := vllmsim.DefaultConfig()
	cfg.Model, cfg.MaxModelLen = "m", 8192
	sim, err := vllmsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	defer func() { srv.Close(); sim.Close() }()
	c := New(srv.URL, Options{})
	for _, api := range []string{"chat", "completions"} {
		for _, tc := range []struct{ tokens, shared int }{{1024, 768}, {256, 200}, {300, 17}, {512, 0}} {
			p, err := c.CalibrateShared(context.Background(), api, "m", tc.tokens, tc.shared)
			if err != nil {
				t.Fatal(err)
			}
			if !p.Exact || p.Tokens != tc.tokens {
				t.Errorf("%s %d (%d shared): %d tokens, exact %v", api, tc.tokens, tc.shared, p.Tokens, p.Exact)
			}
			if d := p.SharedTokens - tc.shared; d < -2 || d > 2 || (tc.shared == 0) != (p.SharedWords == 0) {
				t.Errorf("%s %d: shared prefix of %d tokens (%d words), want about %d", api, tc.tokens, p.SharedTokens, p.SharedWords, tc.shared)
			}
			var body map[string]any
			b := p.AppendBody(nil, 7, -1, 4)
			if err := json.Unmarshal(b, &body); err != nil {
				t.Fatal(err)
			}
			// usage.prompt_tokens of the real body agrees.
			s := c.NewStream()
			var r Result
			s.Do(context.Background(), 10e9, p.Path(), b, Window{}, nil, &r)
			if r.ErrKind != "" || r.PromptTokens != tc.tokens {
				t.Errorf("%s %d (%d shared): the request had %d prompt tokens (%s %v)", api, tc.tokens, tc.shared, r.PromptTokens, r.ErrKind, r.Err)
			}
		}
	}
	if n := c.MaxModelLen(context.Background(), "m"); n != 8192 {
		t.Errorf("max_model_len %d, want 8192", n)
	}
	if n := c.MaxModelLen(context.Background(), "other"); n != 0 {
		t.Errorf("max_model_len of an unknown model %d, want 0", n)
	}
}
