package vllmsim

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func setFaults(t *testing.T, url, body string) (int, Faults) {
	t.Helper()
	resp, err := http.Post(url+"/admin/faults", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var f Faults
	_ = json.NewDecoder(resp.Body).Decode(&f)
	return resp.StatusCode, f
}

func TestFaultErrorRateAtRuntime(t *testing.T) {
	_, url := start(t, fastCfg())
	if code, f := setFaults(t, url, `{"error_rate":1,"error_codes":[429,503]}`); code != 200 || f.ErrorRate != 1 {
		t.Fatalf("admin POST: %d %+v", code, f)
	}
	resp, err := http.Get(url + "/admin/faults")
	if err != nil {
		t.Fatal(err)
	}
	var got Faults
	decodeJSON(t, resp, &got)
	if got.ErrorRate != 1 || len(got.ErrorCodes) != 2 {
		t.Fatalf("admin GET %+v", got)
	}
	seen := map[int]bool{}
	for i := 0; i < 30; i++ {
		resp := post(t, url+"/v1/completions", map[string]any{"prompt": "x", "max_tokens": 2})
		var e struct {
			Error struct {
				Code int `json:"code"`
			} `json:"error"`
		}
		decodeJSON(t, resp, &e)
		if (resp.StatusCode != 429 && resp.StatusCode != 503) || e.Error.Code != resp.StatusCode {
			t.Fatalf("status %d error %+v", resp.StatusCode, e)
		}
		seen[resp.StatusCode] = true
	}
	if len(seen) != 2 {
		t.Fatalf("codes seen %v, want both 429 and 503", seen)
	}
	setFaults(t, url, `{"error_rate":0}`)
	resp = post(t, url+"/v1/completions", map[string]any{"prompt": "x", "max_tokens": 2})
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("after clearing the fault: %d", resp.StatusCode)
	}
	for _, bad := range []string{`{"error_rate":2}`, `{"error_codes":[200]}`, `{"bogus":1}`, `{`} {
		if code, _ := setFaults(t, url, bad); code != 400 {
			t.Errorf("admin accepted %s: %d", bad, code)
		}
	}
}

func TestFaultDisconnect(t *testing.T) {
	cfg := fastCfg()
	cfg.Faults.DisconnectRate = 1
	s, url := start(t, cfg)
	resp := post(t, url+"/v1/completions", map[string]any{"prompt": "x", "max_tokens": 50, "ignore_eos": true, "stream": true})
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil || strings.Contains(string(body), "[DONE]") {
		t.Fatalf("stream completed despite disconnect rate 1 (err %v)", err)
	}
	if n := strings.Count(string(body), "data: "); n >= 50 {
		t.Fatalf("%d chunks before the cut, want fewer than 50", n)
	}
	// Non-streaming requests lose their connection too.
	if r, err := http.Post(url+"/v1/completions", "application/json", strings.NewReader(`{"prompt":"x","max_tokens":50}`)); err == nil {
		r.Body.Close()
		t.Fatal("non-streaming request got a response despite disconnect rate 1")
	}
	waitFor(t, "cut requests to be aborted", func() bool { return s.running() == 0 && s.waiting() == 0 })
}

func TestFaultStall(t *testing.T) {
	cfg := fastCfg()
	cfg.Faults.StallRate = 1
	cfg.Faults.StallSeconds = 0.4
	_, url := start(t, cfg)
	resp := post(t, url+"/v1/completions", map[string]any{"prompt": "x", "max_tokens": 10, "ignore_eos": true, "stream": true})
	chunks, done, err := readSSE(t, resp.Body)
	resp.Body.Close()
	if err != nil || !done || len(chunks) != 10 {
		t.Fatalf("stalled stream: %d chunks, done %v, err %v", len(chunks), done, err)
	}
	var gap, prev int64
	for _, c := range chunks {
		gap = max(gap, c.SimT-prev)
		prev = c.SimT
	}
	if time.Duration(gap) < 350*time.Millisecond {
		t.Fatalf("largest gap between chunks %v, want a ~0.4 s stall", time.Duration(gap))
	}
}

func TestFaultStartupDelay(t *testing.T) {
	cfg := fastCfg()
	cfg.Faults.StartupDelaySeconds = 0.3
	_, url := start(t, cfg)
	get := func(path string) int {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := get("/health"); c != 503 {
		t.Fatalf("/health during startup: %d", c)
	}
	resp := post(t, url+"/v1/completions", map[string]any{"prompt": "x", "max_tokens": 2})
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Fatalf("completion during startup: %d", resp.StatusCode)
	}
	waitFor(t, "healthy", func() bool { return get("/health") == 200 })
	// At runtime it makes a healthy server unhealthy for a while.
	setFaults(t, url, `{"startup_delay_seconds":30}`)
	if c := get("/health"); c != 503 {
		t.Fatalf("/health after a runtime startup delay: %d", c)
	}
}

func TestFaultMaxWaiting(t *testing.T) {
	cfg := fastCfg()
	cfg.MaxNumSeqs = 1
	cfg.Faults.MaxWaiting = 2
	s, url := start(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		streamAsync(ctx, url, map[string]any{"prompt": "x", "max_tokens": 5000, "ignore_eos": true, "stream": true}, &wg)
	}
	waitFor(t, "1 running and 2 waiting", func() bool { return s.running() == 1 && s.waiting() == 2 })
	resp := post(t, url+"/v1/completions", map[string]any{"prompt": "x", "max_tokens": 2})
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("4th request with a full queue: %d, want 429", resp.StatusCode)
	}
	cancel()
	wg.Wait()
}

// Faults drawn from the same seed repeat: the same requests fail.
func TestFaultsAreSeeded(t *testing.T) {
	pattern := func() string {
		cfg := fastCfg()
		cfg.Faults.ErrorRate = 0.5
		_, url := start(t, cfg)
		var b strings.Builder
		for i := 0; i < 20; i++ {
			resp := post(t, url+"/v1/completions", map[string]any{"prompt": "x", "max_tokens": 1})
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				b.WriteByte('.')
			} else {
				b.WriteByte('E')
			}
		}
		return b.String()
	}
	a, b := pattern(), pattern()
	if a != b || !strings.Contains(a, "E") || !strings.Contains(a, ".") {
		t.Fatalf("patterns %s and %s", a, b)
	}
}
