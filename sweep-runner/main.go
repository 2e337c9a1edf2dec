package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/rhoai-demo/step07/sweep-runner/sweep"
)

var version = "dev"

// Exit codes.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitInterrupted = 3
)

// usageError is bad input: exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const topUsage = `sweep-runner: find how many concurrent users each model variant serves within the SLA.

Usage:
  sweep-runner run [flags]            run a sweep (see sweep-runner run --help)
  sweep-runner run --resume RUN_DIR   continue an interrupted run
  sweep-runner worker --listen ADDR   a sharded sweep's load worker (run --shards N starts them)
  sweep-runner report RUN_DIR         rebuild summary.json, summary.csv, report.md, report.html and charts from steps.jsonl
  sweep-runner plan --users N RUN_DIR capacity plan: replicas, GPUs, cost and energy for N concurrent users
  sweep-runner import guidellm FILE... import GuideLLM reports (benchmarks.json/.yaml) into a new run directory under --out
  sweep-runner export guidellm RUN_DIR write a run directory as a GuideLLM report (guidellm-benchmarks.json)
  sweep-runner dataset stats FILE     length distributions of a recorded-traffic file (--target URL: the server's tokenizer)
  sweep-runner version                print the version

Exit codes: 0 done, 1 failure, 2 bad input, 3 interrupted (resume with --resume).
`

func run(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "sweep-runner: internal error: %v\n", r)
			code = exitFailure
		}
	}()
	if len(args) == 0 {
		fmt.Fprint(stderr, topUsage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "run":
		err = cmdRun(args[1:], stdout, stderr)
	case "worker":
		err = cmdWorker(args[1:], stdout, stderr)
	case "report":
		err = cmdReport(args[1:], stdout, stderr)
	case "plan":
		err = cmdPlan(args[1:], stdout, stderr)
	case "import":
		err = cmdImport(args[1:], stdout, stderr)
	case "export":
		err = cmdExport(args[1:], stdout, stderr)
	case "dataset":
		err = cmdDataset(args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "sweep-runner %s\n", version)
		return exitOK
	case "help", "--help", "-h":
		fmt.Fprint(stdout, topUsage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "sweep-runner: unknown command %q\n\n%s", args[0], topUsage)
		return exitUsage
	}
	var ue *usageError
	var te *sweep.TargetError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, pflag.ErrHelp):
		return exitOK
	case errors.As(err, &ue), errors.As(err, &te):
		fmt.Fprintf(stderr, "sweep-runner: %v\n", err)
		return exitUsage
	case errors.Is(err, sweep.ErrInterrupted):
		fmt.Fprintf(stderr, "sweep-runner: %v\n", err)
		return exitInterrupted
	default:
		fmt.Fprintf(stderr, "sweep-runner: %v\n", err)
		return exitFailure
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
