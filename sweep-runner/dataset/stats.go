package dataset

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Summary is the length distributions of a dataset: what a sweep replaying
// it sends, to be compared with the synthetic scenarios and with the
// server's own vllm:request_prompt_tokens and
// vllm:request_generation_tokens histograms (same buckets).
type Summary struct {
	Prompt, Output Dist
	// PromptHistogram and OutputHistogram count the lengths in vLLM's
	// 1-2-5 buckets, from the first bucket holding a length to the last.
	PromptHistogram, OutputHistogram []Bucket
	// PromptEstimated: the prompt lengths are estimates (Stats had no
	// count function).
	PromptEstimated bool
}

// Dist is a distribution of lengths in tokens; the percentiles are
// nearest-rank (a length of the dataset).
type Dist struct {
	N             int
	Mean          float64
	P50, P90, P99 int
	Min, Max      int
}

// Bucket counts the lengths in (Lo, Le].
type Bucket struct {
	Lo, Le, Count int
}

// Stats summarises entries. count gives an entry's prompt tokens (a
// tokenizer round trip, called from up to Parallel goroutines at once);
// nil estimates them (EstimatePrompt). The output lengths are the
// entries' own.
func Stats(entries []Entry, count func(Entry) (int, error)) (Summary, error) {
	if len(entries) == 0 {
		return Summary{}, errors.New("no entries to summarise")
	}
	s := Summary{PromptEstimated: count == nil}
	if count == nil {
		count = func(e Entry) (int, error) { return EstimatePrompt(e), nil }
	}
	in := make([]int, len(entries))
	out := make([]int, len(entries))
	err := parallel(len(entries), func(i int) error {
		n, err := count(entries[i])
		if err != nil {
			return fmt.Errorf("entry %d: counting its prompt's tokens: %w", i+1, err)
		}
		in[i], out[i] = n, entries[i].OutputTokens
		return nil
	})
	if err != nil {
		return Summary{}, err
	}
	s.Prompt, s.PromptHistogram = Distribution(in), Histogram(in)
	s.Output, s.OutputHistogram = Distribution(out), Histogram(out)
	return s, nil
}

// EstimatePrompt estimates an entry's prompt tokens: EstimateTokens of its
// prompt, or the sum over its messages' contents (a chat template's own
// tokens not counted).
func EstimatePrompt(e Entry) int {
	if e.Prompt != "" {
		return EstimateTokens(e.Prompt)
	}
	n := 0
	for _, m := range e.Messages {
		n += EstimateTokens(m.Content)
	}
	return n
}

// Distribution summarises lengths (none: the zero Dist).
func Distribution(v []int) Dist {
	if len(v) == 0 {
		return Dist{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	sum := 0.0
	for _, x := range s {
		sum += float64(x)
	}
	rank := func(p float64) int { return s[max(int(math.Ceil(p*float64(len(s))))-1, 0)] }
	return Dist{N: len(s), Mean: sum / float64(len(s)), P50: rank(0.5), P90: rank(0.9), P99: rank(0.99), Min: s[0], Max: s[len(s)-1]}
}

// Histogram counts lengths in vLLM's 1-2-5 buckets (its
// build_1_2_5_buckets: 1, 2, 5, 10, 20, 50, ...), from the first bucket
// holding a length to the last; a length below 1 counts in the first
// bucket, (0, 1].
func Histogram(v []int) []Bucket {
	if len(v) == 0 {
		return nil
	}
	var out []Bucket
	lo, top := 0, slices.Max(v)
	for le := 1; ; le = next125(le) {
		out = append(out, Bucket{Lo: lo, Le: le})
		if le >= top {
			break
		}
		lo = le
	}
	for _, x := range v {
		i, _ := slices.BinarySearchFunc(out, x, func(b Bucket, x int) int {
			switch {
			case x > b.Le:
				return -1
			case x <= b.Lo:
				return 1
			}
			return 0
		})
		out[min(i, len(out)-1)].Count++
	}
	first := slices.IndexFunc(out, func(b Bucket) bool { return b.Count > 0 })
	return out[first:]
}

// next125 is the bound after le in the 1-2-5 series.
func next125(le int) int {
	p := 1
	for p*10 <= le {
		p *= 10
	}
	switch le / p {
	case 1:
		return 2 * p
	case 2:
		return 5 * p
	}
	return 10 * p
}
