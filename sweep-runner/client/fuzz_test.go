package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Seeds of the stream fuzz targets (small on purpose: the fuzzer minimises
// every new input byte by byte, which stalls on large seeds). More seeds are
// committed under testdata/fuzz.
var sseSeeds = []string{
	"data: {\"choices\":[{\"index\":0,\"text\":\" the\"}],\"sim_t_ns\":12}\n\ndata: [DONE]\n\n",
	"data:{\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\r\n\r\ndata: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\r\n\r\n",
	": ping\nevent: m\nid: 1\nretry: 5\ndata: a\ndata: b\n\n",
	"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":1,\"server_ttft_seconds\":1.5e-3}}\n\ndata: [DONE]",
	"data: {\"error\":{\"message\":\"boom\",\"code\":500}}\n\n",
	"data: {\"choices\":[{\"text\":\"x\"}\n\n",
	"data: \x00\xff\n\n\n\n",
	"data: {\"choices\":[{\"text\":\"a\"}],\"usage\":{\"prompt_tokens\":1e3,\"completion_tokens\":99999999999999999999}}\n\n",
	"data: {\"usage\":{\"server_ttft_seconds\":-1e-99999}}\n\n",
	"data: x",
	"\n\n\ndata",
}

// FuzzSSEReader: any byte stream is read to its end without panic, every
// event is bounded by the input, and ParseChunk accepts only JSON objects.
// With small limits (a line of 64 bytes, an event of 128) every event is
// within them, the events are those read without limits, and the stream
// ends with a *LimitError only when a line or an event is over its limit.
func FuzzSSEReader(f *testing.F) {
	for _, s := range sseSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte("data: " + strings.Repeat("x", 60) + "\n\n"))
	f.Add([]byte("data: " + strings.Repeat("x", 50) + "\ndata: " + strings.Repeat("y", 50) + "\ndata: z\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewSSEReader(4096)
		r.Reset(bytes.NewReader(data))
		var c Chunk
		var all [][]byte
		for n := 0; ; n++ {
			if n > len(data)+1 {
				t.Fatalf("more events (%d) than bytes of input (%d)", n, len(data))
			}
			ev, err := r.Next()
			if err != nil {
				if err != io.EOF && !(errors.Is(err, ErrOversized) && len(data) > MaxSSELine) {
					t.Fatalf("reading a byte slice returned %v", err)
				}
				break
			}
			if len(ev) > len(data) {
				t.Fatalf("event of %d bytes from %d bytes of input", len(ev), len(data))
			}
			checkChunk(t, ev, &c)
			all = append(all, bytes.Clone(ev))
		}
		const maxLine, maxEvent = 64, 128
		over := false // a line or an event over its small limit
		for _, ev := range all {
			over = over || len(ev) > maxEvent
		}
		for rest := data; len(rest) > 0 && !over; {
			i := bytes.IndexByte(rest, '\n')
			if i < 0 {
				i = len(rest) - 1
			}
			over = i+1 > maxLine
			rest = rest[i+1:]
		}
		small := NewSSEReader(4096)
		small.MaxLine, small.MaxEvent = maxLine, maxEvent
		small.Reset(bytes.NewReader(data))
		for n := 0; ; n++ {
			ev, err := small.Next()
			if err != nil {
				switch {
				case errors.Is(err, ErrOversized) && !over:
					t.Fatalf("%v with no line over %d bytes and no event over %d", err, maxLine, maxEvent)
				case err == io.EOF && n != len(all):
					t.Fatalf("%d events within the limits, %d without", n, len(all))
				case err != io.EOF && !errors.Is(err, ErrOversized):
					t.Fatalf("reading a byte slice returned %v", err)
				}
				return
			}
			if len(ev) > maxEvent || n >= len(all) || !bytes.Equal(ev, all[n]) {
				t.Fatalf("event %d %q within the limits, %q without", n, ev, all[min(n, len(all)-1)])
			}
		}
	})
}

