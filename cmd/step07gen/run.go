package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/cmd/step07gen/krm"
	"github.com/rhoai-demo/step07/cmd/step07gen/tree"
	"github.com/rhoai-demo/step07/generators"
	"github.com/rhoai-demo/step07/internal/manifest"
	"github.com/spf13/pflag"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
)

// version is set by the Makefile (-ldflags -X main.version=...).
var version = "dev"

// Exit codes.
const (
	exitOK      = 0
	exitFail    = 1 // runtime failure; for diff: the tree differs
	exitUsage   = 2 // bad config or bad usage
	usageHeader = `step07gen generates the step-07 model performance metrics GitOps tree from one config.

Usage:
  step07gen generate --config FILE --out DIR   write the tree into DIR
  step07gen diff --config FILE --out DIR       exit 0 when DIR is current, 1 with a unified diff
  step07gen fn FILE                            print the generated objects as one YAML stream
  step07gen < resourcelist.yaml                run as the kustomize KRM function (ResourceList on stdin)
  step07gen --version | --help | COMMAND --help

Config and usage errors exit 2 and list every problem with its field path.
`
)

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "step07gen: internal error: %v\n", r)
			code = exitFail
		}
	}()
	if len(args) == 0 {
		if isTerminal(stdin) {
			fmt.Fprint(stderr, usageHeader)
			return exitUsage
		}
		return krmFunction(stdin, stdout, stderr)
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usageHeader)
		return exitOK
	case "--version", "version":
		fmt.Fprintf(stdout, "step07gen %s\n", version)
		return exitOK
	case "generate":
		return generate(args[1:], stdout, stderr, false)
	case "diff":
		return generate(args[1:], stdout, stderr, true)
	case "fn":
		return fn(args[1:], stdin, stdout, stderr)
	}
	fmt.Fprintf(stderr, "step07gen: unknown command %q\n\n%s", args[0], usageHeader)
	return exitUsage
}

// isTerminal reports whether r is an interactive terminal (no ResourceList coming).
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// command is one subcommand: its flags and the help text above them.
type command struct {
	*pflag.FlagSet
	usage string
}

func newCommand(name, usage string) *command {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse errors are printed by parse, once
	fs.Usage = func() {}
	return &command{FlagSet: fs, usage: usage}
}

// printUsage writes the command's help: its usage text, then its flags.
func (c *command) printUsage(w io.Writer) {
	fmt.Fprintf(w, "%s\n\nFlags:\n%s", c.usage, c.FlagUsages())
}

// parse handles --help (exit 0, usage on stdout) and bad flags (exit 2).
func (c *command) parse(args []string, stdout, stderr io.Writer) (int, bool) {
	help := c.BoolP("help", "h", false, "show this help")
	if err := c.Parse(args); err != nil {
		fmt.Fprintf(stderr, "step07gen %s: %v\n\n", c.Name(), err)
		c.printUsage(stderr)
		return exitUsage, false
	}
	if *help {
		c.printUsage(stdout)
		return exitOK, false
	}
	return 0, true
}

// loadConfig reads and loads a config; errors are printed with their paths.
func loadConfig(path string, stderr io.Writer) (*v1alpha1.ModelPerformanceMetrics, []byte, bool) {
	raw, size, err := readLimited(path)
	if err != nil {
		fmt.Fprintf(stderr, "step07gen: %v\n", err)
		return nil, nil, false
	}
	if size > v1alpha1.MaxConfigBytes {
		// Report the file's real size, not the bytes read to find it too big.
		var errs v1alpha1.Errors
		errs.Add("(file)", "is %d bytes, more than the %d-byte limit for a config", size, v1alpha1.MaxConfigBytes)
		printConfigError(stderr, path, errs)
		return nil, nil, false
	}
	c, err := v1alpha1.LoadConfig(raw)
	if err != nil {
		printConfigError(stderr, path, err)
		return nil, nil, false
	}
	return c, raw, true
}

// readLimited reads at most one byte more than a config may hold; size is
// the file's size when it is a regular file, else what was read.
func readLimited(path string) (data []byte, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, v1alpha1.MaxConfigBytes+1))
	size = int64(len(data))
	if st, serr := f.Stat(); serr == nil && st.Mode().IsRegular() && st.Size() > size {
		size = st.Size()
	}
	return data, size, err
}

func printConfigError(w io.Writer, path string, err error) {
	var errs v1alpha1.Errors
	if errors.As(err, &errs) {
		fmt.Fprintf(w, "step07gen: %s: %s, nothing was written:\n", path, plural(len(errs), "problem"))
		for _, e := range errs {
			fmt.Fprintf(w, "  %s\n", e.Error())
		}
		return
	}
	fmt.Fprintf(w, "step07gen: %s: %v\n", path, err)
}

