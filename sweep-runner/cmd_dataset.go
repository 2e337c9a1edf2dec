package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/client"
	"github.com/rhoai-demo/step07/sweep-runner/dataset"
)

// The dataset subcommand: what a file of recorded traffic would send,
// before a sweep replays it (package dataset reads it).

const datasetUsage = `Usage: sweep-runner dataset stats FILE [--format jsonl|sharegpt] [--target URL [--model M] [--api completions|chat]]

Prints the prompt and output length distributions of a file of recorded
traffic (a scenario's dataset; docs/measuring.md, "Recorded traffic"): n, mean,
p50, p90, p99, min and max in tokens, and histograms in vLLM's 1-2-5 buckets
(those of the server's vllm:request_prompt_tokens and
vllm:request_generation_tokens).

With --target (a server's base URL, without /v1) the prompts are counted by
the server's tokenizer, POST URL/tokenize, as a sweep with --api sends them
(the sweep's four-word unique prefix included), one request an entry; so are a
ShareGPT file's answers. Without it they are estimated, 4/3 of a token per
word, and the output says so. A JSON Lines file records its output lengths.

The format is jsonl or sharegpt; left out, a .json file is ShareGPT's and any
other JSON Lines. A file over 256 MiB, a line over 16 MiB or a bad line is bad
input (exit 2), named by its line number.

Flags:
`

func cmdDataset(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("dataset stats", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, datasetUsage+fs.FlagUsages()) }
	format := fs.String("format", "", "jsonl or sharegpt (default: sharegpt for a .json file, else jsonl)")
	target := fs.String("target", "", "base URL of an OpenAI-compatible server (without /v1) whose POST /tokenize counts the tokens (default: a word-based estimate)")
	model := fs.String("model", "", "served model name sent to /tokenize (default: none, the server's only model)")
	api := fs.String("api", v1alpha1.APICompletions, "completions or chat: the API the sweep sends the prompts with (spec.api), which decides what is counted: completions a prompt (a chat entry's contents a line each), chat the messages with the server's chat template (a prompt as one user message)")
	keyFile := fs.String("api-key-file", "", "file holding the target's API key (sent as a bearer token, never logged)")
	caFile := fs.String("ca-file", "", "PEM CA bundle trusted, besides the system roots, for an https target")
	switch {
	case len(args) == 0:
		return usagef("dataset needs a subcommand: sweep-runner dataset stats FILE (see sweep-runner dataset --help)")
	case args[0] == "-h" || args[0] == "--help" || args[0] == "help":
		fs.Usage()
		return pflag.ErrHelp
	case args[0] != "stats":
		return usagef("dataset: unknown subcommand %q (known: stats)", args[0])
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return usagef("%v (see sweep-runner dataset --help)", err)
	}
	if fs.NArg() != 1 {
		return usagef("dataset stats needs exactly one FILE (a JSON Lines or ShareGPT dataset)")
	}
	if *api != v1alpha1.APICompletions && *api != v1alpha1.APIChat {
		return usagef("--api must be %q or %q, got %q", v1alpha1.APICompletions, v1alpha1.APIChat, *api)
	}
	file := fs.Arg(0)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	var tok *tokenizer
	var opts dataset.Options
	var countPrompt func(dataset.Entry) (int, error)
	if *target != "" {
		var err error
		if tok, err = newTokenizer(ctx, *target, *model, *api, *keyFile, *caFile); err != nil {
			return err
		}
		opts.CountAnswer = func(text string) (int, error) { return tok.countAnswer(ctx, text) }
		countPrompt = func(e dataset.Entry) (int, error) { return tok.countPrompt(ctx, e) }
	} else if *model != "" || *keyFile != "" || *caFile != "" {
		return usagef("--model, --api-key-file and --ca-file need --target")
	}
	entries, info, err := dataset.LoadWith(file, *format, opts)
	if err != nil {
		return datasetError(err)
	}
	sum, err := dataset.Stats(entries, countPrompt)
	if err != nil {
		return datasetError(err)
	}
	writeDatasetStats(stdout, file, info, sum, tok, *api)
	return nil
}

// datasetError is bad input (exit 2), except a tokenizer that could not
// be reached or failed (exit 1: trying again may work).
func datasetError(err error) error {
	var tf *tokenizeFailure
	if errors.As(err, &tf) {
		return err
	}
	return usagef("%v", err)
}

