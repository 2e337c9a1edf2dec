package dataset

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rhoai-demo/step07/api/v1alpha1"
)

// Bounds of what is read: a dataset is the user's file, and the sweep's
// memory must not follow a mistaken one (a model's weights, a log of many
// GiB).
const (
	// MaxFileBytes bounds a dataset file.
	MaxFileBytes = 256 << 20
	// MaxLineBytes bounds one line of a JSON Lines file (one request).
	MaxLineBytes = 16 << 20
	// MaxOutputTokens bounds a recorded output length: the bound of a
	// scenario's outputTokens.
	MaxOutputTokens = 1 << 20
	// Parallel is how many counts (tokenizer round trips) run at once.
	Parallel = 8
)

// Entry is one recorded request.
type Entry struct {
	// Prompt is the completions API's prompt, and Messages the chat API's:
	// a JSON Lines entry has the one its line gives, a ShareGPT entry
	// both.
	Prompt   string
	Messages []Message
	// OutputTokens is the recorded answer's length in tokens (1 or more).
	OutputTokens int
}

// Message is one message of a chat request, as the chat API writes it.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Options of LoadWith.
type Options struct {
	// CountAnswer counts the tokens of a ShareGPT answer (a tokenizer round
	// trip, without special tokens); nil: EstimateTokens. It is called
	// from up to Parallel goroutines at once.
	CountAnswer func(text string) (int, error)
}

// Info describes what LoadWith read.
type Info struct {
	// Format the file was read as (jsonl or sharegpt).
	Format string
	// Records: the lines holding an entry (jsonl), or the conversations
	// (sharegpt).
	Records int
	// Skipped counts the ShareGPT human turns that are no request: no
	// answer after them, or an empty turn.
	Skipped int
	// OutputEstimated says the output lengths are EstimateTokens' (a
	// ShareGPT file read without CountAnswer).
	OutputEstimated bool
}

// Load reads the dataset at path in format (jsonl or sharegpt; "" guesses
// by the extension: v1alpha1.DatasetFormatOf). A ShareGPT answer's length
// is estimated (EstimateTokens); LoadWith counts it with a tokenizer.
func Load(path, format string) ([]Entry, error) {
	entries, _, err := LoadWith(path, format, Options{})
	return entries, err
}

// LoadWith is Load with options, saying what it read.
func LoadWith(path, format string, o Options) ([]Entry, Info, error) {
	info := Info{Format: v1alpha1.DatasetFormatOf(path, format)}
	if info.Format != v1alpha1.DatasetJSONL && info.Format != v1alpha1.DatasetShareGPT {
		return nil, info, fmt.Errorf("%s: unknown dataset format %q: use %q or %q", path, info.Format, v1alpha1.DatasetJSONL, v1alpha1.DatasetShareGPT)
	}
	f, err := open(path)
	if err != nil {
		return nil, info, err
	}
	defer f.Close()
	r := &limitedReader{r: f, left: MaxFileBytes}
	var entries []Entry
	if info.Format == v1alpha1.DatasetJSONL {
		entries, err = readJSONL(r, &info)
	} else {
		entries, err = readShareGPT(r, &info, o.CountAnswer)
	}
	switch {
	case err != nil:
		return nil, info, fmt.Errorf("%s: %w", path, err)
	case len(entries) == 0:
		return nil, info, fmt.Errorf("%s: holds no request (read as %s)", path, info.Format)
	}
	return entries, info, nil
}

// open opens the file the user names, refusing a directory and a file
// over MaxFileBytes before reading it.
func open(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	st, err := f.Stat()
	switch {
	case err != nil:
		f.Close()
		return nil, fmt.Errorf("dataset: %w", err)
	case st.IsDir():
		f.Close()
		return nil, fmt.Errorf("dataset %s is a directory, not a file", path)
	case st.Size() > MaxFileBytes:
		f.Close()
		return nil, fmt.Errorf("dataset %s: %s, over the %d MiB limit of a dataset file", path, mib(st.Size()), MaxFileBytes>>20)
	}
	return f, nil
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

var errFileTooBig = fmt.Errorf("over the %d MiB limit of a dataset file", MaxFileBytes>>20)

// limitedReader fails once more than its limit was read: a file that
// grows after open, or one whose size Stat does not tell (a pipe).
type limitedReader struct {
	r    io.Reader
	left int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		var one [1]byte
		if n, err := l.r.Read(one[:]); n == 0 {
			return 0, err
		}
		return 0, errFileTooBig
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// jsonlLine is one line of a JSON Lines dataset; pointers tell a field
// left out from a zero.
type jsonlLine struct {
	Prompt       *string    `json:"prompt"`
	Messages     *[]Message `json:"messages"`
	OutputTokens *int       `json:"output_tokens"`
	MaxTokens    *int       `json:"max_tokens"`
}

func readJSONL(r io.Reader, info *Info) ([]Entry, error) {
	sc := bufio.NewScanner(r)
	// Room for a line of MaxLineBytes and its "\r\n".
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes+2)
	var out []Entry
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if len(line) > MaxLineBytes {
			return nil, fmt.Errorf("line %d is over the %d MiB limit of a line", n, MaxLineBytes>>20)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		e, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, e)
		info.Records++
	}
	switch err := sc.Err(); {
	case errors.Is(err, bufio.ErrTooLong):
		return nil, fmt.Errorf("line %d is over the %d MiB limit of a line", n+1, MaxLineBytes>>20)
	case err != nil:
		return nil, err
	}
	return out, nil
}

