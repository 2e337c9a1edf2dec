// Package k8sname holds Kubernetes' limits on names and label values and
// the one way this project shortens a value derived from user input to
// fit them. A bottom-layer library: it knows neither the config nor the
// generators.
package k8sname

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Kubernetes' limits on the names and values step07gen derives from a
// config (k8s.io/apimachinery/pkg/util/validation).
const (
	// MaxLabelValue bounds a label value (and a label key's name part).
	MaxLabelValue = 63
	// MaxDNSLabel bounds a DNS-1123 label: a namespace, a Service (a
	// DNS-1035 label), a container or volume name, one label of a host.
	MaxDNSLabel = 63
	// MaxDNSSubdomain bounds a DNS-1123 subdomain: most object names, a host.
	MaxDNSSubdomain = 253
	// MaxPortName bounds a container or Service port name (an IANA service
	// name).
	MaxPortName = 15
	// shortHashLen hex digits of SHA-256 end a shortened name.
	shortHashLen = 10
)

// Shorten fits a name or label value derived from user input into max
// bytes. One that fits is returned unchanged (so every name of a config
// within the limits stays as it was); a longer one keeps as much of its
// beginning as fits, without trailing '-', '.' or '_', followed by '-' and
// the first 10 hex digits of the SHA-256 of the whole value, the way
// Kubernetes tooling shortens generated names. The result is deterministic,
// readable, stays a DNS-1123 label, DNS-1123 subdomain, label value or port
// name when the value was one (apart from its length), and two different
// values differ after shortening too, however long the part they share.
// Use it wherever a name or label value is derived from a config.
func Shorten(s string, max int) string {
	if len(s) <= max {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	h := hex.EncodeToString(sum[:])[:shortHashLen]
	keep := max - shortHashLen - 1
	if keep < 1 {
		return h[:min(max, len(h))]
	}
	prefix := strings.TrimRight(s[:keep], "-._")
	if prefix == "" {
		return h
	}
	return prefix + "-" + h
}

// LabelValue is a derived value fitted to a label value's 63 characters.
func LabelValue(s string) string { return Shorten(s, MaxLabelValue) }
