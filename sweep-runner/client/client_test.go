package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/results"
)

func readAll(t *testing.T, in string) []string {
	t.Helper()
	r := NewSSEReader(4096)
	r.Reset(strings.NewReader(in))
	var out []string
	for {
		d, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(d))
	}
}

func TestSSEReader(t *testing.T) {
	long := strings.Repeat("x", 10000)
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"basic", "data: {\"a\":1}\n\ndata: [DONE]\n\n", []string{`{"a":1}`, "[DONE]"}},
		{"crlf and no space", "data:{\"a\":1}\r\n\r\n", []string{`{"a":1}`}},
		{"comments, event and id lines", ": ping\nevent: msg\nid: 3\ndata: x\n\n", []string{"x"}},
		{"multi-line data", "data: a\ndata: b\n\n", []string{"a\nb"}},
		{"last event without blank line", "data: a\n\ndata: b", []string{"a", "b"}},
		{"blank lines only", "\n\n\n", nil},
		{"line longer than the buffer", "data: " + long + "\n\n", []string{long}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := readAll(t, tc.in)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseChunk(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want Chunk
		err  bool
	}{
		{"completion text", `{"id":"x","object":"text_completion","choices":[{"index":0,"text":" the","logprobs":null,"finish_reason":null}],"sim_t_ns":12345}`,
			Chunk{Content: true, HasSimT: true, SimTNs: 12345}, false},
		{"empty text", `{"choices":[{"index":0,"text":"","finish_reason":"length"}]}`, Chunk{Finish: true}, false},
		{"chat role only", `{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}`, Chunk{RoleOnly: true}, false},
		{"chat role without content", `{"choices":[{"index":0,"delta":{"role":"assistant"}}]}`, Chunk{RoleOnly: true}, false},
		{"chat content", `{"choices":[{"index":0,"delta":{"content":"Hi \"there\""},"sim_t_ns":7}]}`, Chunk{Content: true, HasSimT: true, SimTNs: 7}, false},
		{"usage", `{"choices":[],"usage":{"prompt_tokens":256,"total_tokens":384,"completion_tokens":128,"server_ttft_seconds":0.0125}}`,
			Chunk{HasUsage: true, PromptTokens: 256, CompletionTokens: 128, HasServerTTFT: true, ServerTTFTSeconds: 0.0125}, false},
		{"usage null", `{"choices":[{"text":"a"}],"usage":null}`, Chunk{Content: true}, false},
		{"error object", `{"error":{"message":"boom","code":500}}`, Chunk{Error: true}, false},
		{"exponent", `{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"server_ttft_seconds":1.5e-3}}`,
			Chunk{HasUsage: true, PromptTokens: 1, CompletionTokens: 2, HasServerTTFT: true, ServerTTFTSeconds: 0.0015}, false},
		{"nested unknown fields", `{"x":{"y":[1,{"z":"w"}]},"choices":[{"text":"a","logprobs":{"tokens":["a"]}}]}`, Chunk{Content: true}, false},
		{"truncated", `{"choices":[{"text":"a"`, Chunk{}, true},
		{"not json", `hello`, Chunk{}, true},
		{"array", `[1,2]`, Chunk{}, true},
		{"object of another shape", `{"foo":1}`, Chunk{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c Chunk
			err := ParseChunk([]byte(tc.in), &c)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v", err)
			}
			if !tc.err && c != tc.want {
				t.Errorf("got %+v, want %+v", c, tc.want)
			}
		})
	}
}

func TestParseNoAlloc(t *testing.T) {
	in := []byte(`{"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":" data","logprobs":null,"finish_reason":null,"stop_reason":null}],"sim_t_ns":123456789}`)
	var c Chunk
	if n := testing.AllocsPerRun(1000, func() { ParseChunk(in, &c) }); n != 0 {
		t.Errorf("ParseChunk allocates %v per chunk", n)
	}
	stream := strings.Repeat("data: "+string(in)+"\n\n", 200)
	r := NewSSEReader(32 << 10)
	rd := strings.NewReader(stream)
	r.Reset(rd)
	r.Next() // grow the buffer once
	if n := testing.AllocsPerRun(100, func() {
		d, _ := r.Next()
		ParseChunk(d, &c)
	}); n != 0 {
		t.Errorf("SSE read + parse allocates %v per chunk", n)
	}
}

func BenchmarkChunk(b *testing.B) {
	in := []byte(`{"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":" data","logprobs":null,"finish_reason":null}],"sim_t_ns":123456789}`)
	stream := strings.Repeat("data: "+string(in)+"\n\n", 1000)
	r := NewSSEReader(32 << 10)
	var c Chunk
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	sr := strings.NewReader(stream)
	for i := 0; i < b.N; i++ {
		if i%1000 == 0 {
			sr.Reset(stream)
			r.Reset(sr)
		}
		d, _ := r.Next()
		if err := ParseChunk(d, &c); err != nil {
			b.Fatal(err)
		}
	}
}

