// Package power reads the mean power of a model server's GPUs over a time
// window from Prometheus (a local Prometheus or OpenShift's Thanos Querier):
// DCGM_FI_DEV_POWER_USAGE of the GPUs whose DCGM pod label (pod, or
// exported_pod when the exporter was scraped without honorLabels) matches
// the model's predictor pods, averaged over the window and summed over the
// GPUs. Missing data is not an error: the caller leaves the step's power
// empty. The queries go through client_golang's API client (api,
// api/prometheus/v1) over an HTTP client that prometheus/common/config
// builds from the bearer token file and the TLS CA file.
package power
