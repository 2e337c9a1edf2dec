package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/common"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	vm "github.com/rhoai-demo/step07/api/vllmmetrics"
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
		desc:    "Sum of the power draw of every GPU of the selected models (" + vm.DCGMPowerUsage + ")." + labelDesc,
		queries: []query{{expr: fmt.Sprintf("sum(%s)", dcgmPlain(vm.DCGMPowerUsage, re, nil)), legend: "total"}},
	})
	b.add(st(), spec{
		title: "Energy in the time range", unit: "joule", w: 6, h: 6, thresholds: neutral(),
		desc:    "Energy used by the selected models' GPUs over the dashboard's time range: increase of " + vm.DCGMTotalEnergyConsumption + " (mJ) / 1000." + labelDesc,
		queries: []query{{expr: fmt.Sprintf("sum(%s) / 1000", dcgmPlain(vm.DCGMTotalEnergyConsumption, re, increaseFn)), legend: "total", instant: true}},
	})
	b.add(bargauge.NewPanelBuilder().
		DisplayMode(common.BarGaugeDisplayModeGradient).
		Orientation(common.VizOrientationHorizontal).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)), spec{
		title: "Energy per model pod in the time range", unit: "joule", w: 12, h: 6, thresholds: neutral(),
		desc:    "Energy per predictor pod over the dashboard's time range (" + vm.DCGMTotalEnergyConsumption + " increase, mJ / 1000)." + labelDesc,
		queries: []query{{expr: fmt.Sprintf("sum by(gpu_pod)(%s) / 1000", dcgm(vm.DCGMTotalEnergyConsumption, re, increaseFn)), legend: "{{gpu_pod}}", instant: true}},
	})
	b.add(ts(false), spec{
		title: "Power per model pod", unit: "watt", w: 12, h: 8, thresholds: neutral(),
		desc:    "Power draw summed over the GPUs of each predictor pod (" + vm.DCGMPowerUsage + ")." + labelDesc,
		queries: []query{{expr: fmt.Sprintf("sum by(gpu_pod)(%s)", dcgm(vm.DCGMPowerUsage, re, nil)), legend: "{{gpu_pod}}"}},
	})
	b.add(ts(false), spec{
		title: "Power per GPU", unit: "watt", w: 12, h: 8, thresholds: neutral(),
		desc:    "Power draw of each GPU (" + vm.DCGMPowerUsage + ")." + labelDesc,
		queries: []query{{expr: perGPU(vm.DCGMPowerUsage, "max"), legend: perGPULegend}},
	})

	b.row("Memory and utilisation")
	b.add(ts(false), spec{
		title: "Framebuffer used", unit: "decmbytes", w: 12, h: 8, thresholds: neutral(),
		desc:    "GPU memory in use per GPU (" + vm.DCGMFBUsed + ", MiB). vLLM preallocates most of it for the KV cache (gpu-memory-utilization)." + labelDesc,
		queries: []query{{expr: perGPU(vm.DCGMFBUsed, "max"), legend: perGPULegend}},
	})
	b.add(ts(false), spec{
		title: "Framebuffer free", unit: "decmbytes", w: 12, h: 8, thresholds: neutral(),
		desc:    "GPU memory free per GPU (" + vm.DCGMFBFree + ", MiB)." + labelDesc,
		queries: []query{{expr: perGPU(vm.DCGMFBFree, "max"), legend: perGPULegend}},
	})
	b.add(ts(false), spec{
		title: "GR engine active", unit: "percentunit", w: 12, h: 8, thresholds: neutral(), min: f64(0), max: f64(1),
		desc:    "Fraction of time the graphics/compute engine was active (" + vm.DCGMGREngineActive + ", 0..1): a better utilisation signal than GPU_UTIL." + labelDesc,
		queries: []query{{expr: perGPU(vm.DCGMGREngineActive, "avg"), legend: perGPULegend}},
	})
	b.add(ts(false), spec{
		title: "GPU utilisation", unit: "percent", w: 12, h: 8, thresholds: neutral(), min: f64(0), max: f64(100),
		desc:    "Coarse GPU utilisation (" + vm.DCGMGPUUtil + ", %): time a kernel was running, not how much of the GPU it used." + labelDesc,
		queries: []query{{expr: perGPU(vm.DCGMGPUUtil, "avg"), legend: perGPULegend}},
	})

	b.row("Thermals and clocks")
	b.add(ts(false), spec{
		title: "Temperature", unit: "celsius", w: 12, h: 8, thresholds: neutral(),
		desc:    "GPU temperature (" + vm.DCGMGPUTemp + ", °C)." + labelDesc,
		queries: []query{{expr: perGPU(vm.DCGMGPUTemp, "max"), legend: perGPULegend}},
	})
	b.add(ts(false), spec{
		title: "SM clock", unit: "hertz", w: 12, h: 8, thresholds: neutral(),
		desc:    "Streaming multiprocessor clock (" + vm.DCGMSMClock + ", MHz, shown in Hz). Drops under load point at power or thermal throttling." + labelDesc,
		queries: []query{{expr: perGPU(vm.DCGMSMClock, "max") + " * 1e6", legend: perGPULegend}},
	})
	return b.err
}
