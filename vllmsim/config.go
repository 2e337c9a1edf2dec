package vllmsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"sigs.k8s.io/yaml"
)

// Config holds every setting of the simulator; each field has a flag of
// the same meaning in cmd/vllm-sim. Start from DefaultConfig or Profile and
// change what you need: the zero Config is not valid.
type Config struct {
	// Model is the served model name (vLLM's --served-model-name).
	Model string `json:"model"`
	// Listen and DCGMListen are used only by Run: the API address and the
	// DCGM exporter address ("" disables the exporter).
	Listen     string `json:"listen"`
	DCGMListen string `json:"dcgmListen"`

	// MaxModelLen bounds prompt + max_tokens, as vLLM's --max-model-len.
	MaxModelLen int `json:"maxModelLen"`
	// MaxNumSeqs is the most sequences in the running batch.
	MaxNumSeqs int `json:"maxNumSeqs"`
	// KVCacheTokens is the KV cache capacity in tokens (rounded down to blocks).
	KVCacheTokens int `json:"kvCacheTokens"`
	// BlockSize is the KV cache block size in tokens (16, as vLLM).
	BlockSize int `json:"blockSize"`
	// MaxBatchedTokens is the prefill token budget of one iteration; longer
	// prompts are prefilled in chunks over several iterations.
	MaxBatchedTokens int `json:"maxBatchedTokens"`
	// An iteration lasts (IterFixed + PerPrefillToken × prefill tokens +
	// PerDecodeSeq × decoding sequences) × TimeScale.
	IterFixed       time.Duration `json:"iterFixed"`
	PerPrefillToken time.Duration `json:"perPrefillToken"`
	PerDecodeSeq    time.Duration `json:"perDecodeSeq"`
	// TimeScale multiplies every modelled duration of the engine
	// (IterFixed, PerPrefillToken and PerDecodeSeq, in fixed-latency mode
	// too): 0.1 runs the same model ten times faster, every latency 0.1×
	// and every rate 10×, while the concurrency at which the server
	// saturates does not change. It must be within (0, 100]; DefaultConfig
	// and every profile set 1. The fields above stay the configured costs;
	// the engine applies the scale (Config.effective).
	TimeScale float64 `json:"timeScale"`
	// FixedLatency turns batching effects off: every sequence runs on its
	// own clock as if alone on the GPU (TTFT = IterFixed + PerPrefillToken ×
	// prompt tokens, then one token per IterFixed + PerDecodeSeq), whatever
	// the load. Admission still obeys MaxNumSeqs and the KV cache.
	FixedLatency bool `json:"fixedLatency"`
	// MeanOutputTokens is the mean natural output length of a request that
	// does not set ignore_eos: lengths are drawn from a geometric
	// distribution (seeded) and clamped to [min_tokens, max_tokens].
	// 0 means never stop early.
	MeanOutputTokens int `json:"meanOutputTokens"`
	// PrefixCaching lets full prompt blocks seen before skip prefill compute
	// (vLLM V1's automatic prefix caching) and feeds the prefix cache counters.
	// A finished request's blocks are cached with its answer, so the next
	// turn of a conversation, which resends it, hits them too.
	PrefixCaching bool `json:"prefixCaching"`

	// GPUs is the number of simulated GPUs (tensor parallel size).
	GPUs int `json:"gpus"`
	// GPUModelName, GPUMemoryMiB, GPUIdleWatts and GPUMaxWatts describe each
	// simulated GPU for the DCGM metrics.
	GPUModelName string  `json:"gpuModelName"`
	GPUMemoryMiB int     `json:"gpuMemoryMiB"`
	GPUIdleWatts float64 `json:"gpuIdleWatts"`
	GPUMaxWatts  float64 `json:"gpuMaxWatts"`
	// GPUMemoryUtilization is the fraction of GPU memory vLLM reserves at
	// start (weights + KV pool), hence DCGM_FI_DEV_FB_USED.
	GPUMemoryUtilization float64 `json:"gpuMemoryUtilization"`
	// Hostname, Pod, Namespace and Container label the DCGM series; an
	// empty Pod becomes "<model>-predictor-0", an empty Hostname the host's name.
	Hostname  string `json:"hostname"`
	Pod       string `json:"pod"`
	Namespace string `json:"namespace"`
	Container string `json:"container"`

	// Seed makes output lengths, output text and faults reproducible.
	Seed int64 `json:"seed"`
	// MetricsCompat is "v1" (current vLLM names) or "v0" (older names:
	// gpu_cache_usage_perc, time_per_output_token_seconds, gpu_prefix_cache_*,
	// no engine label).
	MetricsCompat string `json:"metricsCompat"`
	// Faults are the initial fault settings; POST /admin/faults changes them.
	Faults Faults `json:"faults"`
}

