// Package testtools finds the external programs tests use (kustomize,
// prometheus, promtool, chromium). A missing tool skips the test loudly on a
// developer machine and fails it under CI=true, so CI can never go green by
// skipping.
package testtools
