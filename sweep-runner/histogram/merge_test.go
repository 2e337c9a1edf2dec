package histogram

import (
	"encoding/json"
	"testing"
	"time"
)

// TestMergeAndJSON: two histograms merged, and one sent through JSON, equal
// one histogram that observed every value.
func TestMergeAndJSON(t *testing.T) {
	var all, a, b Histogram
	for i := range 1000 {
		d := time.Duration((i*7919)%5000-300) * time.Microsecond
		all.Observe(d)
		if i%3 == 0 {
			a.Observe(d)
		} else {
			b.Observe(d)
		}
	}
	js, err := json.Marshal(&b)
	if err != nil {
		t.Fatal(err)
	}
	var b2 Histogram
	if err := json.Unmarshal(js, &b2); err != nil {
		t.Fatal(err)
	}
	var m Histogram
	m.Merge(&a)
	m.Merge(&b2)
	m.Merge(nil)
	if got, want := m.Dist(), all.Dist(); got != want {
		t.Fatalf("merged %+v\nwant   %+v", got, want)
	}
	var empty Histogram
	js, _ = json.Marshal(&empty)
	if err := json.Unmarshal(js, &b2); err != nil || b2.Count() != 0 {
		t.Fatalf("empty round trip: %v, count %d", err, b2.Count())
	}
	if err := json.Unmarshal([]byte(`{"pos":[[5,2]],"n":3}`), &b2); err == nil {
		t.Fatal("a count that disagrees with the buckets was accepted")
	}
}