// streamServer answers /v1/completions with the given handler body writer.
func streamServer(t *testing.T, write func(w http.ResponseWriter, f http.Flusher)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/models":
			fmt.Fprint(w, `{"object":"list","data":[{"id":"m1","object":"model"}]}`)
		case PathCompletions, PathChat:
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "text/event-stream")
			write(w, w.(http.Flusher))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func goodStream(n int) func(w http.ResponseWriter, f http.Flusher) {
	return func(w http.ResponseWriter, f http.Flusher) {
		fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n")
		f.Flush()
		for i := 0; i < n; i++ {
			time.Sleep(2 * time.Millisecond)
			fmt.Fprintf(w, "data: {\"choices\":[{\"index\":0,\"text\":\" tok\",\"delta\":{\"content\":\" tok\"}}],\"sim_t_ns\":%d}\n\n", (i+1)*1000000)
			f.Flush()
		}
		fmt.Fprintf(w, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":%d,\"server_ttft_seconds\":0.001}}\n\ndata: [DONE]\n\n", n)
	}
}

type gaps struct{ n atomic.Int64 }

func (g *gaps) Observe(time.Duration) { g.n.Add(1) }

func do(t *testing.T, srv string, parent context.Context, timeout time.Duration) (*Result, *gaps) {
	t.Helper()
	c := New(srv, Options{})
	var r Result
	g := &gaps{}
	c.NewStream().Do(parent, timeout, PathCompletions, []byte(`{}`), Window{Start: time.Now().Add(-time.Hour), End: time.Now().Add(time.Hour)}, g, &r)
	return &r, g
}

func TestDo(t *testing.T) {
	ctx := context.Background()
	t.Run("success", func(t *testing.T) {
		srv := streamServer(t, goodStream(5))
		r, g := do(t, srv.URL, ctx, 5*time.Second)
		if r.ErrKind != "" || r.Incomplete || r.Chunks != 5 || r.WindowChunks != 5 || !r.HasUsage || r.CompletionTokens != 5 || r.PromptTokens != 10 {
			t.Fatalf("%+v", r)
		}
		if g.n.Load() != 4 {
			t.Errorf("%d gaps, want 4 (role-only delta skipped)", g.n.Load())
		}
		if r.TTFT() <= 0 || r.End.Before(r.FirstToken) || !r.HasServerTTFT || r.ServerTTFT != time.Millisecond {
			t.Errorf("timing %+v", r)
		}
	})
	for _, tc := range []struct {
		name  string
		write func(w http.ResponseWriter, f http.Flusher)
		kind  string
	}{
		{"http 500", func(w http.ResponseWriter, f http.Flusher) { w.WriteHeader(500); fmt.Fprint(w, `{"error":{}}`) }, "http_500"},
		{"http 429", func(w http.ResponseWriter, f http.Flusher) { w.WriteHeader(429) }, "http_429"},
		{"malformed chunk", func(w http.ResponseWriter, f http.Flusher) {
			fmt.Fprint(w, "data: {\"choices\":[{\"text\":\"a\"}]}\n\ndata: {\"choices\":[{\"te\n\n")
		}, results.ErrMalformedChunk},
		{"no [DONE]", func(w http.ResponseWriter, f http.Flusher) {
			fmt.Fprint(w, "data: {\"choices\":[{\"text\":\"a\"}]}\n\n")
		}, results.ErrBrokenStream},
		{"error in stream", func(w http.ResponseWriter, f http.Flusher) {
			fmt.Fprint(w, "data: {\"error\":{\"message\":\"x\"}}\n\n")
		}, results.ErrStreamError},
		{"cut connection", func(w http.ResponseWriter, f http.Flusher) {
			fmt.Fprint(w, "data: {\"choices\":[{\"text\":\"a\"}]}\n\n")
			f.Flush()
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}, results.ErrBrokenStream},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := streamServer(t, tc.write)
			r, _ := do(t, srv.URL, ctx, 5*time.Second)
			if r.ErrKind != tc.kind || r.Incomplete {
				t.Errorf("kind %q (%v), want %q", r.ErrKind, r.Err, tc.kind)
			}
		})
	}
	t.Run("timeout", func(t *testing.T) {
		srv := streamServer(t, func(w http.ResponseWriter, f http.Flusher) {
			fmt.Fprint(w, "data: {\"choices\":[{\"text\":\"a\"}]}\n\n")
			f.Flush()
			time.Sleep(2 * time.Second)
		})
		r, _ := do(t, srv.URL, ctx, 200*time.Millisecond)
		if r.ErrKind != results.ErrTimeout || r.Incomplete {
			t.Errorf("kind %q incomplete %v (%v)", r.ErrKind, r.Incomplete, r.Err)
		}
	})
	t.Run("cancelled by caller is incomplete", func(t *testing.T) {
		srv := streamServer(t, func(w http.ResponseWriter, f http.Flusher) {
			fmt.Fprint(w, "data: {\"choices\":[{\"text\":\"a\"}]}\n\n")
			f.Flush()
			time.Sleep(2 * time.Second)
		})
		cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		r, _ := do(t, srv.URL, cctx, 5*time.Second)
		if r.ErrKind != "" || !r.Incomplete || r.Chunks != 1 {
			t.Errorf("kind %q incomplete %v chunks %d", r.ErrKind, r.Incomplete, r.Chunks)
		}
	})
	t.Run("connect refused", func(t *testing.T) {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := l.Addr().String()
		l.Close()
		r, _ := do(t, "http://"+addr, ctx, time.Second)
		if r.ErrKind != results.ErrConnect {
			t.Errorf("kind %q (%v)", r.ErrKind, r.Err)
		}
	})
}

