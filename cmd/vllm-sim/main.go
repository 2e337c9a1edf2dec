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

// options are the flags that are not fields of the Config.
type options struct {
	profile, profileFile string
	version, help        bool
}

// flagSet defines vllm-sim's flags, each bound to its field of cfg with
// cfg's value as the default: parsed over a loaded profile, a flag that is
// given replaces the profile's value and one that is not leaves it.
func flagSet(cfg *vllmsim.Config, o *options) *pflag.FlagSet {
	fs := pflag.NewFlagSet("vllm-sim", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.profile, "profile", "", "preset: "+strings.Join(vllmsim.ProfileNames(), ", ")+" (illustrative numbers)")
	fs.StringVar(&o.profileFile, "profile-file", "", "load the profile from a YAML or JSON file (keys as in vllmsim.Config)")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.BoolVarP(&o.help, "help", "h", false, "show this help")
	fs.StringVar(&cfg.Listen, "listen", cfg.Listen, "API address (OpenAI API, /metrics, /health, /tokenize, /admin/faults)")
	fs.StringVar(&cfg.DCGMListen, "dcgm-listen", cfg.DCGMListen, `DCGM exporter address, e.g. 127.0.0.1:9400 ("" = off)`)
	fs.StringVar(&cfg.Model, "model", cfg.Model, "served model name")
	fs.IntVar(&cfg.MaxModelLen, "max-model-len", cfg.MaxModelLen, "maximum prompt + output tokens")
	fs.IntVar(&cfg.MaxNumSeqs, "max-num-seqs", cfg.MaxNumSeqs, "maximum sequences in the running batch")
	fs.IntVar(&cfg.KVCacheTokens, "kv-cache-tokens", cfg.KVCacheTokens, "KV cache capacity in tokens")
	fs.IntVar(&cfg.BlockSize, "block-size", cfg.BlockSize, "KV cache block size in tokens")
	fs.IntVar(&cfg.MaxBatchedTokens, "max-batched-tokens", cfg.MaxBatchedTokens, "prefill token budget per iteration")
	fs.DurationVar(&cfg.IterFixed, "iter-fixed", cfg.IterFixed, "fixed cost of one engine iteration")
	fs.DurationVar(&cfg.PerPrefillToken, "per-prefill-token", cfg.PerPrefillToken, "iteration cost per prefilled token")
	fs.DurationVar(&cfg.PerDecodeSeq, "per-decode-seq", cfg.PerDecodeSeq, "iteration cost per decoding sequence")
	fs.Float64Var(&cfg.TimeScale, "time-scale", cfg.TimeScale, "multiply every modelled duration by F (0 < F <= 100): 0.1 runs the same model 10x faster")
	fs.BoolVar(&cfg.FixedLatency, "fixed-latency", cfg.FixedLatency, "no batching effects: each sequence runs as if alone")
	fs.IntVar(&cfg.MeanOutputTokens, "mean-output-tokens", cfg.MeanOutputTokens, "mean natural output length without ignore_eos (0 = never stop early)")
	fs.BoolVar(&cfg.PrefixCaching, "prefix-caching", cfg.PrefixCaching, "reuse cached prompt blocks")
	fs.IntVar(&cfg.GPUs, "gpus", cfg.GPUs, "simulated GPUs (tensor parallel size)")
	fs.StringVar(&cfg.GPUModelName, "gpu-model-name", cfg.GPUModelName, "DCGM modelName label")
	fs.IntVar(&cfg.GPUMemoryMiB, "gpu-memory-mib", cfg.GPUMemoryMiB, "memory per GPU in MiB")
	fs.Float64Var(&cfg.GPUIdleWatts, "gpu-idle-watts", cfg.GPUIdleWatts, "power of an idle GPU")
	fs.Float64Var(&cfg.GPUMaxWatts, "gpu-max-watts", cfg.GPUMaxWatts, "power of a fully busy GPU")
	fs.Float64Var(&cfg.GPUMemoryUtilization, "gpu-memory-utilization", cfg.GPUMemoryUtilization, "fraction of GPU memory reserved at start")
	fs.StringVar(&cfg.Hostname, "hostname", cfg.Hostname, "DCGM Hostname label (default: this host)")
	fs.StringVar(&cfg.Pod, "pod", cfg.Pod, `DCGM pod label (default "<model>-predictor-0")`)
	fs.StringVar(&cfg.Namespace, "namespace", cfg.Namespace, "DCGM namespace label")
	fs.StringVar(&cfg.Container, "container", cfg.Container, "DCGM container label")
	fs.Int64Var(&cfg.Seed, "seed", cfg.Seed, "seed for output lengths, text and faults")
	fs.StringVar(&cfg.MetricsCompat, "metrics-compat", cfg.MetricsCompat, "metric names: v1 (current) or v0 (older vLLM)")
	f := &cfg.Faults
	fs.Float64Var(&f.ErrorRate, "error-rate", f.ErrorRate, "fraction of requests answered with an error")
	fs.IntSliceVar(&f.ErrorCodes, "error-codes", f.ErrorCodes, "status codes for injected errors (default 500), e.g. 429,500,503")
	fs.Float64Var(&f.DisconnectRate, "disconnect-rate", f.DisconnectRate, "fraction of requests whose connection is cut mid-stream")
	fs.Float64Var(&f.StallRate, "stall-rate", f.StallRate, "fraction of streams that pause once")
	fs.Float64Var(&f.StallSeconds, "stall-seconds", f.StallSeconds, "length of a stall in seconds")
	fs.Float64Var(&f.StartupDelaySeconds, "startup-delay-seconds", f.StartupDelaySeconds, "seconds during which /health and the API answer 503")
	fs.IntVar(&f.MaxWaiting, "max-waiting", f.MaxWaiting, "answer 429 when this many requests wait (0 = no limit)")
	fs.SortFlags = false
	return fs
}

