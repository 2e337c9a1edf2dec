package kit

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Object is a typed Kubernetes object (or an Unstructured one, for kinds
// whose Go module we do not depend on, such as ArgoCD's Application).
// Generators must set TypeMeta (apiVersion, kind) explicitly.
type Object interface {
	metav1.Object
	runtime.Object
}

// Kind is the object's kind from its TypeMeta.
func Kind(o Object) string { return o.GetObjectKind().GroupVersionKind().Kind }

// ID names an object uniquely: kind/namespace/name.
func ID(o Object) string { return Kind(o) + "/" + o.GetNamespace() + "/" + o.GetName() }
