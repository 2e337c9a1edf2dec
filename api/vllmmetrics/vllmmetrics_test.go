package vllmmetrics

import (
	"strings"
	"testing"
)

// NamesOlder is Names with every rename applied, and nothing else differs.
func TestNamesOlderAreNamesRenamed(t *testing.T) {
	older := map[string]string{}
	for _, r := range Renamed {
		older[r.Current] = r.Older
	}
	if len(Names) != len(NamesOlder) {
		t.Fatalf("%d names, %d older names", len(Names), len(NamesOlder))
	}
	for i, n := range Names {
		want := n
		if o, ok := older[n]; ok {
			want = o
		}
		if NamesOlder[i] != want {
			t.Errorf("NamesOlder[%d] = %s, want %s", i, NamesOlder[i], want)
		}
		if !strings.HasPrefix(n, "vllm:") {
			t.Errorf("%s: not a vllm: name", n)
		}
	}
}

func TestDedupScrapes(t *testing.T) {
	got := DedupScrapes(`rate(vllm:prompt_tokens_total{namespace="x"}[5m])`)
	want := `max without(job, service, endpoint, instance)(rate(vllm:prompt_tokens_total{namespace="x"}[5m]))`
	if got != want {
		t.Errorf("got %s", got)
	}
}
