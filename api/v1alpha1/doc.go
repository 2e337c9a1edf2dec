// Package v1alpha1 is the one configuration API of the project.
//
// ModelPerformanceMetrics is the KRM functionConfig that step07gen turns into
// the step-07 GitOps tree; SweepPlan is what step07gen writes into the sweep
// ConfigMap and what sweep-runner reads. Both have Default() and Validate();
// Validate reports every problem at once, each naming its field path and the
// fix, so a user can correct a config in one pass.
package v1alpha1
