package sweep

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/client"
	"github.com/rhoai-demo/step07/sweep-runner/dataset"
	"github.com/rhoai-demo/step07/sweep-runner/load"
)

// A dataset scenario replays recorded prompts (sweep-runner/dataset reads
// the file) instead of synthetic ones. Before any step each target counts
// every record's prompt with its own tokenizer: a record longer than the
// server's context is reported and never sent, and the scenario's
// inputTokens and outputTokens become the means of what is sent, so that
// the plan as run, the reports and the capacity plan say what the server
// was asked for.

// datasetRecords reads a dataset scenario's file and counts its records
// on t; it returns the records that fit the server's context and the mean
// prompt and output tokens of those.
func (r *Runner) datasetRecords(ctx context.Context, t v1alpha1.Target, sc v1alpha1.Scenario, p *client.Prompt) ([]load.Record, float64, float64, error) {
	d := sc.Dataset
	c := r.client(t)
	// A ShareGPT answer's length is counted by the target's tokenizer (a
	// JSON Lines file records its output tokens).
	entries, _, err := dataset.LoadWith(d.Path, v1alpha1.DatasetFormatOf(d.Path, d.Format), dataset.Options{
		CountAnswer: func(text string) (int, error) { return c.CountText(ctx, t.Model, text) },
	})
	if err != nil {
		if _, e := dataset.Load(d.Path, v1alpha1.DatasetFormatOf(d.Path, d.Format)); e != nil {
			return nil, 0, 0, &DatasetError{Path: d.Path, Err: e}
		}
		// the file reads: the server failed to count its answers
		return nil, 0, 0, fmt.Errorf("dataset %s: counting its answers with POST /tokenize: %w", d.Path, err)
	}
	if len(entries) == 0 {
		return nil, 0, 0, &DatasetError{Path: d.Path, Err: fmt.Errorf("holds no request")}
	}
	maxLen := c.MaxModelLen(ctx, t.Model)
	counts := make([]int, len(entries))
	errs := make([]error, len(entries))
	var wg sync.WaitGroup
	sem := make(chan struct{}, dataset.Parallel)
	for i := range entries {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			counts[i], errs[i] = c.CountRecorded(ctx, p, entries[i].Prompt, messagesOf(entries[i].Messages))
		}()
	}
	wg.Wait()
	var recs []load.Record
	var long []string
	var in, out float64
	for i, e := range entries {
		if errs[i] != nil {
			return nil, 0, 0, fmt.Errorf("dataset %s, record %d: counting its prompt with POST /tokenize: %w", d.Path, i+1, errs[i])
		}
		if maxLen > 0 && counts[i]+e.OutputTokens > maxLen {
			long = append(long, fmt.Sprintf("record %d (%d + %d tokens)", i+1, counts[i], e.OutputTokens))
			continue
		}
		recs = append(recs, load.Record{Prompt: e.Prompt, Messages: messagesOf(e.Messages), Out: e.OutputTokens})
		in += float64(counts[i])
		out += float64(e.OutputTokens)
	}
	if len(long) > 0 {
		msg := fmt.Sprintf("target %s, scenario %s: %d of %d records of %s are longer than the server's context (%d tokens) and are not sent: %s",
			t.Name, sc.Name, len(long), len(entries), d.Path, maxLen, strings.Join(long[:min(len(long), 5)], ", "))
		if len(long) > 5 {
			msg += ", ..."
		}
		r.warnOnce("dataset-long-"+t.Name+"/"+sc.Name, "warning: %s", msg)
	}
	if len(recs) == 0 {
		return nil, 0, 0, &DatasetError{Path: d.Path, Err: fmt.Errorf("no record fits the server's context of %d tokens", maxLen)}
	}
	n := float64(len(recs))
	return recs, in / n, out / n, nil
}

// DatasetError: a dataset file that cannot be read or holds no request
// (bad input: the run stops before any step, exit 2).
type DatasetError struct {
	Path string
	Err  error
}

func (e *DatasetError) Error() string { return fmt.Sprintf("dataset %s: %v", e.Path, e.Err) }
func (e *DatasetError) Unwrap() error { return e.Err }

func messagesOf(ms []dataset.Message) []client.Message {
	if len(ms) == 0 {
		return nil
	}
	out := make([]client.Message, len(ms))
	for i, m := range ms {
		out[i] = client.Message{Role: m.Role, Content: m.Content}
	}
	return out
}

// prepareDataset reads and counts a dataset scenario's records on t (once
// per target and scenario), and sets the scenario's nominal lengths in the
// plan to the means of what is sent.
func (r *Runner) prepareDataset(ctx context.Context, t v1alpha1.Target, sc v1alpha1.Scenario) (*client.Prompt, error) {
	k := [2]string{t.Name, sc.Name}
	if p := r.prompts[k]; p != nil {
		return p, nil
	}
	p := &client.Prompt{API: r.Plan.Spec.API, Model: t.Model, Source: "dataset", Exact: true}
	recs, in, out, err := r.datasetRecords(ctx, t, sc, p)
	if err != nil {
		return nil, err
	}
	p.Tokens = int(math.Round(in))
	for i := range r.Plan.Spec.Scenarios {
		if s := &r.Plan.Spec.Scenarios[i]; s.Name == sc.Name {
			s.InputTokens, s.OutputTokens = max(1, int(math.Round(in))), max(1, int(math.Round(out)))
		}
	}
	if r.records == nil {
		r.records = map[[2]string][]load.Record{}
	}
	r.records[k] = recs
	if r.prompts == nil {
		r.prompts = map[[2]string]*client.Prompt{}
	}
	r.prompts[k] = p
	r.logf("target %s, scenario %s: %d recorded requests from %s, %.0f prompt and %.0f output tokens on average", t.Name, sc.Name, len(recs), sc.Dataset.Path, in, out)
	return p, nil
}
