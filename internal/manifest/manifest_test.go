package manifest

import (
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/internal/kit"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestEncodeCleansTypedObjects: a typed object's zero creationTimestamp
// (pod templates included) and empty status are not written; apiVersion,
// kind and metadata come first.
func TestEncodeCleansTypedObjects(t *testing.T) {
	svc := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns"},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"a": "b"}},
	}
	dep := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "d", Namespace: "ns"},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "b"}},
		}},
	}
	b, err := Stream([]kit.Object{svc, dep})
	if err != nil {
		t.Fatal(err)
	}
	want := `apiVersion: v1
kind: Service
metadata:
  name: s
  namespace: ns
spec:
  selector:
    a: b
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
  namespace: ns
spec:
  selector: null
  strategy: {}
  template:
    metadata:
      labels:
        a: b
    spec:
      containers: null
`
	if string(b) != want {
		t.Errorf("got:\n%s\nwant:\n%s", b, want)
	}
	if _, err := Encode(&unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"name": "x"}}}); err == nil || !strings.Contains(err.Error(), "TypeMeta") {
		t.Errorf("an object without apiVersion and kind: %v", err)
	}
}
