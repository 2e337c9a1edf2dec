package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/internal/hostile"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// TestSSELimits: a line or an event one byte over its limit is a
// *LimitError, one at the limit is read; the reader holds no more.
func TestSSELimits(t *testing.T) {
	read := func(in string, maxLine, maxEvent int) ([]string, error) {
		r := NewSSEReader(4096)
		r.MaxLine, r.MaxEvent = maxLine, maxEvent
		r.Reset(strings.NewReader(in))
		var out []string
		for {
			d, err := r.Next()
			if err == io.EOF {
				return out, nil
			}
			if err != nil {
				return out, err
			}
			out = append(out, string(d))
			if cap(r.line) > maxLine+4096 || cap(r.data) > 2*maxEvent+1024 {
				return out, fmt.Errorf("buffers of %d and %d bytes", cap(r.line), cap(r.data))
			}
		}
	}
	v := func(n int) string { return strings.Repeat("v", n) }
	for _, tc := range []struct {
		name              string
		in                string
		maxLine, maxEvent int
		want              string // what went over, "" for none
	}{
		// "data: " + value + "\n" is the line.
		{"short line at the limit", "data: " + v(93) + "\n\n", 100, 1000, ""},
		{"short line over", "data: " + v(94) + "\n\n", 100, 1000, "SSE line"},
		{"long line at the limit", "data: " + v(9993) + "\n\n", 10000, 20000, ""},
		{"long line over", "data: " + v(9994) + "\n\n", 10000, 20000, "SSE line"},
		{"long line without end", "data: " + v(50000), 10000, 20000, "SSE line"},
		{"crlf counts", "data: " + v(93) + "\r\n\r\n", 100, 1000, "SSE line"},
		{"comment line over", ": " + v(200) + "\ndata: x\n\n", 100, 1000, "SSE line"},
		{"event at the limit", "data: " + v(50) + "\ndata: " + v(49) + "\n\n", 100, 100, ""},
		{"event over", "data: " + v(50) + "\ndata: " + v(50) + "\n\n", 100, 100, "SSE event"},
		{"events under, one after another", strings.Repeat("data: "+v(60)+"\n\n", 50), 100, 100, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := read(tc.in, tc.maxLine, tc.maxEvent)
			var le *LimitError
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.want != "" && (!errors.As(err, &le) || le.What != tc.want || !errors.Is(err, ErrOversized)):
				t.Fatalf("error %v, want a %s LimitError", err, tc.want)
			}
		})
	}
	// The defaults are the documented constants.
	r := NewSSEReader(4096)
	r.Reset(io.MultiReader(strings.NewReader("data: "), strings.NewReader(v(MaxSSELine))))
	if _, err := r.Next(); err == nil || !strings.Contains(err.Error(), "SSE line over the 1 MiB limit") {
		t.Errorf("a line of 1 MiB: %v", err)
	}
	// Buffers grown by a long line are let go at the next stream.
	r.Reset(strings.NewReader("data: x\n\n"))
	if cap(r.line) > keepBytes || cap(r.data) > keepBytes {
		t.Errorf("kept %d and %d bytes", cap(r.line), cap(r.data))
	}
}

func TestLimitReaders(t *testing.T) {
	b, err := ReadLimited(strings.NewReader("12345"), 5, "x")
	if string(b) != "12345" || err != nil {
		t.Errorf("at the limit: %q %v", b, err)
	}
	if _, err := ReadLimited(strings.NewReader("123456"), 5, "the answer"); err == nil || err.Error() != "the answer over the 5 bytes limit" || !errors.Is(err, ErrOversized) {
		t.Errorf("over the limit: %v", err)
	}
	if b, err := io.ReadAll(LimitReader(strings.NewReader("12345"), 5, "x")); string(b) != "12345" || err != nil {
		t.Errorf("at the limit: %q %v", b, err)
	}
	if _, err := io.ReadAll(LimitReader(strings.NewReader("123456"), 5, "x")); !errors.Is(err, ErrOversized) {
		t.Errorf("over the limit: %v", err)
	}
	if s := byteSize(64 << 10); s != "64 KiB" {
		t.Errorf("byteSize: %s", s)
	}
}