func TestCheckModel(t *testing.T) {
	ok := streamServer(t, goodStream(1))
	if err := New(ok.URL, Options{}).CheckModel(context.Background(), "m1"); err != nil {
		t.Fatal(err)
	}
	err := New(ok.URL, Options{}).CheckModel(context.Background(), "other")
	if err == nil || !strings.Contains(err.Error(), `does not serve model "other"`) || !strings.Contains(err.Error(), "m1") {
		t.Errorf("missing model: %v", err)
	}
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<html>hello</html>") }))
	defer html.Close()
	err = New(html.URL, Options{}).CheckModel(context.Background(), "m1")
	var ce *CheckError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "not an OpenAI-compatible server") {
		t.Errorf("html server: %v", err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	if err := New("http://"+addr, Options{}).CheckModel(context.Background(), "m1"); err == nil || !strings.Contains(err.Error(), "cannot reach") {
		t.Errorf("unreachable: %v", err)
	}
}

func TestAPIKeySent(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("Authorization"))
		fmt.Fprint(w, `{"data":[{"id":"m1"}]}`)
	}))
	defer srv.Close()
	if err := New(srv.URL, Options{APIKey: "s3cret"}).CheckModel(context.Background(), "m1"); err != nil {
		t.Fatal(err)
	}
	if got.Load() != "Bearer s3cret" {
		t.Errorf("Authorization %q", got.Load())
	}
}

func TestPromptBody(t *testing.T) {
	p := &Prompt{API: "completions", Model: "m\"1", Words: 3}
	b := string(p.AppendBody(nil, 5, -1, 7))
	for _, want := range []string{`"model":"m\"1"`, `"max_tokens":7`, `"min_tokens":7`, `"ignore_eos":true`, `"include_usage":true`, `"stream":true`} {
		if !strings.Contains(b, want) {
			t.Errorf("body %s lacks %s", b, want)
		}
	}
	a, c := string(AppendText(nil, 1, 10)), string(AppendText(nil, 2, 10))
	if a == c || len(strings.Fields(a)) != len(strings.Fields(c)) {
		t.Errorf("prompts not unique or not the same length: %q %q", a, c)
	}
	for _, w := range vocab {
		if len(w) > 4 {
			t.Errorf("prefix word %q longer than 4 letters", w)
		}
	}
	ch := &Prompt{API: "chat", Model: "m", Words: 1}
	if !strings.Contains(string(ch.AppendBody(nil, 0, -1, 1)), `"messages":[{"role":"user","content":"`) || ch.Path() != PathChat {
		t.Error("chat body")
	}
}

// A server that ends the chunked body in a write of its own after [DONE]
// (vLLM under uvicorn does) keeps its connection: one connection serves a
// user's requests one after another, so no request pays a handshake.
func TestDoneThenLateEndKeepsConnection(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		f := w.(http.Flusher)
		fmt.Fprint(w, "data: {\"choices\":[{\"text\":\"a\"}]}\n\n")
		f.Flush()
		fmt.Fprint(w, "data: [DONE]\n\n")
		f.Flush()
		time.Sleep(30 * time.Millisecond) // the terminator comes later
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := New(srv.URL, Options{})
	s := c.NewStream()
	for i := 0; i < 3; i++ {
		var r Result
		s.Do(context.Background(), 5*time.Second, PathCompletions, []byte(`{}`), Window{}, nil, &r)
		if r.ErrKind != "" || r.Chunks != 1 {
			t.Fatalf("request %d: %+v", i, r)
		}
		// [DONE] ends the request's time, not the wait for the terminator.
		if d := r.End.Sub(r.Start); d >= 30*time.Millisecond {
			t.Errorf("request %d: e2e %v includes the wait for the body's end", i, d)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 3 requests in a row, want 1", n)
	}
}
