// Package charts draws the sweep report's line charts with gonum/plot: one
// series per model (or scenario) against concurrency on a log2 axis, SLA
// threshold lines and the breaking point marked. It renders the same chart
// as inline-able SVG (no fonts or scripts fetched) and as PNG.
package charts