func parseLine(line []byte) (Entry, error) {
	if b := bytes.TrimSpace(line); b[0] != '{' {
		return Entry{}, errors.New("not a JSON object: each line is one request, {\"prompt\": ..., \"output_tokens\": N} or {\"messages\": [...], \"output_tokens\": N}")
	}
	var l jsonlLine
	if err := json.Unmarshal(line, &l); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return Entry{}, fmt.Errorf("invalid JSON at byte %d of the line: %v", se.Offset, err)
		}
		return Entry{}, jsonError(err)
	}
	var e Entry
	switch {
	case l.Prompt != nil && l.Messages != nil:
		return e, errors.New("has both prompt and messages: a line is one request, give one of them")
	case l.Prompt != nil:
		if strings.TrimSpace(*l.Prompt) == "" {
			return e, errors.New("prompt is empty")
		}
		e.Prompt = *l.Prompt
	case l.Messages != nil:
		msgs := *l.Messages
		if len(msgs) == 0 {
			return e, errors.New("messages is empty")
		}
		text := false
		for i, m := range msgs {
			if m.Role == "" {
				return e, fmt.Errorf("messages[%d].role is required (system, user, assistant ...)", i)
			}
			text = text || strings.TrimSpace(m.Content) != ""
		}
		if !text {
			return e, errors.New("messages hold no text")
		}
		e.Messages = msgs
	default:
		return e, errors.New("has neither prompt (completions) nor messages (chat)")
	}
	var out *int
	switch {
	case l.OutputTokens != nil && l.MaxTokens != nil:
		return e, errors.New("gives both output_tokens and max_tokens (another name of it): give one")
	case l.OutputTokens != nil:
		out = l.OutputTokens
	case l.MaxTokens != nil:
		out = l.MaxTokens
	default:
		return e, errors.New("output_tokens is required: the recorded answer's length in tokens (max_tokens is accepted too)")
	}
	if *out < 1 || *out > MaxOutputTokens {
		return e, fmt.Errorf("output_tokens must be between 1 and %d, got %d", MaxOutputTokens, *out)
	}
	e.OutputTokens = *out
	return e, nil
}

// jsonError words a decoding error for a person: where, and what was
// expected.
func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("invalid JSON: %v", err)
	case errors.As(err, &te) && te.Field == "":
		return fmt.Errorf("%s where %s is expected", te.Value, kindName(te.Type))
	case errors.As(err, &te):
		return fmt.Errorf("%s: %s where %s is expected", te.Field, te.Value, kindName(te.Type))
	}
	return fmt.Errorf("invalid JSON: %v", err)
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Slice:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a " + t.String()
}

// shareRecord is one ShareGPT conversation.
type shareRecord struct {
	Conversations *[]shareTurn `json:"conversations"`
}

type shareTurn struct {
	From  string  `json:"from"`
	Value *string `json:"value"`
}

// Roles of ShareGPT turns, by their "from".
var shareRoles = map[string]string{
	"human": "user", "user": "user",
	"gpt": "assistant", "assistant": "assistant", "chatgpt": "assistant", "bard": "assistant", "bing": "assistant",
	"system": "system",
}

// pending is a ShareGPT entry whose answer is still to be counted.
type pending struct {
	entry  int
	record int
	line   int
	answer string
}

