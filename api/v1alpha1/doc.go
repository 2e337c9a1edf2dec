// Package v1alpha1 is the one configuration API of the project.
//
// ModelPerformanceMetrics is the KRM functionConfig that step07gen turns into
// the step-07 GitOps tree; SweepPlan is what step07gen writes into the sweep
// ConfigMap and what sweep-runner reads. Both have Default() and Validate();
// Validate reports every problem at once, each naming its field path and the
// fix, so a user can correct a config in one pass. The sweep settings the
// two share are one struct, SweepSettings, inline in both; PlanOverrides
// lays settings given on a command line over a SweepPlan.
package v1alpha1
