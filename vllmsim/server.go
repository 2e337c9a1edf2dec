package vllmsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Version is reported by GET /version; cmd/vllm-sim sets it at build time.
var Version = "dev"

// Server is a running simulator: one engine goroutine drives iterations in
// real time; HTTP handlers queue requests and stream the tokens it publishes.
type Server struct {
	cfg       Config
	modelJSON []byte
	created   int64

	mu     sync.Mutex // guards eng and lenRNG
	eng    *engine
	lenRNG *rand.Rand

	wake   chan struct{}
	closed chan struct{}
	done   chan struct{}
	once   sync.Once
	busy   atomic.Int64 // cumulative engine busy time, ns
	nextID atomic.Uint64

	m       *metrics
	gpu     *gpuState
	dcgmReg *prometheus.Registry

	faultMu        sync.Mutex // guards faults, faultRNG, unhealthyUntil
	faults         Faults
	faultRNG       *rand.Rand
	unhealthyUntil time.Time

	handler http.Handler
}

// New validates cfg, fills label defaults (Pod "<model>-predictor-0",
// Hostname from the OS) and starts the engine. Call Close when done.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Pod == "" {
		cfg.Pod = cfg.Model + "-predictor-0"
	}
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
	}
	mj, err := json.Marshal(cfg.Model)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	seed := uint64(cfg.Seed)
	s := &Server{
		cfg:            cfg,
		modelJSON:      mj,
		created:        now.Unix(),
		lenRNG:         rand.New(rand.NewPCG(seed, 0x6c656e)),
		faultRNG:       rand.New(rand.NewPCG(seed, 0x6661756c74)),
		wake:           make(chan struct{}, 1),
		closed:         make(chan struct{}),
		done:           make(chan struct{}),
		gpu:            &gpuState{},
		faults:         cfg.Faults,
		unhealthyUntil: now.Add(secondsDur(cfg.Faults.StartupDelaySeconds)),
	}
	s.m = newMetrics(cfg, s)
	s.eng = newEngine(cfg, s.m)
	s.dcgmReg = prometheus.NewRegistry()
	s.dcgmReg.MustRegister(newDCGMCollector(cfg, s.gpu))
	s.handler = s.routes()
	s.gpu.sample(cfg, now, 0, 0)
	go s.loop()
	go s.sampleGPUs()
	return s, nil
}

// Config returns the configuration with defaults filled in: the configured
// costs and TimeScale (the engine runs the costs multiplied by the scale).
func (s *Server) Config() Config { return s.cfg }

// Handler serves the OpenAI API, /metrics, /health, /tokenize, /version
// and /admin/faults.
func (s *Server) Handler() http.Handler { return s.handler }

// DCGMHandler serves the DCGM-exporter-like GPU metrics (its own listener
// in production, as the exporter is a separate service).
func (s *Server) DCGMHandler() http.Handler {
	return promhttp.HandlerFor(s.dcgmReg, promhttp.HandlerOpts{})
}

// Close stops the engine; streams in progress end without [DONE].
func (s *Server) Close() {
	s.once.Do(func() { close(s.closed) })
	<-s.done
}

// Faults returns the current fault settings.
func (s *Server) Faults() Faults {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return s.faults
}

// SetFaults replaces the fault settings; a positive StartupDelaySeconds
// makes the server unhealthy for that long from now.
func (s *Server) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = f
	if f.StartupDelaySeconds > 0 {
		s.unhealthyUntil = time.Now().Add(secondsDur(f.StartupDelaySeconds))
	}
	return nil
}

func secondsDur(sec float64) time.Duration { return time.Duration(sec * float64(time.Second)) }

func (s *Server) starting() bool {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return time.Now().Before(s.unhealthyUntil)
}

// gauges for the metrics registry, read at scrape time.
func (s *Server) running() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return float64(s.eng.numRunning())
}
func (s *Server) waiting() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return float64(s.eng.numWaiting())
}
func (s *Server) kvUsage() float64 { s.mu.Lock(); defer s.mu.Unlock(); return s.eng.kvUsage() }

func (s *Server) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// maxTimerDebt bounds the timer overshoot the engine loop repays.
const maxTimerDebt = 5 * time.Millisecond

