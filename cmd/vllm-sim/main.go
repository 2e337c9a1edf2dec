package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/rhoai-demo/step07/vllmsim"
)

// version is set with -ldflags "-X main.version=...".
var version = "dev"

// errUsage marks errors that exit 2.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	vllmsim.Version = version
	cfg, exit, err := parse(args, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "vllm-sim: %v\n", err)
		if errors.Is(err, errUsage) {
			fmt.Fprintln(stderr, "Run 'vllm-sim --help' for usage.")
			return 2
		}
		return 1
	}
	if exit {
		return 0
	}
	if err := vllmsim.Run(ctx, cfg, stderr); err != nil {
		fmt.Fprintf(stderr, "vllm-sim: %v\n", err)
		return 1
	}
	return 0
}

// parse builds the Config: the profile (or profile file), then every flag
// given on the command line on top of it.
func parse(args []string, stdout io.Writer) (vllmsim.Config, bool, error) {
	fs := pflag.NewFlagSet("vllm-sim", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := vllmsim.DefaultConfig()
	profile := fs.String("profile", "", "preset: "+strings.Join(vllmsim.ProfileNames(), ", ")+" (illustrative numbers)")
	profileFile := fs.String("profile-file", "", "load the profile from a YAML or JSON file (keys as in vllmsim.Config)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	help := fs.BoolP("help", "h", false, "show this help")
	fs.StringVar(&f.Listen, "listen", f.Listen, "API address (OpenAI API, /metrics, /health, /tokenize, /admin/faults)")
	fs.StringVar(&f.DCGMListen, "dcgm-listen", f.DCGMListen, `DCGM exporter address, e.g. 127.0.0.1:9400 ("" = off)`)
	fs.StringVar(&f.Model, "model", f.Model, "served model name")
	fs.IntVar(&f.MaxModelLen, "max-model-len", f.MaxModelLen, "maximum prompt + output tokens")
	fs.IntVar(&f.MaxNumSeqs, "max-num-seqs", f.MaxNumSeqs, "maximum sequences in the running batch")
	fs.IntVar(&f.KVCacheTokens, "kv-cache-tokens", f.KVCacheTokens, "KV cache capacity in tokens")
	fs.IntVar(&f.BlockSize, "block-size", f.BlockSize, "KV cache block size in tokens")
	fs.IntVar(&f.MaxBatchedTokens, "max-batched-tokens", f.MaxBatchedTokens, "prefill token budget per iteration")
	fs.DurationVar(&f.IterFixed, "iter-fixed", f.IterFixed, "fixed cost of one engine iteration")
	fs.DurationVar(&f.PerPrefillToken, "per-prefill-token", f.PerPrefillToken, "iteration cost per prefilled token")
	fs.DurationVar(&f.PerDecodeSeq, "per-decode-seq", f.PerDecodeSeq, "iteration cost per decoding sequence")
	fs.Float64Var(&f.TimeScale, "time-scale", f.TimeScale, "multiply every modelled duration by F (0 < F <= 100): 0.1 runs the same model 10x faster")
	fs.BoolVar(&f.FixedLatency, "fixed-latency", f.FixedLatency, "no batching effects: each sequence runs as if alone")
	fs.IntVar(&f.MeanOutputTokens, "mean-output-tokens", f.MeanOutputTokens, "mean natural output length without ignore_eos (0 = never stop early)")
	fs.BoolVar(&f.PrefixCaching, "prefix-caching", f.PrefixCaching, "reuse cached prompt blocks")
	fs.IntVar(&f.GPUs, "gpus", f.GPUs, "simulated GPUs (tensor parallel size)")
	fs.StringVar(&f.GPUModelName, "gpu-model-name", f.GPUModelName, "DCGM modelName label")
	fs.IntVar(&f.GPUMemoryMiB, "gpu-memory-mib", f.GPUMemoryMiB, "memory per GPU in MiB")
	fs.Float64Var(&f.GPUIdleWatts, "gpu-idle-watts", f.GPUIdleWatts, "power of an idle GPU")
	fs.Float64Var(&f.GPUMaxWatts, "gpu-max-watts", f.GPUMaxWatts, "power of a fully busy GPU")
	fs.Float64Var(&f.GPUMemoryUtilization, "gpu-memory-utilization", f.GPUMemoryUtilization, "fraction of GPU memory reserved at start")
	fs.StringVar(&f.Hostname, "hostname", f.Hostname, "DCGM Hostname label (default: this host)")
	fs.StringVar(&f.Pod, "pod", f.Pod, `DCGM pod label (default "<model>-predictor-0")`)
	fs.StringVar(&f.Namespace, "namespace", f.Namespace, "DCGM namespace label")
	fs.StringVar(&f.Container, "container", f.Container, "DCGM container label")
	fs.Int64Var(&f.Seed, "seed", f.Seed, "seed for output lengths, text and faults")
	fs.StringVar(&f.MetricsCompat, "metrics-compat", f.MetricsCompat, "metric names: v1 (current) or v0 (older vLLM)")
	fs.Float64Var(&f.Faults.ErrorRate, "error-rate", 0, "fraction of requests answered with an error")
	fs.IntSliceVar(&f.Faults.ErrorCodes, "error-codes", nil, "status codes for injected errors (default 500), e.g. 429,500,503")
	fs.Float64Var(&f.Faults.DisconnectRate, "disconnect-rate", 0, "fraction of requests whose connection is cut mid-stream")
	fs.Float64Var(&f.Faults.StallRate, "stall-rate", 0, "fraction of streams that pause once")
	fs.Float64Var(&f.Faults.StallSeconds, "stall-seconds", 0, "length of a stall in seconds")
	fs.Float64Var(&f.Faults.StartupDelaySeconds, "startup-delay-seconds", 0, "seconds during which /health and the API answer 503")
	fs.IntVar(&f.Faults.MaxWaiting, "max-waiting", 0, "answer 429 when this many requests wait (0 = no limit)")
	fs.SortFlags = false

	if err := fs.Parse(args); err != nil {
		return vllmsim.Config{}, false, fmt.Errorf("%w: %v", errUsage, err)
	}
	if *help {
		fmt.Fprintf(stdout, "Usage: vllm-sim [flags]\n\nA simulated vLLM server. A profile sets the defaults; flags given override it.\n\n%s", fs.FlagUsages())
		return vllmsim.Config{}, true, nil
	}
	if *showVersion {
		fmt.Fprintf(stdout, "vllm-sim %s\n", version)
		return vllmsim.Config{}, true, nil
	}
	if fs.NArg() > 0 {
		return vllmsim.Config{}, false, fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	if *profile != "" && *profileFile != "" {
		return vllmsim.Config{}, false, fmt.Errorf("%w: --profile and --profile-file are exclusive", errUsage)
	}
	cfg, err := vllmsim.Profile(*profile)
	if *profileFile != "" {
		cfg, err = vllmsim.LoadProfileFile(*profileFile)
	}
	if err != nil {
		return vllmsim.Config{}, false, fmt.Errorf("%w: %v", errUsage, err)
	}
	var unknown []string
	fs.Visit(func(fl *pflag.Flag) {
		if !override(&cfg, &f, fl.Name) {
			unknown = append(unknown, fl.Name)
		}
	})
	if len(unknown) > 0 {
		return vllmsim.Config{}, false, fmt.Errorf("internal: flags without a field: %v", unknown)
	}
	if err := cfg.Validate(); err != nil {
		return vllmsim.Config{}, false, fmt.Errorf("%w: %v", errUsage, err)
	}
	return cfg, false, nil
}

// override copies the field behind flag name from the parsed flags f into
// cfg; false for a flag that is not a Config field.
func override(cfg, f *vllmsim.Config, name string) bool {
	switch name {
	case "profile", "profile-file", "version", "help":
	case "listen":
		cfg.Listen = f.Listen
	case "dcgm-listen":
		cfg.DCGMListen = f.DCGMListen
	case "model":
		cfg.Model = f.Model
	case "max-model-len":
		cfg.MaxModelLen = f.MaxModelLen
	case "max-num-seqs":
		cfg.MaxNumSeqs = f.MaxNumSeqs
	case "kv-cache-tokens":
		cfg.KVCacheTokens = f.KVCacheTokens
	case "block-size":
		cfg.BlockSize = f.BlockSize
	case "max-batched-tokens":
		cfg.MaxBatchedTokens = f.MaxBatchedTokens
	case "iter-fixed":
		cfg.IterFixed = f.IterFixed
	case "per-prefill-token":
		cfg.PerPrefillToken = f.PerPrefillToken
	case "per-decode-seq":
		cfg.PerDecodeSeq = f.PerDecodeSeq
	case "time-scale":
		cfg.TimeScale = f.TimeScale
	case "fixed-latency":
		cfg.FixedLatency = f.FixedLatency
	case "mean-output-tokens":
		cfg.MeanOutputTokens = f.MeanOutputTokens
	case "prefix-caching":
		cfg.PrefixCaching = f.PrefixCaching
	case "gpus":
		cfg.GPUs = f.GPUs
	case "gpu-model-name":
		cfg.GPUModelName = f.GPUModelName
	case "gpu-memory-mib":
		cfg.GPUMemoryMiB = f.GPUMemoryMiB
	case "gpu-idle-watts":
		cfg.GPUIdleWatts = f.GPUIdleWatts
	case "gpu-max-watts":
		cfg.GPUMaxWatts = f.GPUMaxWatts
	case "gpu-memory-utilization":
		cfg.GPUMemoryUtilization = f.GPUMemoryUtilization
	case "hostname":
		cfg.Hostname = f.Hostname
	case "pod":
		cfg.Pod = f.Pod
	case "namespace":
		cfg.Namespace = f.Namespace
	case "container":
		cfg.Container = f.Container
	case "seed":
		cfg.Seed = f.Seed
	case "metrics-compat":
		cfg.MetricsCompat = f.MetricsCompat
	case "error-rate":
		cfg.Faults.ErrorRate = f.Faults.ErrorRate
	case "error-codes":
		cfg.Faults.ErrorCodes = f.Faults.ErrorCodes
	case "disconnect-rate":
		cfg.Faults.DisconnectRate = f.Faults.DisconnectRate
	case "stall-rate":
		cfg.Faults.StallRate = f.Faults.StallRate
	case "stall-seconds":
		cfg.Faults.StallSeconds = f.Faults.StallSeconds
	case "startup-delay-seconds":
		cfg.Faults.StartupDelaySeconds = f.Faults.StartupDelaySeconds
	case "max-waiting":
		cfg.Faults.MaxWaiting = f.Faults.MaxWaiting
	default:
		return false
	}
	return true
}
