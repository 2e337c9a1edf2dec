package client

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

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