// parse builds the Config: the profile (or profile file), then every flag
// given on the command line on top of it. The command line is parsed twice:
// once over the defaults, for --help (which shows them), the errors and
// the profile to load; then over the loaded profile, whose fields the flags
// are bound to.
func parse(args []string, stdout io.Writer) (vllmsim.Config, bool, error) {
	defaults := vllmsim.DefaultConfig()
	var o options
	fs := flagSet(&defaults, &o)
	if err := fs.Parse(args); err != nil {
		return vllmsim.Config{}, false, fmt.Errorf("%w: %v", errUsage, err)
	}
	if o.help {
		fmt.Fprintf(stdout, "Usage: vllm-sim [flags]\n\nA simulated vLLM server. A profile sets the defaults; flags given override it.\n\n%s", fs.FlagUsages())
		return vllmsim.Config{}, true, nil
	}
	if o.version {
		fmt.Fprintf(stdout, "vllm-sim %s\n", version)
		return vllmsim.Config{}, true, nil
	}
	if fs.NArg() > 0 {
		return vllmsim.Config{}, false, fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	if o.profile != "" && o.profileFile != "" {
		return vllmsim.Config{}, false, fmt.Errorf("%w: --profile and --profile-file are exclusive", errUsage)
	}
	cfg, err := vllmsim.Profile(o.profile)
	if o.profileFile != "" {
		cfg, err = vllmsim.LoadProfileFile(o.profileFile)
	}
	if err != nil {
		return vllmsim.Config{}, false, fmt.Errorf("%w: %v", errUsage, err)
	}
	if err := flagSet(&cfg, &options{}).Parse(args); err != nil {
		return vllmsim.Config{}, false, fmt.Errorf("%w: %v", errUsage, err)
	}
	if err := cfg.Validate(); err != nil {
		return vllmsim.Config{}, false, fmt.Errorf("%w: %v", errUsage, err)
	}
	return cfg, false, nil
}
