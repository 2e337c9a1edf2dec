// Command step07gen generates the step-07 GitOps tree from one
// ModelPerformanceMetrics config (step07.yaml):
//
//	step07gen generate --config F --out DIR   write the tree (atomically, owned files only)
//	step07gen diff --config F --out DIR       exit 1 with a unified diff when DIR is stale
//	step07gen fn F                            print the objects as one YAML stream
//	step07gen                                 (ResourceList on stdin) the kustomize KRM function
//
// Config and usage errors exit 2 and list every problem with its field path.
package main
