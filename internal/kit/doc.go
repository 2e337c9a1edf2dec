// Package kit holds what the step07gen generators share so every object
// looks the same: the common labels and metadata, the restricted Pod
// Security settings, and small pointer helpers. It emits no objects itself.
package kit
