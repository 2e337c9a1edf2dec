package dataset

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDistribution(t *testing.T) {
	v := make([]int, 100)
	for i := range v {
		v[i] = 100 - i // 100 .. 1, unsorted on purpose
	}
	want := Dist{N: 100, Mean: 50.5, P50: 50, P90: 90, P99: 99, Min: 1, Max: 100}
	if got := Distribution(v); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if v[0] != 100 {
		t.Error("Distribution sorted its argument")
	}
	if got := Distribution([]int{7}); got != (Dist{N: 1, Mean: 7, P50: 7, P90: 7, P99: 7, Min: 7, Max: 7}) {
		t.Errorf("one value: %+v", got)
	}
}

// TestHistogram: vLLM's 1-2-5 bounds, a length on a bound in the bucket it
// ends, empty buckets between kept, empty ones before the first length
// left out.
func TestHistogram(t *testing.T) {
	got := Histogram([]int{20, 21, 50, 51, 300, 2000})
	want := []Bucket{{10, 20, 1}, {20, 50, 2}, {50, 100, 1}, {100, 200, 0}, {200, 500, 1}, {500, 1000, 0}, {1000, 2000, 1}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if got := Histogram([]int{1, 1}); !cmp.Equal(got, []Bucket{{0, 1, 2}}) {
		t.Errorf("ones: %v", got)
	}
	b, le := []int{}, 1
	for range 10 {
		b = append(b, le)
		le = next125(le)
	}
	if !cmp.Equal(b, []int{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000}) {
		t.Errorf("series %v", b)
	}
}

// TestStats: counted prompt lengths (count's, per entry) and the recorded
// output lengths; an estimate without count, said to be one; a count's
// error names the entry.
func TestStats(t *testing.T) {
	entries := []Entry{
		{Prompt: "one two three", OutputTokens: 10},
		{Messages: []Message{{"system", "a b"}, {"user", "c d e f"}}, OutputTokens: 30},
		{Prompt: strings.Repeat("w ", 30), OutputTokens: 20},
	}
	s, err := Stats(entries, func(e Entry) (int, error) { return len(e.Prompt) + len(e.Messages)*1000, nil })
	if err != nil {
		t.Fatal(err)
	}
	if s.PromptEstimated || s.Prompt != (Dist{N: 3, Mean: (13 + 2000 + 60) / 3.0, P50: 60, P90: 2000, P99: 2000, Min: 13, Max: 2000}) {
		t.Errorf("prompt %+v (estimated %v)", s.Prompt, s.PromptEstimated)
	}
	if s.Output != (Dist{N: 3, Mean: 20, P50: 20, P90: 30, P99: 30, Min: 10, Max: 30}) {
		t.Errorf("output %+v", s.Output)
	}
	if !cmp.Equal(s.OutputHistogram, []Bucket{{5, 10, 1}, {10, 20, 1}, {20, 50, 1}}) {
		t.Errorf("output histogram %v", s.OutputHistogram)
	}
	s, err = Stats(entries, nil)
	if err != nil || !s.PromptEstimated || s.Prompt.Min != 4 || s.Prompt.P50 != 3+6 || s.Prompt.Max != 40 {
		t.Errorf("estimate: %+v %v", s, err)
	}
	boom := errors.New("boom")
	_, err = Stats(entries, func(e Entry) (int, error) {
		if e.OutputTokens == 30 {
			return 0, boom
		}
		return 1, nil
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "entry 2") {
		t.Errorf("count error: %v", err)
	}
	if _, err := Stats(nil, nil); err == nil {
		t.Error("no entries: no error")
	}
}