// writeDatasetStats prints where the lengths come from, the table of the
// distributions and the two histograms.
func writeDatasetStats(w io.Writer, file string, info dataset.Info, s dataset.Summary, tok *tokenizer, api string) {
	records := fmt.Sprintf("%d lines", info.Records)
	if info.Format == v1alpha1.DatasetShareGPT {
		records = fmt.Sprintf("%d conversations", info.Records)
	}
	fmt.Fprintf(w, "dataset: %s (%s: %d requests from %s)\n", file, info.Format, s.Prompt.N, records)
	if info.Skipped > 0 {
		fmt.Fprintf(w, "  %d human turns are no request (no answer after them, or empty)\n", info.Skipped)
	}
	const estimate = "estimated, 4/3 of a token per word (no --target; give one for the server's tokenizer)"
	prompt, output := estimate, "recorded in the file"
	if tok != nil {
		prompt = fmt.Sprintf("counted by %s/tokenize as a sweep with api %s sends them (its unique prefix included)", tok.base, api)
	}
	if info.Format == v1alpha1.DatasetShareGPT {
		output = "the answers' lengths, " + estimate
		if !info.OutputEstimated {
			output = fmt.Sprintf("the answers' lengths, counted by %s/tokenize", tok.base)
		}
	}
	fmt.Fprintf(w, "prompt tokens: %s\noutput tokens: %s\n\n", prompt, output)
	fmt.Fprintf(w, "%-8s %8s %10s %8s %8s %8s %8s %8s\n", "tokens", "n", "mean", "p50", "p90", "p99", "min", "max")
	for _, r := range []struct {
		name string
		d    dataset.Dist
	}{{"prompt", s.Prompt}, {"output", s.Output}} {
		d := r.d
		fmt.Fprintf(w, "%-8s %8d %10.1f %8d %8d %8d %8d %8d\n", r.name, d.N, d.Mean, d.P50, d.P90, d.P99, d.Min, d.Max)
	}
	writeHistogram(w, "prompt tokens", s.PromptHistogram)
	writeHistogram(w, "output tokens", s.OutputHistogram)
}

// histogramWidth is the longest bar, in characters.
const histogramWidth = 40

func writeHistogram(w io.Writer, title string, buckets []dataset.Bucket) {
	fmt.Fprintf(w, "\n%s\n", title)
	top, labels, width := 0, make([]string, len(buckets)), 0
	for i, b := range buckets {
		top = max(top, b.Count)
		labels[i] = fmt.Sprintf("(%d, %d]", b.Lo, b.Le)
		width = max(width, len(labels[i]))
	}
	for i, b := range buckets {
		bar := 0
		if b.Count > 0 {
			bar = max(1, b.Count*histogramWidth/top)
		}
		fmt.Fprintf(w, "  %*s  %-*s %d\n", width, labels[i], histogramWidth, strings.Repeat("#", bar), b.Count)
	}
}

// tokenizer counts tokens with a server's POST /tokenize (vLLM's): the
// prompts through the client, as the sweep sends them, and ShareGPT's
// answers (which the client has no call for: bare text, no special
// tokens) with a request of its own, bounded as the client's are.
type tokenizer struct {
	base, model, apiKey string
	hc                  *http.Client
	c                   *client.Client
	p                   *client.Prompt
}

// newTokenizer checks the target first, with one answer's count: a wrong
// URL, model or a server without /tokenize is bad input (exit 2) before
// the file is read; one that cannot be reached or fails is exit 1.
func newTokenizer(ctx context.Context, target, model, api, keyFile, caFile string) (*tokenizer, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usagef("--target %q: want the http:// or https:// base URL of the server (without /v1)", target)
	}
	key, err := readAPIKey(keyFile)
	if err != nil {
		return nil, err
	}
	pool, err := client.CertPool(caFile)
	if err != nil {
		return nil, usagef("--ca-file: %v", err)
	}
	tr := client.NewTransport(dataset.Parallel)
	if pool != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	t := &tokenizer{
		base: strings.TrimRight(target, "/"), model: model, apiKey: key, hc: &http.Client{Transport: tr},
		c: client.New(target, client.Options{APIKey: key, RootCAs: pool, MaxConns: dataset.Parallel}),
		p: &client.Prompt{API: api, Model: model},
	}
	if _, err := t.countAnswer(ctx, "hello"); err != nil {
		return nil, err
	}
	return t, nil
}