func readShareGPT(r io.Reader, info *Info, count func(string) (int, error)) ([]Entry, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	start := len(data) - len(bytes.TrimLeft(data, " \t\r\n"))
	array := start < len(data) && data[start] == '['
	if start == len(data) || (!array && data[start] != '{') {
		return nil, errors.New("not ShareGPT JSON: want an array of records (or one a line), each with conversations of {\"from\", \"value\"} turns")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if array {
		if _, err := dec.Token(); err != nil {
			return nil, fmt.Errorf("line %d: %w", lineAt(data, int64(start)), jsonError(err))
		}
	}
	var out []Entry
	var todo []pending
	for {
		if array && !dec.More() {
			break
		}
		at := lineAt(data, recordStart(data, dec.InputOffset()))
		var rec shareRecord
		if err := dec.Decode(&rec); err == io.EOF && !array {
			break
		} else if err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				at = lineAt(data, se.Offset)
			}
			return nil, fmt.Errorf("line %d: %w", at, jsonError(err))
		}
		info.Records++
		where := fmt.Sprintf("conversation %d (line %d)", info.Records, at)
		if rec.Conversations == nil {
			return nil, fmt.Errorf("%s: no conversations: is this ShareGPT's format?", where)
		}
		turns := *rec.Conversations
		system := ""
		for i, t := range turns {
			role, ok := shareRoles[t.From]
			switch {
			case !ok:
				return nil, fmt.Errorf("%s: conversations[%d]: from %q is none of human, gpt, system (nor user, assistant, chatgpt, bard, bing)", where, i, t.From)
			case t.Value == nil:
				return nil, fmt.Errorf("%s: conversations[%d]: value is missing", where, i)
			}
			switch role {
			case "system":
				system = *t.Value
			case "user":
				var answer *shareTurn
				if i+1 < len(turns) && shareRoles[turns[i+1].From] == "assistant" && turns[i+1].Value != nil {
					answer = &turns[i+1]
				}
				if answer == nil || strings.TrimSpace(*t.Value) == "" || strings.TrimSpace(*answer.Value) == "" {
					info.Skipped++
					continue
				}
				e := Entry{Prompt: *t.Value}
				if strings.TrimSpace(system) != "" {
					e.Messages = append(e.Messages, Message{Role: "system", Content: system})
				}
				e.Messages = append(e.Messages, Message{Role: "user", Content: *t.Value})
				todo = append(todo, pending{entry: len(out), record: info.Records, line: at, answer: *answer.Value})
				out = append(out, e)
			}
		}
	}
	if array {
		if _, err := dec.Token(); err != nil {
			return nil, fmt.Errorf("line %d: %w", lineAt(data, dec.InputOffset()), jsonError(err))
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, fmt.Errorf("line %d: data after the array of records", lineAt(data, dec.InputOffset()))
		}
	}
	info.OutputEstimated = count == nil
	if count == nil {
		count = func(s string) (int, error) { return EstimateTokens(s), nil }
	}
	err = parallel(len(todo), func(i int) error {
		p := todo[i]
		n, err := count(p.answer)
		switch {
		case err != nil:
			return fmt.Errorf("conversation %d (line %d): counting the answer's tokens: %w", p.record, p.line, err)
		case n < 1 || n > MaxOutputTokens:
			return fmt.Errorf("conversation %d (line %d): the answer counts %d tokens, want 1 to %d", p.record, p.line, n, MaxOutputTokens)
		}
		out[p.entry].OutputTokens = n
		return nil
	})
	return out, err
}

// recordStart is the offset of the next value after off, past the
// separators a decoder leaves before it.
func recordStart(data []byte, off int64) int64 {
	for off < int64(len(data)) && strings.IndexByte(" \t\r\n,", data[off]) >= 0 {
		off++
	}
	return off
}

// lineAt is the 1-based line of byte offset off.
func lineAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return bytes.Count(data[:off], []byte{'\n'}) + 1
}

// EstimateTokens estimates text's tokens without a tokenizer: 4/3 of a
// token per whitespace-separated word, rounded up (see the package
// documentation for what it misses).
func EstimateTokens(text string) int {
	return (4*len(strings.Fields(text)) + 2) / 3
}

// parallel calls f(i) for every i below n from up to Parallel goroutines,
// and returns the error of the lowest i that failed (none is started once
// one failed).
func parallel(n int, f func(i int) error) error {
	var next atomic.Int64
	var failed atomic.Bool
	errs := make([]error, n)
	var wg sync.WaitGroup
	for range min(Parallel, n) {
		wg.Go(func() {
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if errs[i] = f(i); errs[i] != nil {
					failed.Store(true)
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
