package vllmsim

import (
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	vm "github.com/rhoai-demo/step07/api/vllmmetrics"
)

// gpuState is the simulated physical state of the GPUs, advanced by a
// sampler a few times a second: utilisation follows the engine's busy
// time and batch size, power follows utilisation, energy integrates
// power, temperature lags behind power.
type gpuState struct {
	mu       sync.Mutex
	last     time.Time
	lastBusy time.Duration
	active   float64 // DCGM_FI_PROF_GR_ENGINE_ACTIVE, 0..1
	util     float64 // DCGM_FI_DEV_GPU_UTIL, 0..100
	power    float64 // W per GPU
	energyMJ float64 // mJ per GPU since start
	temp     float64 // °C
}

const (
	gpuSamplePeriod = 200 * time.Millisecond
	idleTempC       = 32
	maxTempC        = 78
	idleSMClockMHz  = 345
	maxSMClockMHz   = 1980
)

// sample advances the state to now given the engine's cumulative busy
// time and current batch size.
func (g *gpuState) sample(cfg Config, now time.Time, busy time.Duration, running int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.last.IsZero() {
		g.last, g.lastBusy, g.temp, g.power = now, busy, idleTempC, cfg.GPUIdleWatts
		return
	}
	dt := now.Sub(g.last)
	if dt <= 0 {
		return
	}
	frac := math.Min(1, float64(busy-g.lastBusy)/float64(dt))
	ref := float64(min(cfg.MaxNumSeqs, 64))
	g.active = frac * (0.35 + 0.65*math.Min(1, float64(running)/ref))
	g.util = 100 * frac
	g.energyMJ += g.power * dt.Seconds() * 1000 // the power held over the window just ended
	g.power = cfg.GPUIdleWatts + (cfg.GPUMaxWatts-cfg.GPUIdleWatts)*g.active
	target := idleTempC + (maxTempC-idleTempC)*g.active
	g.temp += (target - g.temp) * (1 - math.Exp(-dt.Seconds()/20)) // ~20 s thermal lag
	g.last, g.lastBusy = now, busy
}

// dcgmCollector exposes gpuState per simulated GPU with the DCGM
// exporter's names and labels.
type dcgmCollector struct {
	cfg    Config
	g      *gpuState
	labels []string
	values [][]string // per GPU label values
	descs  map[string]*prometheus.Desc
}

var dcgmHelp = []struct{ name, help string }{
	{vm.DCGMSMClock, "SM clock frequency (in MHz)."},
	{vm.DCGMGPUTemp, "GPU temperature (in C)."},
	{vm.DCGMPowerUsage, "Power draw (in W)."},
	{vm.DCGMTotalEnergyConsumption, "Total energy consumption since boot (in mJ)."},
	{vm.DCGMGPUUtil, "GPU utilization (in %)."},
	{vm.DCGMFBFree, "Framebuffer memory free (in MiB)."},
	{vm.DCGMFBUsed, "Framebuffer memory used (in MiB)."},
	{vm.DCGMGREngineActive, "Ratio of time the graphics engine is active."},
}

func newDCGMCollector(cfg Config, g *gpuState) *dcgmCollector {
	c := &dcgmCollector{cfg: cfg, g: g, descs: map[string]*prometheus.Desc{},
		labels: []string{"gpu", "UUID", "device", "modelName", "Hostname", "container", "namespace", "pod"}}
	for _, d := range dcgmHelp {
		c.descs[d.name] = prometheus.NewDesc(d.name, d.help, c.labels, nil)
	}
	for i := 0; i < cfg.GPUs; i++ {
		c.values = append(c.values, []string{strconv.Itoa(i), gpuUUID(cfg, i), "nvidia" + strconv.Itoa(i),
			cfg.GPUModelName, cfg.Hostname, cfg.Container, cfg.Namespace, cfg.Pod})
	}
	return c
}

// gpuUUID is stable for a given model, pod and GPU index.
func gpuUUID(cfg Config, i int) string {
	h := fnv.New128a()
	fmt.Fprintf(h, "%s/%s/%d", cfg.Model, cfg.Pod, i)
	b := h.Sum(nil)
	return fmt.Sprintf("GPU-%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (c *dcgmCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *dcgmCollector) Collect(ch chan<- prometheus.Metric) {
	c.g.mu.Lock()
	active, util, power, energy, temp := c.g.active, c.g.util, c.g.power, c.g.energyMJ, c.g.temp
	c.g.mu.Unlock()
	used := math.Round(float64(c.cfg.GPUMemoryMiB) * c.cfg.GPUMemoryUtilization)
	clock := float64(idleSMClockMHz)
	if active > 0.01 {
		clock = maxSMClockMHz
	}
	for i, lv := range c.values {
		// GPUs of one tensor-parallel group work in lockstep; small fixed
		// offsets keep their series apart as on real hardware.
		off := float64(i)
		emit := func(name string, t prometheus.ValueType, v float64) {
			if m, err := prometheus.NewConstMetric(c.descs[name], t, v, lv...); err == nil {
				ch <- m
			}
		}
		emit(vm.DCGMSMClock, prometheus.GaugeValue, clock)
		emit(vm.DCGMGPUTemp, prometheus.GaugeValue, math.Round(temp+off))
		emit(vm.DCGMPowerUsage, prometheus.GaugeValue, power*(1+0.01*off))
		emit(vm.DCGMTotalEnergyConsumption, prometheus.CounterValue, math.Round(energy*(1+0.01*off)))
		emit(vm.DCGMGPUUtil, prometheus.GaugeValue, math.Round(util))
		emit(vm.DCGMFBFree, prometheus.GaugeValue, float64(c.cfg.GPUMemoryMiB)-used)
		emit(vm.DCGMFBUsed, prometheus.GaugeValue, used)
		emit(vm.DCGMGREngineActive, prometheus.GaugeValue, active)
	}
}
