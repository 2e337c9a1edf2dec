package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Chunks exactly as vllm-sim writes them (completions and chat).
const (
	simCompletionChunk = `{"id":"cmpl-1","object":"text_completion","created":1764400000,"model":"fixed-latency","choices":[{"index":0,"text":" data","logprobs":null,"finish_reason":null,"stop_reason":null}],"sim_t_ns":123456789}`
	simChatChunk       = `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1764400000,"model":"fixed-latency","choices":[{"index":0,"delta":{"content":" data"},"logprobs":null,"finish_reason":null}],"sim_t_ns":123456789}`
)

func BenchmarkParseChunk(b *testing.B) {
	for _, tc := range []struct{ name, in string }{{"completions", simCompletionChunk}, {"chat", simChatChunk}} {
		b.Run(tc.name, func(b *testing.B) {
			in := []byte(tc.in)
			var c Chunk
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if err := ParseChunk(in, &c); err != nil || !c.Content || !c.HasSimT {
					b.Fatal(err, c)
				}
			}
		})
	}
}

// BenchmarkSSEChunk: one op is one chunk read from an SSE stream and
// parsed (the per-token path of Stream.Do without the network), reported
// as ns/chunk and allocs/chunk (steady state: the buffers are reused).
func BenchmarkSSEChunk(b *testing.B) {
	const perStream = 1000
	stream := strings.Repeat("data: "+simCompletionChunk+"\n\n", perStream)
	r := NewSSEReader(sseBufferSize)
	sr := strings.NewReader(stream)
	r.Reset(sr)
	var c Chunk
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start := time.Now()
	n := 0
	for b.Loop() {
		if n%perStream == 0 {
			sr.Reset(stream)
			r.Reset(sr)
		}
		n++
		d, err := r.Next()
		if err != nil {
			b.Fatal(err)
		}
		if err := ParseChunk(d, &c); err != nil {
			b.Fatal(err)
		}
	}
	el := time.Since(start)
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(el.Nanoseconds())/float64(n), "ns/chunk")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(n), "allocs/chunk")
}

// BenchmarkStreamDo: whole streamed requests over loopback HTTP (64
// chunks, each flushed on its own), the engine's per-request path. ns/op is
// mostly waiting (the reader is woken at most every rxTick while data keeps
// coming, rxconn_linux.go); cpu-ns/op is the process's CPU time per request,
// the server's work included, so compare runs, not absolute values.
func BenchmarkStreamDo(b *testing.B) {
	const chunks = 64
	var body strings.Builder
	for i := range chunks {
		fmt.Fprintf(&body, "data: {\"choices\":[{\"index\":0,\"text\":\" data\",\"finish_reason\":null}],\"sim_t_ns\":%d}\n\n", (i+1)*1000)
	}
	payload := body.String()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		f := w.(http.Flusher)
		rest := payload
		for rest != "" {
			i := strings.Index(rest, "\n\n") + 2
			io.WriteString(w, rest[:i])
			f.Flush()
			rest = rest[i:]
		}
		io.WriteString(w, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":64,\"server_ttft_seconds\":0.001}}\n\ndata: [DONE]\n\n")
	}))
	defer srv.Close()
	s := New(srv.URL, Options{}).NewStream()
	var skew discard
	s.ITLSkew = skew
	req := []byte(`{"model":"m","prompt":"x","max_tokens":64,"stream":true}`)
	var r Result
	win := Window{Start: time.Now(), End: time.Now().Add(time.Hour)}
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		s.Do(context.Background(), 10*time.Second, PathCompletions, req, win, skew, &r)
		if r.ErrKind != "" || r.Chunks != chunks {
			b.Fatalf("%s %v %d", r.ErrKind, r.Err, r.Chunks)
		}
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// processCPU is this process's user + system CPU time, nanoseconds.
func processCPU() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

type discard struct{}

func (discard) Observe(time.Duration) {}
