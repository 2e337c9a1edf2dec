package kit

import (
	"testing"

	"github.com/rhoai-demo/step07/api/v1alpha1"
)

func TestPromDuration(t *testing.T) {
	if PromDuration(v1alpha1.D(90e9)) != "1m30s" || PromDuration(v1alpha1.D(60e9)) != "1m" {
		t.Errorf("PromDuration: %s %s", PromDuration(v1alpha1.D(90e9)), PromDuration(v1alpha1.D(60e9)))
	}
}
