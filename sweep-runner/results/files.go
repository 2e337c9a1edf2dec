package results

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// AppendStep appends one step as a JSON line to path and fsyncs it, so a
// finished step survives a kill -9 or a node loss.
func AppendStep(path string, s *Step) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode step: %w", err)
	}
	return AppendSynced(path, append(b, '\n'))
}

// AppendSynced appends data (whole JSON lines) to path in one write and
// fsyncs it before returning, so what was appended survives a kill -9.
func AppendSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err // *os.PathError: names the operation, the path and the cause
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ReadSteps reads steps.jsonl. A last line cut short (the process was killed
// while writing it) is reported in truncated, not as an error; any other
// invalid line is an error naming its line number.
func ReadSteps(path string) (steps []Step, truncated bool, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false, err
	}
	return ParseSteps(data)
}

// ParseSteps is ReadSteps on bytes.
func ParseSteps(data []byte) (steps []Step, truncated bool, err error) {
	lines := bytes.Split(data, []byte("\n"))
	for i, l := range lines {
		l = bytes.TrimSpace(l)
		if len(l) == 0 {
			continue
		}
		var s Step
		if err := json.Unmarshal(l, &s); err != nil {
			last := i == len(lines)-1 // no newline after it: cut short
			if last {
				return steps, true, nil
			}
			return steps, false, fmt.Errorf("steps.jsonl line %d: %v", i+1, err)
		}
		steps = append(steps, s)
	}
	return steps, false, nil
}

// RepairSteps rewrites path without a last line cut short, so the file is
// valid JSON lines again before a resumed run appends to it.
func RepairSteps(path string) ([]Step, error) {
	steps, truncated, err := ReadSteps(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !truncated {
		return steps, nil
	}
	var buf bytes.Buffer
	for i := range steps {
		b, err := json.Marshal(&steps[i])
		if err != nil {
			return nil, err
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return steps, WriteFileAtomic(path, buf.Bytes())
}

// WriteFileAtomic writes data to a temporary file beside path, fsyncs it and
// renames it over path.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if werr != nil || serr != nil || cerr != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, firstErr(werr, serr, cerr))
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// WriteJSON writes v as indented JSON, atomically.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, append(b, '\n'))
}

// ReadJSON reads a JSON file into v.
func ReadJSON(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return json.NewDecoder(bufio.NewReader(io.LimitReader(f, 64<<20))).Decode(v)
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
