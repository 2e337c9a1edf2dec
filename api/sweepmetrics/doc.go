// Package sweepmetrics defines, once, the Prometheus series that sweep-runner
// remote-writes for every finished step and run, and that the Grafana
// dashboards query. Changing a name here changes both sides together.
package sweepmetrics