// loop is the engine goroutine: begin an iteration, sleep for its
// duration, end it, repeat; block while idle. In fixed-latency mode a new
// arrival interrupts the sleep so its own clock starts at once.
//
// A sleep ends late (timer slack; an idle Go process rounds sleeps below a
// millisecond up to one), which at a small --time-scale would make every
// iteration longer than the model says: at 0.05 a 0.57 ms iteration took
// 1.1 ms, and the INT4 profile ran at half its modelled speed. So while the
// engine runs iterations back to back, the overshoot is carried as a debt
// and taken off the next sleeps: iterations keep the model's length on
// average. The debt is bounded (maxTimerDebt); an idle engine forgets it.
func (s *Server) loop() {
	defer close(s.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var debt time.Duration
	for {
		start := time.Now()
		s.mu.Lock()
		it, ok := s.eng.begin(start)
		s.mu.Unlock()
		if !ok {
			debt = 0
			select {
			case <-s.wake:
				continue
			case <-s.closed:
				return
			}
		}
		sleep := it.Duration
		if !s.cfg.FixedLatency {
			repay := min(debt, sleep)
			sleep -= repay
			debt -= repay
		}
		timer.Reset(sleep)
	wait:
		for {
			select {
			case <-timer.C:
				break wait
			case <-s.wake:
				if s.cfg.FixedLatency {
					timer.Stop()
					break wait
				}
			case <-s.closed:
				timer.Stop()
				return
			}
		}
		now := time.Now()
		if late := now.Sub(start) - sleep; late > 0 && !s.cfg.FixedLatency {
			debt = min(debt+late, maxTimerDebt)
		}
		s.mu.Lock()
		s.eng.end(now)
		s.mu.Unlock()
		s.busy.Add(int64(now.Sub(start)))
	}
}

// sampleGPUs advances the simulated GPU state a few times a second.
func (s *Server) sampleGPUs() {
	t := time.NewTicker(gpuSamplePeriod)
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			s.gpu.sample(s.cfg, now, time.Duration(s.busy.Load()), int(s.running()))
		case <-s.closed:
			return
		}
	}
}

// Run serves cfg.Listen (and cfg.DCGMListen when set) until ctx ends,
// then shuts down gracefully, giving streams in flight a few seconds.
// Listen errors are returned at once. It logs to logw.
func Run(ctx context.Context, cfg Config, logw io.Writer) error {
	s, err := New(cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	cfg = s.Config()
	type srv struct {
		name string
		h    *http.Server
		ln   net.Listener
	}
	var servers []srv
	add := func(name, addr string, h http.Handler) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		servers = append(servers, srv{name, &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, ln})
		fmt.Fprintf(logw, "vllm-sim: %s listening on http://%s\n", name, ln.Addr())
		return nil
	}
	closeAll := func() {
		for _, v := range servers {
			_ = v.ln.Close()
		}
	}
	if err := add("api", cfg.Listen, s.Handler()); err != nil {
		return err
	}
	if cfg.DCGMListen != "" {
		if err := add("dcgm", cfg.DCGMListen, s.DCGMHandler()); err != nil {
			closeAll()
			return err
		}
	}
	fmt.Fprintf(logw, "vllm-sim: serving model %q, time scale %g: %s\n", cfg.Model, cfg.TimeScale, cfg)
	errc := make(chan error, len(servers))
	for _, v := range servers {
		go func() {
			if err := v.h.Serve(v.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("%s: %w", v.name, err)
			}
		}()
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, v := range servers {
		if err := v.h.Shutdown(sctx); err != nil {
			_ = v.h.Close()
		}
	}
	fmt.Fprintln(logw, "vllm-sim: stopped")
	return runErr
}

// admission is what the handler knows about a request before queueing it.
type admission struct {
	prompt     int
	ids        []int
	maxTokens  int
	minTokens  int
	ignoreEOS  bool
	stream     bool
	usage      bool
	chat       bool
	arrival    time.Time
	disconnect int // token index at which to cut the stream, -1 none
	stallAt    int // token index before which to pause, -1 none
	stall      time.Duration
}

// decideFaults draws this request's faults from the seeded fault RNG in a
// fixed order, so a seed reproduces them for a given arrival order.
func (s *Server) decideFaults(a *admission) (status int, maxWaiting int) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	f := s.faults
	r := s.faultRNG
	uErr, uDisc, uStall, uPos1, uPos2 := r.Float64(), r.Float64(), r.Float64(), r.Float64(), r.Float64()
	a.disconnect, a.stallAt = -1, -1
	if uErr < f.ErrorRate {
		codes := f.ErrorCodes
		if len(codes) == 0 {
			codes = []int{http.StatusInternalServerError}
		}
		return codes[int(uPos1*float64(len(codes)))%len(codes)], f.MaxWaiting
	}
	if uDisc < f.DisconnectRate {
		a.disconnect = int(uPos1 * float64(a.maxTokens))
	}
	if uStall < f.StallRate && f.StallSeconds > 0 {
		a.stallAt = int(uPos2 * float64(a.maxTokens))
		a.stall = secondsDur(f.StallSeconds)
	}
	return 0, f.MaxWaiting
}

// target draws the natural output length: max_tokens with ignore_eos,
// otherwise geometric with mean MeanOutputTokens, clamped to
// [min_tokens, max_tokens]; "stop" when it ends before max_tokens.
func (s *Server) target(a *admission) (int, string) {
	mean := s.cfg.MeanOutputTokens
	if a.ignoreEOS || mean <= 0 {
		return a.maxTokens, ReasonLength
	}
	s.mu.Lock()
	u := s.lenRNG.Float64()
	s.mu.Unlock()
	n := a.maxTokens
	if mean > 1 {
		// inverse CDF of a geometric distribution on 1, 2, ... with mean `mean`
		g := math.Ceil(math.Log1p(-u) / math.Log1p(-1/float64(mean)))
		if g >= 1 && g < float64(a.maxTokens) {
			n = int(g)
		}
	} else {
		n = 1
	}
	n = max(n, min(a.minTokens, a.maxTokens))
	if n >= a.maxTokens {
		return a.maxTokens, ReasonLength
	}
	return n, ReasonStop
}
