// Package krm is step07gen as a kustomize (and kpt) KRM function: Process
// takes a ResourceList whose functionConfig is a ModelPerformanceMetrics and
// appends the objects of the generators registry, serialized by
// internal/manifest; errors also go into the ResourceList's results.
package krm
