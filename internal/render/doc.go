// Package render is the one place that turns the config into objects and
// objects into bytes. Objects assembles every generator's output in a fixed
// order (component, kind, name) and stamps the common labels; Encode writes
// one object as YAML with stable field order (apiVersion, kind, metadata,
// name and namespace first, then sorted keys), no creationTimestamp and no
// empty status, so rendering twice is byte-identical; Process is the kustomize
// KRM function (ResourceList in, ResourceList out).
package render
