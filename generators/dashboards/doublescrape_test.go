package dashboards

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// snapshotter is one simulator's /metrics as scraped by several jobs, one
// listener (address) per job, like one vLLM pod scraped by our ServiceMonitor
// and by RHOAI's <isvc>-metrics one. It serves the simulator's metrics as of
// its last snapshot, with the snapshot's time as explicit sample timestamps
// (Prometheus honours them), and takes the next snapshot only once every
// listener has served the current one three times (a scrape that fails
// still leaves others). So every job stores the same samples at the same timestamps,
// and a query that keeps one copy per pod gives exactly the value of one job
// alone: without it, two jobs a scrape phase apart see rates a few percent
// apart, and "no double counting" could only be checked that loosely.
type snapshotter struct {
	src    string
	addrs  []string
	mu     sync.Mutex
	body   []byte
	served []int
	taken  int
	frozen bool
	err    error
}

// newSnapshotter takes the first snapshot of src (a /metrics URL), listens
// on one address per job and takes a snapshot every period until freeze.
func newSnapshotter(t *testing.T, src string, jobs int, period time.Duration) *snapshotter {
	t.Helper()
	s := &snapshotter{src: src, served: make([]int, jobs)}
	if err := s.take(); err != nil {
		t.Fatal(err)
	}
	for i := range jobs {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			s.mu.Lock()
			body := s.body
			s.served[i]++
			s.mu.Unlock()
			w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
			_, _ = w.Write(body)
		}))
		t.Cleanup(srv.Close)
		s.addrs = append(s.addrs, strings.TrimPrefix(srv.URL, "http://"))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(period)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				s.mu.Lock()
				if !s.frozen && s.allServed() && s.err == nil {
					s.err = s.take()
				}
				s.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

func (s *snapshotter) allServed() bool {
	return !slices.ContainsFunc(s.served, func(n int) bool { return n < 3 })
}

// take reads the simulator's metrics and stamps every sample with now.
// Called before the listeners start or with mu held.
func (s *snapshotter) take() error {
	req, err := http.NewRequest("GET", s.src, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		return fmt.Errorf("%s: status %d, %s", s.src, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	ts := " " + strconv.FormatInt(time.Now().UnixMilli(), 10)
	var b bytes.Buffer
	for line := range strings.Lines(string(raw)) {
		line = strings.TrimRight(line, "\n")
		b.WriteString(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			b.WriteString(ts)
		}
		b.WriteByte('\n')
	}
	s.body = b.Bytes()
	s.taken++
	clear(s.served)
	return nil
}

// waitSnapshots waits until n snapshots were taken, so every job has
// scraped n-1 of them.
func (s *snapshotter) waitSnapshots(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s.mu.Lock()
		taken, err := s.taken, s.err
		s.mu.Unlock()
		if err != nil {
			t.Fatalf("snapshot of %s: %v", s.src, err)
		}
		if taken >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the jobs do not scrape (%d snapshots)", s.src, taken)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freeze stops the snapshots and waits until every job has scraped the last
// one (three times), so that all jobs hold the same samples from then on.
func (s *snapshotter) freeze(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	s.frozen = true
	s.mu.Unlock()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s.mu.Lock()
		ok, err := s.allServed(), s.err
		s.mu.Unlock()
		if err != nil {
			t.Fatalf("snapshot of %s: %v", s.src, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not every job scraped the last snapshot", s.src)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// excludeJob adds job!="<job>" to every selector of expr (vector and range
// selectors, in subqueries too).
func excludeJob(expr, job string) (string, error) {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return "", err
	}
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			vs.LabelMatchers = append(vs.LabelMatchers, labels.MustNewMatcher(labels.MatchNotEqual, "job", job))
		}
		return nil
	})
	return e.String(), nil
}

// touchesVLLM: expr selects a vLLM series.
func touchesVLLM(expr string) bool {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return false
	}
	found := false
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok && strings.HasPrefix(vs.Name, "vllm:") {
			found = true
		}
		return nil
	})
	return found
}

// queryAt runs an instant query at a fixed time and returns its series as
// label set -> value (a scalar as the empty label set).
func queryAt(ctx context.Context, base, q string, at time.Time) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v := url.Values{"query": {q}, "time": {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)}}
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/query?"+v.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, err
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("%s", r.Error)
	}
	out := map[string]float64{}
	parse := func(val [2]any) (float64, error) {
		s, _ := val[1].(string)
		return strconv.ParseFloat(s, 64)
	}
	switch r.Data.ResultType {
	case "scalar":
		var val [2]any
		if err := json.Unmarshal(r.Data.Result, &val); err != nil {
			return nil, err
		}
		f, err := parse(val)
		if err != nil {
			return nil, err
		}
		out[""] = f
	case "vector":
		var vec []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}
		if err := json.Unmarshal(r.Data.Result, &vec); err != nil {
			return nil, err
		}
		for _, s := range vec {
			f, err := parse(s.Value)
			if err != nil {
				return nil, err
			}
			out[labels.FromMap(s.Metric).String()] = f
		}
	default:
		return nil, fmt.Errorf("result type %s", r.Data.ResultType)
	}
	return out, nil
}

// sameResult says how two query results differ: other label sets, or values
// more than a relative 1e-9 apart (NaN equals NaN). Empty when they agree.
func sameResult(a, b map[string]float64) string {
	var d []string
	for k, va := range a {
		vb, ok := b[k]
		switch {
		case !ok:
			d = append(d, fmt.Sprintf("%s only with the duplicate job (%g)", k, va))
		case !closeTo(va, vb):
			d = append(d, fmt.Sprintf("%s: %g with the duplicate job, %g without", k, va, vb))
		}
	}
	for k, vb := range b {
		if _, ok := a[k]; !ok {
			d = append(d, fmt.Sprintf("%s only without the duplicate job (%g)", k, vb))
		}
	}
	sort.Strings(d)
	return strings.Join(d, "; ")
}

// closeTo: equal within a relative 1e-9, NaN equal to NaN.
func closeTo(a, b float64) bool {
	switch {
	case a == b, math.IsNaN(a) && math.IsNaN(b):
		return true
	case math.IsNaN(a), math.IsNaN(b), math.IsInf(a, 0), math.IsInf(b, 0):
		return false
	}
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}
