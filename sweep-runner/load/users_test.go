package load

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/client"
)

// Think-time draws: deterministic per seed, with the distribution's mean
// (and, for the lognormal, its coefficient of variation).
func TestThinkDraws(t *testing.T) {
	const n = 200000
	for _, tc := range []struct {
		th     Think
		wantCV float64
	}{
		{Think{Distribution: v1alpha1.DistFixed, Mean: 5 * time.Second}, 0},
		{Think{Distribution: v1alpha1.DistExponential, Mean: 5 * time.Second}, 1},
		{Think{Distribution: v1alpha1.DistLognormal, Mean: 5 * time.Second, Spread: 0.5}, 0.5},
		{Think{Distribution: v1alpha1.DistLognormal, Mean: 2 * time.Second, Spread: 2}, 2},
	} {
		var sum, sq float64
		for i := uint64(1); i <= n; i++ {
			d := tc.th.Draw(i)
			if d < 0 || d != tc.th.Draw(i) {
				t.Fatalf("%s: draw %d is %v, or not deterministic", tc.th.Distribution, i, d)
			}
			x := d.Seconds()
			sum += x
			sq += x * x
		}
		mean := sum / n
		cv := math.Sqrt(max(sq/n-mean*mean, 0)) / mean
		want := tc.th.Mean.Seconds()
		// The lognormal's sample CV converges slowly for large spreads.
		tol := 0.02 + 0.05*tc.wantCV*tc.wantCV
		if math.Abs(mean/want-1) > 0.02+0.01*tc.wantCV*tc.wantCV || math.Abs(cv-tc.wantCV) > tol {
			t.Errorf("%s spread %g: mean %.3f s (want %.3f), CV %.3f (want %.3f)", tc.th.Distribution, tc.th.Spread, mean, want, cv, tc.wantCV)
		}
	}
	var none *Think
	if none.Draw(1) != 0 {
		t.Error("no think time must draw 0")
	}
}

// chatServer answers chat requests with outLen words and records every
// request's messages.
type chatServer struct {
	mu   sync.Mutex
	reqs [][]map[string]string
}

func (c *chatServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Messages  []map[string]string `json:"messages"`
		MaxTokens int                 `json:"max_tokens"`
	}
	b, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(b, &req); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	c.mu.Lock()
	c.reqs = append(c.reqs, req.Messages)
	n := len(c.reqs)
	c.mu.Unlock()
	f := w.(http.Flusher)
	prompt := 0
	for _, m := range req.Messages {
		prompt += len(strings.Fields(m["content"]))
	}
	for i := 0; i < req.MaxTokens; i++ {
		// An answer with characters JSON escapes, as a model's may have.
		word := ` "w` + string(rune('a'+n%26)) + `"`
		ch, _ := json.Marshal(map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]string{"content": word}}}})
		w.Write([]byte("data: " + string(ch) + "\n\n"))
		f.Flush()
		time.Sleep(time.Millisecond)
	}
	u, _ := json.Marshal(map[string]any{"choices": []any{}, "usage": map[string]int{"prompt_tokens": prompt, "completion_tokens": req.MaxTokens}})
	w.Write([]byte("data: " + string(u) + "\n\ndata: [DONE]\n\n"))
}

// A user with think time and 3-turn conversations: each turn resends the
// previous turns with the answers as streamed (escapes intact), users pause
// between requests (fewer in flight than users), and the tally counts
// TTFT by turn and the think times drawn.
func TestUsersConverseAndThink(t *testing.T) {
	cs := &chatServer{}
	srv := httptest.NewServer(cs)
	defer srv.Close()
	var sla v1alpha1.SLA
	sla.Default()
	const users = 4
	res, err := Run(context.Background(), Config{
		Client:      client.New(srv.URL, client.Options{MaxConns: users}),
		Prompt:      &client.Prompt{API: "chat", Model: "m", Words: 6, Tokens: 12, SharedWords: 3, SharedTokens: 3},
		Concurrency: users, Warmup: 100 * time.Millisecond, SteadyWarmup: true, MaxWarmup: 5 * time.Second,
		Duration: 1500 * time.Millisecond, Grace: time.Second, RequestTimeout: 5 * time.Second,
		InputTokens: 12, OutputTokens: 5, SLA: sla,
		Population: Population{Think: &Think{Distribution: v1alpha1.DistExponential, Mean: 20 * time.Millisecond}, TurnsMin: 3, TurnsMax: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Pop
	if p.ThinkCount == 0 || p.MeanThink() <= 0 {
		t.Errorf("no think time drawn: %+v", p)
	}
	if len(p.TTFTByTurn) != 3 {
		t.Fatalf("TTFT by turn for %d turns, want 3", len(p.TTFTByTurn))
	}
	n := 0
	for k, ttft := range p.TTFTByTurn {
		n += len(ttft)
		if len(ttft) == 0 {
			t.Errorf("turn %d: no request", k+1)
		}
	}
	if n != len(res.TTFT) {
		t.Errorf("%d TTFTs by turn, %d in the window", n, len(res.TTFT))
	}
	if pr := p.PromptByTurn; len(pr[2]) > 0 && len(pr[0]) > 0 && !(pr[2][0] > pr[0][0]) {
		t.Errorf("turn 3 prompts (%v words) not longer than turn 1's (%v)", pr[2][0], pr[0][0])
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	turns := map[int]int{}
	for _, msgs := range cs.reqs {
		if msgs[0]["role"] != "system" || msgs[0]["content"] != string(client.AppendShared(nil, 3)) {
			t.Fatalf("first message %v, want the shared system prompt", msgs[0])
		}
		hist := msgs[1:]
		if len(hist)%2 != 1 {
			t.Fatalf("%d messages after the system prompt: want turns of user and assistant, then a user", len(hist))
		}
		turns[len(hist)/2+1]++
		for i := 1; i < len(hist); i += 2 {
			if hist[i]["role"] != "assistant" || strings.Count(hist[i]["content"], `"w`) != 5 {
				t.Fatalf("turn %d's answer resent as %q, want the 5 streamed words with their quotes", (i+1)/2, hist[i]["content"])
			}
		}
	}
	if turns[1] == 0 || turns[2] == 0 || turns[3] == 0 || turns[4] != 0 {
		t.Errorf("requests by turn %v, want turns 1-3 only", turns)
	}
}
