package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFlagsOverrideProfile(t *testing.T) {
	cfg, exit, err := parse([]string{"--profile", "mistral-int4-tp1", "--max-num-seqs", "6", "--iter-fixed", "3ms",
		"--error-codes", "429,503", "--namespace", "ns"}, &bytes.Buffer{})
	if err != nil || exit {
		t.Fatal(err)
	}
	if cfg.Model != "mistral-3-int4" || cfg.KVCacheTokens != 10240 || cfg.MaxNumSeqs != 6 || cfg.IterFixed != 3*time.Millisecond ||
		len(cfg.Faults.ErrorCodes) != 2 || cfg.Namespace != "ns" {
		t.Fatalf("config %+v", cfg)
	}
	// Flags not given keep the profile's value, not the flag default.
	if cfg.PerDecodeSeq != 1400*time.Microsecond || cfg.TimeScale != 1 {
		t.Fatalf("per-decode-seq %v, time scale %v: the flag default overrode the profile", cfg.PerDecodeSeq, cfg.TimeScale)
	}
	// --time-scale sets the scale and leaves the configured costs alone.
	cfg, _, err = parse([]string{"--profile", "mistral-int4-tp1", "--time-scale", "0.1"}, &bytes.Buffer{})
	if err != nil || cfg.TimeScale != 0.1 || cfg.IterFixed != 10*time.Millisecond {
		t.Fatalf("--time-scale 0.1: %v, scale %v, iter-fixed %v", err, cfg.TimeScale, cfg.IterFixed)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{{"--bogus"}, {"--max-num-seqs", "x"}, {"--profile", "nope"}, {"--metrics-compat", "v9"}, {"extra"},
		{"--time-scale", "0"}, {"--time-scale", "-0.5"}, {"--time-scale", "101"}} {
		var stderr bytes.Buffer
		if code := run(context.Background(), args, &bytes.Buffer{}, &stderr); code != 2 || stderr.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr.String())
		}
	}
}

func TestHelpVersionAndShutdown(t *testing.T) {
	var out bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, &out, &bytes.Buffer{}); code != 0 || !strings.Contains(out.String(), "--max-num-seqs") {
		t.Fatalf("--help: %d %q", code, out.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"--version"}, &out, &bytes.Buffer{}); code != 0 || !strings.HasPrefix(out.String(), "vllm-sim ") {
		t.Fatalf("--version: %d %q", code, out.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var logs bytes.Buffer
	if code := run(ctx, []string{"--listen", "127.0.0.1:0", "--dcgm-listen", "127.0.0.1:0"}, &out, &logs); code != 0 {
		t.Fatalf("run: exit %d: %s", code, logs.String())
	}
	if !strings.Contains(logs.String(), "dcgm listening") || !strings.Contains(logs.String(), "stopped") ||
		!strings.Contains(logs.String(), "time scale 1:") {
		t.Fatalf("logs %q", logs.String())
	}
}

// The flags are bound onto the loaded profile: a profile file's values stay
// where no flag is given (faults included), and a flag given replaces its
// value, a list flag the whole list.
func TestFlagsOverrideProfileFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "p.yaml")
	os.WriteFile(file, []byte("profile: mistral-int4-tp1\nmaxNumSeqs: 7\nseed: 9\nfaults:\n  error_rate: 0.25\n  error_codes: [503]\n  max_waiting: 4\n"), 0o644)
	cfg, _, err := parse([]string{"--profile-file", file}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Model != "mistral-3-int4" || cfg.MaxNumSeqs != 7 || cfg.Seed != 9 || cfg.Faults.ErrorRate != 0.25 || len(cfg.Faults.ErrorCodes) != 1 || cfg.Faults.MaxWaiting != 4 {
		t.Fatalf("profile file not kept: %+v", cfg)
	}
	cfg, _, err = parse([]string{"--profile-file", file, "--max-num-seqs", "3", "--error-codes", "429,500", "--max-waiting", "0", "--prefix-caching=false"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxNumSeqs != 3 || cfg.Seed != 9 || cfg.Faults.ErrorRate != 0.25 || fmt.Sprint(cfg.Faults.ErrorCodes) != "[429 500]" || cfg.Faults.MaxWaiting != 0 || cfg.PrefixCaching {
		t.Fatalf("flags over the profile file: %+v", cfg)
	}
}