func generate(args []string, stdout, stderr io.Writer, diffOnly bool) int {
	name, usage := "generate", "step07gen generate --config FILE --out DIR\n\nWrites the tree into DIR atomically: replaces the files it generated before,\nremoves those it no longer generates, never touches other files."
	if diffOnly {
		name, usage = "diff", "step07gen diff --config FILE --out DIR\n\nExit 0 when DIR holds exactly what generate would write; exit 1 with a\nunified diff otherwise. Writes nothing."
	}
	fs := newCommand(name, usage)
	config := fs.String("config", "", "the ModelPerformanceMetrics config (step07.yaml)")
	out := fs.String("out", "", "the tree folder")
	execPath := fs.String("krm-exec-path", tree.DefaultExecPath, "exec path of step07gen written into krm/step07.yaml, relative to the krm folder")
	if code, ok := fs.parse(args, stdout, stderr); !ok {
		return code
	}
	var problems []string
	if *config == "" {
		problems = append(problems, "--config: required (the step07.yaml to read)")
	}
	if *out == "" {
		problems = append(problems, "--out: required (the tree folder to write)")
	}
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Sprintf("unexpected arguments %q", fs.Args()))
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "step07gen %s: %s\n", name, strings.Join(problems, "\nstep07gen "+name+": "))
		return exitUsage
	}
	c, raw, ok := loadConfig(*config, stderr)
	if !ok {
		return exitUsage
	}
	files, err := tree.Files(c, raw, tree.Options{ExecPath: *execPath})
	if err != nil {
		fmt.Fprintf(stderr, "step07gen: %v\n", err)
		return exitFail
	}
	if diffOnly {
		changes, err := tree.Plan(*out, files)
		if err != nil {
			fmt.Fprintf(stderr, "step07gen diff: %v\n", err)
			return exitFail
		}
		if len(changes) == 0 {
			return exitOK
		}
		fmt.Fprint(stdout, tree.Unified(changes))
		fmt.Fprintf(stderr, "step07gen diff: %d file(s) differ in %s; run step07gen generate (make generate)\n", len(changes), *out)
		return exitFail
	}
	changes, err := tree.Write(*out, files)
	if err != nil {
		fmt.Fprintf(stderr, "step07gen generate: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stderr, "step07gen: %s: %d files, %d changed\n", *out, len(files), len(changes))
	return exitOK
}

func fn(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newCommand("fn", "step07gen fn FILE\n\nPrints the objects generated from FILE as one YAML stream (what ArgoCD's\nplugin applies). Without FILE, reads a ResourceList on stdin (the KRM function).")
	if code, ok := fs.parse(args, stdout, stderr); !ok {
		return code
	}
	switch fs.NArg() {
	case 0:
		return krmFunction(stdin, stdout, stderr)
	case 1:
	default:
		fmt.Fprintf(stderr, "step07gen fn: want one config file, got %d arguments\n", fs.NArg())
		return exitUsage
	}
	c, _, ok := loadConfig(fs.Arg(0), stderr)
	if !ok {
		return exitUsage
	}
	objs, err := generators.Objects(c)
	if err != nil {
		fmt.Fprintf(stderr, "step07gen: %v\n", err)
		return exitFail
	}
	b, err := manifest.Stream(objs)
	if err != nil {
		fmt.Fprintf(stderr, "step07gen: %v\n", err)
		return exitFail
	}
	if _, err := stdout.Write(b); err != nil {
		return exitFail
	}
	return exitOK
}

// krmFunction runs the KRM function. The ResourceList goes to stdout whole
// or not at all: on success with the generated items; when the function
// fails, as it came, with the errors in its results (kpt reads them; the
// exit status and stderr say the same to kustomize); nothing when the input
// was not a ResourceList.
func krmFunction(stdin io.Reader, stdout, stderr io.Writer) int {
	var buf bytes.Buffer
	rw := &kio.ByteReadWriter{Reader: stdin, Writer: &buf, KeepReaderAnnotations: true}
	if err := framework.Execute(framework.ResourceListProcessorFunc(krm.Process), rw); err != nil {
		stdout.Write(buf.Bytes())
		var errs v1alpha1.Errors
		if errors.As(err, &errs) {
			printConfigError(stderr, "functionConfig", err)
			return exitUsage
		}
		fmt.Fprintf(stderr, "step07gen: KRM function: %v\n", err)
		return exitFail
	}
	if _, err := stdout.Write(buf.Bytes()); err != nil {
		return exitFail
	}
	return exitOK
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