// Faults are injected failures. Rates are probabilities per request (0..1),
// drawn from the seeded fault RNG.
type Faults struct {
	// ErrorRate answers a request at once with one of ErrorCodes (chosen
	// uniformly; default 500) and an OpenAI-style error body.
	ErrorRate  float64 `json:"error_rate"`
	ErrorCodes []int   `json:"error_codes,omitempty"`
	// DisconnectRate cuts the connection after a random part of the stream
	// (or before a non-streaming response); the request counts as aborted.
	DisconnectRate float64 `json:"disconnect_rate"`
	// StallRate pauses a stream for StallSeconds at a random token.
	StallRate    float64 `json:"stall_rate"`
	StallSeconds float64 `json:"stall_seconds"`
	// StartupDelaySeconds makes /health and the API answer 503 for that long
	// after start (or, set at runtime, after the change).
	StartupDelaySeconds float64 `json:"startup_delay_seconds"`
	// MaxWaiting answers 429 when this many requests already wait (0: no limit).
	MaxWaiting int `json:"max_waiting"`
}

// Validate reports the first problem with the fault settings.
func (f Faults) Validate() error {
	for name, r := range map[string]float64{"error_rate": f.ErrorRate, "disconnect_rate": f.DisconnectRate, "stall_rate": f.StallRate} {
		if r < 0 || r > 1 {
			return fmt.Errorf("%s must be within 0..1, got %g", name, r)
		}
	}
	for _, c := range f.ErrorCodes {
		if c < 400 || c > 599 {
			return fmt.Errorf("error_codes: %d is not an HTTP error status", c)
		}
	}
	if f.StallSeconds < 0 || f.StartupDelaySeconds < 0 || f.MaxWaiting < 0 {
		return errors.New("stall_seconds, startup_delay_seconds and max_waiting must not be negative")
	}
	return nil
}

// DefaultConfig is a small single-GPU server: a decode iteration of ~12-15 ms
// with a few sequences (a 128-token answer takes ~1.6-2 s), a KV cache large
// enough never to be the limit for short workloads, vLLM's default
// max-num-seqs of 256.
func DefaultConfig() Config {
	return Config{
		Model:                "vllm-sim",
		Listen:               "127.0.0.1:8000",
		MaxModelLen:          32768,
		MaxNumSeqs:           256,
		KVCacheTokens:        262144,
		BlockSize:            16,
		MaxBatchedTokens:     2048,
		IterFixed:            12 * time.Millisecond,
		PerPrefillToken:      40 * time.Microsecond,
		PerDecodeSeq:         400 * time.Microsecond,
		TimeScale:            1,
		MeanOutputTokens:     512,
		PrefixCaching:        true,
		GPUs:                 1,
		GPUModelName:         "NVIDIA H100 80GB HBM3",
		GPUMemoryMiB:         81559,
		GPUIdleWatts:         70,
		GPUMaxWatts:          700,
		GPUMemoryUtilization: 0.9,
		Namespace:            "private-ai",
		Container:            "kserve-container",
		Seed:                 1,
		MetricsCompat:        "v1",
	}
}

