// Package golden holds the end-to-end tests of step07gen: the generated
// trees of the configs under testdata/valid against the files committed
// next to them (refresh with `go test ./golden -update`), the messages of
// the configs under testdata/invalid (nothing may be written), the committed
// gitops tree against the generator, kustomize renders (plain and through
// the KRM function) and the checks every emitted object must pass: strict
// decoding, the restricted Pod Security level, selectors, RBAC scope.
package golden