// TestMaxTokensOf: the bound of a stream is read from the max_tokens of
// the Prompt's bodies.
func TestMaxTokensOf(t *testing.T) {
	for _, api := range []string{"completions", "chat"} {
		p := &Prompt{API: api, Model: `m"max_tokens":9`, Words: 20}
		for _, n := range []int{1, 24, 4096, 1 << 20} {
			if got := maxTokensOf(p.AppendBody(nil, 7, -1, n)); got != n {
				t.Errorf("%s, max_tokens %d: read %d", api, n, got)
			}
		}
	}
	if got := maxTokensOf([]byte(`{}`)); got != 0 {
		t.Errorf("no max_tokens: %d", got)
	}
	if got := maxTokensOf([]byte(`{"max_tokens":99999999999999999999999}`)); got <= 0 {
		t.Errorf("huge max_tokens: %d", got)
	}
}

// TestDoLimits: a stream past a limit is an error of its own kind, ends at
// once and drops its connection (the server sees the client hang up).
func TestDoLimits(t *testing.T) {
	body := (&Prompt{API: "completions", Model: "m1", Words: 4}).AppendBody(nil, 1, -1, 24)
	for _, tc := range []struct {
		behaviour, kind string
	}{
		{hostile.SSELine, results.ErrOversized},
		{hostile.Chunks, results.ErrOverlong},
		{hostile.Headers, results.ErrOversized},
	} {
		t.Run(tc.behaviour, func(t *testing.T) {
			srv := httptest.NewServer(hostile.New(tc.behaviour))
			defer srv.Close()
			c := New(srv.URL, Options{})
			s := c.NewStream()
			var r Result
			start := time.Now()
			s.Do(context.Background(), 20*time.Second, PathCompletions, body, Window{}, nil, &r)
			if r.ErrKind != tc.kind || r.Incomplete || r.Err == nil {
				t.Fatalf("kind %q (%v), want %s", r.ErrKind, r.Err, tc.kind)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
			if r.Chunks > MaxEvents(24) {
				t.Errorf("%d chunks counted, want at most %d", r.Chunks, MaxEvents(24))
			}
			// Dropped: closing the server does not wait for a handler
			// still writing.
			done := make(chan struct{})
			go func() { srv.Close(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Errorf("the server's handler still runs: the connection was kept")
			}
		})
	}
	t.Run("stream bytes", func(t *testing.T) {
		// Comments are no events: the whole stream's bound ends them.
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			ping := bytes.Repeat([]byte(": ping\n"), 4096)
			for r.Context().Err() == nil {
				if _, err := w.Write(ping); err != nil {
					return
				}
			}
		}))
		defer srv.Close()
		var r Result
		New(srv.URL, Options{}).NewStream().Do(context.Background(), 20*time.Second, PathCompletions, body, Window{}, nil, &r)
		want := "streamed response over the " + byteSize(StreamBytesBase+24*StreamBytesPerToken) + " limit"
		if r.ErrKind != results.ErrOversized || r.Err == nil || r.Err.Error() != want {
			t.Fatalf("kind %q (%v), want oversized: %s", r.ErrKind, r.Err, want)
		}
	})
}

// TestCheckModelLimit: a /v1/models answer past its limit is not an
// OpenAI-compatible server, and not worth waiting for.
func TestCheckModelLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"object":"list","data":[{"id":"`)
		pad := bytes.Repeat([]byte("m"), 64<<10)
		for r.Context().Err() == nil {
			if _, err := w.Write(pad); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	err := New(srv.URL, Options{}).CheckModel(context.Background(), "m1")
	var ce *CheckError
	if !errors.As(err, &ce) || ce.Transient || !strings.Contains(ce.Msg, "GET /v1/models answer over the 4 MiB limit") {
		t.Fatalf("%v", err)
	}
}
