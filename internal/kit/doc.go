// Package kit is the generators' helper kit, so every object looks the
// same: the Object type every generator returns (with Kind and ID), the
// common labels and metadata, the restricted Pod Security settings, resource
// requirements, Prometheus durations and config checksums. It emits no
// objects and knows no generator.
//
// Package generators (the registry) lists the generator packages and
// assembles their objects; kit is what those packages share, kept out of
// the registry so that a generator importing it does not import every other
// generator.
package kit
