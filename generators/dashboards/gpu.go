package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/common"

	"github.com/rhoai-demo/step07/api/v1alpha1"
)

func gpu(_ *v1alpha1.ModelPerformanceMetrics, b *board) error {
	re := podRegex(varModel)
	labelDesc := " Matches the model's predictor pods (<model>-predictor-...) on the DCGM pod label, whether it arrives as pod or as exported_pod."
	perGPU := func(metric, agg string) string {
		return fmt.Sprintf("%s by(gpu_pod, gpu)(%s)", agg, dcgm(metric, re, nil))
	}
	const perGPULegend = "{{gpu_pod}} GPU {{gpu}}"

	b.row("Power and energy")
	b.add(st(), spec{
		title: "Total power", unit: "watt", w: 6, h: 6, thresholds: neutral(),
		desc:    "Sum of the power draw of every GPU of the selected models (DCGM_FI_DEV_POWER_USAGE)." + labelDesc,
		queries: []query{{expr: fmt.Sprintf("sum(%s)", dcgmPlain(dcgmPower, re, nil)), legend: "total"}},
	})
	b.add(st(), spec{
		title: "Energy in the time range", unit: "joule", w: 6, h: 6, thresholds: neutral(),
		desc:    "Energy used by the selected models' GPUs over the dashboard's time range: increase of DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION (mJ) / 1000." + labelDesc,
		queries: []query{{expr: fmt.Sprintf("sum(%s) / 1000", dcgmPlain(dcgmEnergy, re, increaseFn)), legend: "total", instant: true}},
	})
	b.add(bargauge.NewPanelBuilder().
		DisplayMode(common.BarGaugeDisplayModeGradient).
		Orientation(common.VizOrientationHorizontal).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)), spec{
		title: "Energy per model pod in the time range", unit: "joule", w: 12, h: 6, thresholds: neutral(),
		desc:    "Energy per predictor pod over the dashboard's time range (DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION increase, mJ / 1000)." + labelDesc,
		queries: []query{{expr: fmt.Sprintf("sum by(gpu_pod)(%s) / 1000", dcgm(dcgmEnergy, re, increaseFn)), legend: "{{gpu_pod}}", instant: true}},
	})
	b.add(ts(false), spec{
		title: "Power per model pod", unit: "watt", w: 12, h: 8, thresholds: neutral(),
		desc:    "Power draw summed over the GPUs of each predictor pod (DCGM_FI_DEV_POWER_USAGE)." + labelDesc,
		queries: []query{{expr: fmt.Sprintf("sum by(gpu_pod)(%s)", dcgm(dcgmPower, re, nil)), legend: "{{gpu_pod}}"}},
	})
	b.add(ts(false), spec{
		title: "Power per GPU", unit: "watt", w: 12, h: 8, thresholds: neutral(),
		desc:    "Power draw of each GPU (DCGM_FI_DEV_POWER_USAGE)." + labelDesc,
		queries: []query{{expr: perGPU(dcgmPower, "max"), legend: perGPULegend}},
	})

	b.row("Memory and utilisation")
	b.add(ts(false), spec{
		title: "Framebuffer used", unit: "decmbytes", w: 12, h: 8, thresholds: neutral(),
		desc:    "GPU memory in use per GPU (DCGM_FI_DEV_FB_USED, MiB). vLLM preallocates most of it for the KV cache (gpu-memory-utilization)." + labelDesc,
		queries: []query{{expr: perGPU(dcgmFBUsed, "max"), legend: perGPULegend}},
	})
	b.add(ts(false), spec{
		title: "Framebuffer free", unit: "decmbytes", w: 12, h: 8, thresholds: neutral(),
		desc:    "GPU memory free per GPU (DCGM_FI_DEV_FB_FREE, MiB)." + labelDesc,
		queries: []query{{expr: perGPU(dcgmFBFree, "max"), legend: perGPULegend}},
	})
	b.add(ts(false), spec{
		title: "GR engine active", unit: "percentunit", w: 12, h: 8, thresholds: neutral(), min: f64(0), max: f64(1),
		desc:    "Fraction of time the graphics/compute engine was active (DCGM_FI_PROF_GR_ENGINE_ACTIVE, 0..1): a better utilisation signal than GPU_UTIL." + labelDesc,
		queries: []query{{expr: perGPU(dcgmGREngine, "avg"), legend: perGPULegend}},
	})
	b.add(ts(false), spec{
		title: "GPU utilisation", unit: "percent", w: 12, h: 8, thresholds: neutral(), min: f64(0), max: f64(100),
		desc:    "Coarse GPU utilisation (DCGM_FI_DEV_GPU_UTIL, %): time a kernel was running, not how much of the GPU it used." + labelDesc,
		queries: []query{{expr: perGPU(dcgmUtil, "avg"), legend: perGPULegend}},
	})

	b.row("Thermals and clocks")
	b.add(ts(false), spec{
		title: "Temperature", unit: "celsius", w: 12, h: 8, thresholds: neutral(),
		desc:    "GPU temperature (DCGM_FI_DEV_GPU_TEMP, °C)." + labelDesc,
		queries: []query{{expr: perGPU(dcgmTemp, "max"), legend: perGPULegend}},
	})
	b.add(ts(false), spec{
		title: "SM clock", unit: "hertz", w: 12, h: 8, thresholds: neutral(),
		desc:    "Streaming multiprocessor clock (DCGM_FI_DEV_SM_CLOCK, MHz, shown in Hz). Drops under load point at power or thermal throttling." + labelDesc,
		queries: []query{{expr: perGPU(dcgmSMClock, "max") + " * 1e6", legend: perGPULegend}},
	})
	return b.err
}