// FuzzParseChunk: ParseChunk never panics or loops, accepts only valid
// JSON objects, and what it reads is sane.
func FuzzParseChunk(f *testing.F) {
	for _, s := range []string{
		`{"choices":[{"index":0,"text":" the","finish_reason":null}],"sim_t_ns":12345}`,
		`{"choices":[{"delta":{"role":"assistant","content":"Hi \"x\""}}]}`,
		`{"choices":[],"usage":{"prompt_tokens":256,"completion_tokens":128,"server_ttft_seconds":0.0125}}`,
		`{"error":{"message":"boom"}}`,
		`{"usage":{"prompt_tokens":1.5e2,"server_ttft_seconds":2E+1}}`,
		`{"usage":{"completion_tokens":123456789012345678901234567890}}`,
		`{"server_ttft_seconds":1e99999999}`,
		`{"x":[1,{"y":"\\"}],"choices":null}`,
		`[1]`, `{"choices":[{"text":"a"`, `"\u0000"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var c Chunk
		checkChunk(t, data, &c)
	})
}

func checkChunk(t *testing.T, data []byte, c *Chunk) {
	t.Helper()
	if err := ParseChunk(data, c); err != nil {
		return
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		t.Fatalf("ParseChunk accepted %q, which is not a JSON object: %v", data, err)
	}
	if c.PromptTokens < 0 || c.CompletionTokens < 0 || c.SimTNs < 0 {
		t.Fatalf("negative count from %q: %+v", data, c)
	}
	if math.IsNaN(c.ServerTTFTSeconds) {
		t.Fatalf("NaN server TTFT from %q", data)
	}
	if c.Content && c.RoleOnly {
		t.Fatalf("content and role-only at once: %q", data)
	}
}

// bodyTransport answers every request with 200 and body as an event stream.
type bodyTransport struct{ body []byte }

func (b bodyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  http.Header{"Content-Type": {"text/event-stream"}},
		Body:    io.NopCloser(bytes.NewReader(b.body)),
		Request: req, ContentLength: -1,
	}, nil
}

// FuzzStreamDo: whatever a server streams, Stream.Do ends with exactly one
// outcome (successful or one error kind), never panics, and its counts and
// timings are consistent; a request for 4 tokens counts at most
// MaxEvents(4) chunks.
func FuzzStreamDo(f *testing.F) {
	for _, s := range sseSeeds {
		f.Add([]byte(s))
	}
	c := New("http://127.0.0.1:1", Options{})
	f.Fuzz(func(t *testing.T, data []byte) {
		c.hc = &http.Client{Transport: bodyTransport{data}}
		var r Result
		now := time.Now()
		c.NewStream().Do(context.Background(), 5*time.Second, PathCompletions, []byte(`{"max_tokens":4}`),
			Window{Start: now.Add(-time.Hour), End: now.Add(time.Hour)}, nil, &r)
		if r.Incomplete {
			t.Fatalf("incomplete without cancellation: %+v", r)
		}
		if (r.ErrKind == "") != (r.Err == nil) {
			t.Fatalf("error kind %q with error %v", r.ErrKind, r.Err)
		}
		if r.ErrKind == "" && !strings.Contains(string(data), "[DONE]") {
			t.Fatalf("successful without [DONE]: %q", data)
		}
		if r.WindowChunks > r.Chunks || r.Chunks > len(data) || r.Chunks > MaxEvents(4) {
			t.Fatalf("chunks %d window %d from %d bytes", r.Chunks, r.WindowChunks, len(data))
		}
		if r.End.Before(r.Start) || !r.FirstToken.IsZero() && (r.FirstToken.Before(r.Start) || r.End.Before(r.FirstToken)) {
			t.Fatalf("timings out of order: %+v", r)
		}
		if r.PromptTokens < 0 || r.CompletionTokens < 0 {
			t.Fatalf("negative usage: %+v", r)
		}
	})
}