// countPrompt counts an entry's prompt as the sweep sends it.
func (t *tokenizer) countPrompt(ctx context.Context, e dataset.Entry) (int, error) {
	var msgs []client.Message
	for _, m := range e.Messages {
		msgs = append(msgs, client.Message{Role: m.Role, Content: m.Content})
	}
	n, err := retry(ctx, func() (int, error) { return t.c.CountRecorded(ctx, t.p, e.Prompt, msgs) })
	if err != nil {
		return 0, &tokenizeFailure{fmt.Errorf("%s: %v", t.base, t.redact(err.Error()))}
	}
	return n, nil
}

// countAnswer counts an answer's text alone, without the special tokens
// (BOS) a prompt starts with, as the server counts generated tokens.
func (t *tokenizer) countAnswer(ctx context.Context, text string) (int, error) {
	b := map[string]any{"prompt": text, "add_special_tokens": false}
	if t.model != "" {
		b["model"] = t.model
	}
	data, err := json.Marshal(b)
	if err != nil {
		return 0, err
	}
	return retry(ctx, func() (int, error) { return t.once(ctx, data) })
}

// tokenizeFailure is a tokenizer that could not be reached or failed: not
// the input's fault (exit 1).
type tokenizeFailure struct{ err error }

func (e *tokenizeFailure) Error() string { return e.err.Error() }
func (e *tokenizeFailure) Unwrap() error { return e.err }

// retry calls f up to four times, 0.5, 1 and 1.5 s apart, while it fails
// other than on bad input: a server restarting or overloaded must not end
// a count of thousands of prompts.
func retry(ctx context.Context, f func() (int, error)) (int, error) {
	for attempt := 1; ; attempt++ {
		n, err := f()
		var ue *usageError
		if err == nil || attempt == 4 || errors.As(err, &ue) || ctx.Err() != nil {
			return n, err
		}
		select {
		case <-ctx.Done():
			return n, err
		case <-time.After(time.Duration(attempt) * 500 * time.Millisecond):
		}
	}
}

func (t *tokenizer) once(ctx context.Context, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.base+"/tokenize", bytes.NewReader(body))
	if err != nil {
		return 0, usagef("--target: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if t.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+t.apiKey)
	}
	resp, err := t.hc.Do(req)
	if err != nil {
		return 0, &tokenizeFailure{fmt.Errorf("POST %s/tokenize: %v", t.base, t.redact(err.Error()))}
	}
	defer resp.Body.Close()
	data, err := client.ReadLimited(resp.Body, client.MaxTokenizeBytes, "POST /tokenize answer")
	if err != nil {
		return 0, &tokenizeFailure{fmt.Errorf("POST %s/tokenize: %v", t.base, err)}
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return 0, &tokenizeFailure{fmt.Errorf("POST %s/tokenize answered HTTP %d: %s", t.base, resp.StatusCode, t.redact(client.ErrorMessage(data)))}
	case resp.StatusCode == http.StatusNotFound:
		return 0, usagef("POST %s/tokenize answered HTTP 404: %s (a model the server does not serve, see --model, or a server without vLLM's /tokenize: leave --target out for an estimate)", t.base, t.redact(client.ErrorMessage(data)))
	case resp.StatusCode != http.StatusOK:
		return 0, usagef("POST %s/tokenize answered HTTP %d: %s", t.base, resp.StatusCode, t.redact(client.ErrorMessage(data)))
	}
	var out struct {
		Count  *int  `json:"count"`
		Tokens []int `json:"tokens"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return 0, usagef("POST %s/tokenize: not vLLM's answer: %v", t.base, err)
	}
	switch {
	case out.Count != nil:
		return *out.Count, nil
	case out.Tokens != nil:
		return len(out.Tokens), nil
	}
	return 0, usagef("POST %s/tokenize: no count or tokens in the answer", t.base)
}

// redact keeps the API key out of a message that might echo it.
func (t *tokenizer) redact(s string) string {
	if t.apiKey == "" {
		return s
	}
	return strings.ReplaceAll(s, t.apiKey, "[redacted]")
}
