// Package generators holds what the generator packages below it share: the
// Object type they return. Each sub-package is a pure function of the
// defaulted, validated config: Objects(spec) ([]Object, error), with no I/O,
// no clock and no randomness.
package generators