// profiles are illustrative presets, not measurements. In workload A
// (256 in / 128 out) an iteration lasts about F + C×(2×prefill + decode)
// at concurrency C, so reading speed falls below 20 tokens/s (50 ms per
// token) at C≈60 for BF16 on 4 GPUs but at C≈26 for INT4 on 1 GPU, whose
// small KV cache also fills near there: INT4 saturates at a lower total
// concurrency yet serves more users per GPU (≈26 vs ≈15).
var profiles = map[string]func(Config) Config{
	"mistral-bf16-tp4": func(c Config) Config {
		c.Model = "mistral-3-bf16"
		c.GPUs = 4
		c.KVCacheTokens = 262144
		c.MaxBatchedTokens = 8192
		c.IterFixed = 6 * time.Millisecond
		c.PerPrefillToken = 10 * time.Microsecond
		c.PerDecodeSeq = 700 * time.Microsecond
		return c
	},
	"mistral-int4-tp1": func(c Config) Config {
		c.Model = "mistral-3-int4"
		c.GPUs = 1
		c.KVCacheTokens = 10240
		c.MaxBatchedTokens = 2048
		c.IterFixed = 10 * time.Millisecond
		c.PerPrefillToken = 60 * time.Microsecond
		c.PerDecodeSeq = 1400 * time.Microsecond
		return c
	},
	// fixed-latency has no batching effects, for checking a load
	// generator's measurements: TTFT 20 ms + 40 µs per prompt token, then
	// one token every 20 ms, at any load up to 100000 streams.
	"fixed-latency": func(c Config) Config {
		c.Model = "fixed-latency"
		c.FixedLatency = true
		c.MaxNumSeqs = 100000
		c.KVCacheTokens = 1 << 34
		c.IterFixed = 20 * time.Millisecond
		c.PerPrefillToken = 40 * time.Microsecond
		c.PerDecodeSeq = 0
		c.PrefixCaching = false
		return c
	},
}

