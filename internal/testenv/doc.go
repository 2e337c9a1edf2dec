// Package testenv finds the external programs tests use (kustomize,
// prometheus, promtool, chromium, and the pinned kube-apiserver, etcd and
// kubectl that StartAPIServer runs as a throwaway API server). A missing
// tool skips the test loudly on a developer machine and fails it under
// CI=true, so CI can never go green by skipping.
package testenv
