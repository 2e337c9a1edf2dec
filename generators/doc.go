// Package generators is the registry of the step07gen generators: Registry
// lists every generator package (argocd, servicemonitor, prometheus, rules,
// grafana, dashboards, guidellm, networkpolicy) in the order of the tree, and
// Components, Objects and ArgoCD assemble their objects: the common labels
// stamped, duplicates refused, each component sorted by kind and name, and
// every pod template given the checksum of the ConfigMaps it mounts.
//
// Each generator package is a pure function of the defaulted, validated
// config, with no I/O, no clock and no randomness; it exports Component
// (its folder and component label) and Objects(c) ([]kit.Object, error). A
// generator imports no other generator: what it shares is in internal/kit
// (helpers, the Object type) and api/v1alpha1 (the names other objects refer
// to). This package is the only one that imports them all; turning objects
// into YAML (internal/manifest) and files (cmd/step07gen/tree) is not its job.
package generators
