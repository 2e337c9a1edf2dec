// Package manifest is the serializer: it writes objects as YAML documents
// with a stable field order (apiVersion, kind, metadata, name and namespace
// first, then sorted keys, through internal/yamlenc), no creationTimestamp
// and no empty status, so serializing twice is byte-identical. It knows
// objects, not generators: which objects exist is package generators'
// business, which file holds them cmd/step07gen/tree's.
package manifest