// ProfileNames lists the built-in profiles, sorted.
func ProfileNames() []string {
	names := make([]string, 0, len(profiles))
	for n := range profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Profile returns DefaultConfig changed by the named preset ("default" is
// DefaultConfig itself).
func Profile(name string) (Config, error) {
	if name == "" || name == "default" {
		return DefaultConfig(), nil
	}
	p, ok := profiles[name]
	if !ok {
		return Config{}, fmt.Errorf("unknown profile %q: use one of %s", name, strings.Join(ProfileNames(), ", "))
	}
	return p(DefaultConfig()), nil
}

// fileProfile is the on-disk form: every field optional, durations as Go
// duration strings ("12ms"), starting from the preset named by Profile.
type fileProfile struct {
	Profile              string   `json:"profile"`
	Model                *string  `json:"model"`
	MaxModelLen          *int     `json:"maxModelLen"`
	MaxNumSeqs           *int     `json:"maxNumSeqs"`
	KVCacheTokens        *int     `json:"kvCacheTokens"`
	BlockSize            *int     `json:"blockSize"`
	MaxBatchedTokens     *int     `json:"maxBatchedTokens"`
	IterFixed            *string  `json:"iterFixed"`
	PerPrefillToken      *string  `json:"perPrefillToken"`
	PerDecodeSeq         *string  `json:"perDecodeSeq"`
	TimeScale            *float64 `json:"timeScale"`
	FixedLatency         *bool    `json:"fixedLatency"`
	MeanOutputTokens     *int     `json:"meanOutputTokens"`
	PrefixCaching        *bool    `json:"prefixCaching"`
	GPUs                 *int     `json:"gpus"`
	GPUModelName         *string  `json:"gpuModelName"`
	GPUMemoryMiB         *int     `json:"gpuMemoryMiB"`
	GPUIdleWatts         *float64 `json:"gpuIdleWatts"`
	GPUMaxWatts          *float64 `json:"gpuMaxWatts"`
	GPUMemoryUtilization *float64 `json:"gpuMemoryUtilization"`
	Seed                 *int64   `json:"seed"`
	MetricsCompat        *string  `json:"metricsCompat"`
	Faults               *Faults  `json:"faults"`
}

// LoadProfileFile reads a profile from YAML or JSON. Keys are the Config
// JSON names; durations are strings such as "12ms"; "profile" names the
// preset to start from (default: DefaultConfig). Unknown keys are errors.
func LoadProfileFile(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	var fp fileProfile
	if err := yaml.UnmarshalStrict(data, &fp); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	c, err := Profile(fp.Profile)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	set := func(dst *int, src *int) {
		if src != nil {
			*dst = *src
		}
	}
	if fp.Model != nil {
		c.Model = *fp.Model
	}
	set(&c.MaxModelLen, fp.MaxModelLen)
	set(&c.MaxNumSeqs, fp.MaxNumSeqs)
	set(&c.KVCacheTokens, fp.KVCacheTokens)
	set(&c.BlockSize, fp.BlockSize)
	set(&c.MaxBatchedTokens, fp.MaxBatchedTokens)
	set(&c.MeanOutputTokens, fp.MeanOutputTokens)
	set(&c.GPUs, fp.GPUs)
	set(&c.GPUMemoryMiB, fp.GPUMemoryMiB)
	for _, d := range []struct {
		dst *time.Duration
		src *string
		key string
	}{{&c.IterFixed, fp.IterFixed, "iterFixed"}, {&c.PerPrefillToken, fp.PerPrefillToken, "perPrefillToken"}, {&c.PerDecodeSeq, fp.PerDecodeSeq, "perDecodeSeq"}} {
		if d.src == nil {
			continue
		}
		v, err := time.ParseDuration(*d.src)
		if err != nil {
			return Config{}, fmt.Errorf("%s: %s: %w", path, d.key, err)
		}
		*d.dst = v
	}
	if fp.TimeScale != nil {
		c.TimeScale = *fp.TimeScale
	}
	if fp.FixedLatency != nil {
		c.FixedLatency = *fp.FixedLatency
	}
	if fp.PrefixCaching != nil {
		c.PrefixCaching = *fp.PrefixCaching
	}
	if fp.GPUModelName != nil {
		c.GPUModelName = *fp.GPUModelName
	}
	if fp.GPUIdleWatts != nil {
		c.GPUIdleWatts = *fp.GPUIdleWatts
	}
	if fp.GPUMaxWatts != nil {
		c.GPUMaxWatts = *fp.GPUMaxWatts
	}
	if fp.GPUMemoryUtilization != nil {
		c.GPUMemoryUtilization = *fp.GPUMemoryUtilization
	}
	if fp.Seed != nil {
		c.Seed = *fp.Seed
	}
	if fp.MetricsCompat != nil {
		c.MetricsCompat = *fp.MetricsCompat
	}
	if fp.Faults != nil {
		c.Faults = *fp.Faults
	}
	return c, c.Validate()
}

// Validate reports every problem with the settings at once.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(strings.TrimSpace(c.Model) != "" && utf8.ValidString(c.Model), "model must be a non-empty UTF-8 name")
	check(c.MaxModelLen > 0, "max-model-len must be positive")
	check(c.MaxNumSeqs > 0, "max-num-seqs must be positive")
	check(c.BlockSize > 0, "block-size must be positive")
	check(c.BlockSize <= 0 || c.KVCacheTokens >= c.BlockSize, "kv-cache-tokens must hold at least one block")
	check(c.MaxBatchedTokens > 0, "max-batched-tokens must be positive")
	check(c.IterFixed >= 0 && c.PerPrefillToken >= 0 && c.PerDecodeSeq >= 0, "iteration costs must not be negative")
	check(c.FixedLatency || c.IterFixed+c.PerPrefillToken+c.PerDecodeSeq > 0, "iteration costs must not all be zero")
	check(!c.FixedLatency || c.IterFixed+c.PerDecodeSeq > 0, "fixed latency needs a positive per-token time (iter-fixed + per-decode-seq)")
	check(c.TimeScale > 0 && c.TimeScale <= 100, "time-scale must be within (0, 100], got %g", c.TimeScale)
	check(c.MeanOutputTokens >= 0, "mean-output-tokens must not be negative")
	check(c.GPUs > 0, "gpus must be positive")
	check(c.GPUMemoryMiB > 0, "gpu-memory-mib must be positive")
	check(c.GPUIdleWatts >= 0 && c.GPUMaxWatts >= c.GPUIdleWatts, "gpu watts: need 0 <= idle <= max")
	check(c.GPUMemoryUtilization > 0 && c.GPUMemoryUtilization <= 1, "gpu-memory-utilization must be within (0, 1]")
	check(c.MetricsCompat == "v1" || c.MetricsCompat == "v0", "metrics-compat must be v1 or v0, got %q", c.MetricsCompat)
	if err := c.Faults.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// effective returns the config the engine runs: the modelled durations
// multiplied by TimeScale (rounded to the nanosecond). It is the only place
// the scale is applied.
func (c Config) effective() Config {
	scale := func(d time.Duration) time.Duration { return time.Duration(math.Round(float64(d) * c.TimeScale)) }
	c.IterFixed = scale(c.IterFixed)
	c.PerPrefillToken = scale(c.PerPrefillToken)
	c.PerDecodeSeq = scale(c.PerDecodeSeq)
	return c
}

// String renders the config as JSON, for logs.
func (c Config) String() string {
	b, _ := json.Marshal(c)
	return string(b)
}
