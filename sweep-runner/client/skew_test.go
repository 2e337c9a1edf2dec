package client

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

type record struct {
	mu sync.Mutex
	v  []time.Duration
}

func (r *record) Observe(d time.Duration) { r.mu.Lock(); r.v = append(r.v, d); r.mu.Unlock() }

// TestITLSkew: the client gap minus the server's gap between the same two
// chunks, from the server's own stamps. The server below claims a 100 ms gap
// it did not take before chunk 3, so that skew is about -100 ms; chunks
// without sim_t_ns are left out.
func TestITLSkew(t *testing.T) {
	srv := streamServer(t, func(w http.ResponseWriter, f http.Flusher) {
		stamps := []int64{1e6, 2e6, 102e6, -1, 104e6}
		for i, s := range stamps {
			if i > 0 {
				time.Sleep(time.Millisecond)
			}
			if s < 0 {
				fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"text\":\" t\"}]}\n\n")
			} else {
				fmt.Fprintf(w, "data: {\"choices\":[{\"index\":0,\"text\":\" t\"}],\"sim_t_ns\":%d}\n\n", s)
			}
			f.Flush()
		}
		fmt.Fprint(w, "data: [DONE]\n\n")
	})
	s := New(srv.URL, Options{}).NewStream()
	rec := &record{}
	s.ITLSkew = rec
	var r Result
	s.Do(context.Background(), 5*time.Second, PathCompletions, []byte(`{}`), Window{}, nil, &r)
	if r.ErrKind != "" || r.Chunks != 5 {
		t.Fatalf("%+v", r)
	}
	// Pairs (1,2) and (2,3) only: chunk 4 has no stamp, so (3,4) and
	// (4,5) have no server gap.
	if len(rec.v) != 2 {
		t.Fatalf("%d skews, want 2: %v", len(rec.v), rec.v)
	}
	if rec.v[1] > -50*time.Millisecond || rec.v[1] < -101*time.Millisecond {
		t.Errorf("skew before the falsely stamped chunk %v, want about -99 ms", rec.v[1])
	}
}
