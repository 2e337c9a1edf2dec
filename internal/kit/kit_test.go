package kit

import (
	"testing"
	"time"
)

func TestPromDuration(t *testing.T) {
	if PromDuration(90*time.Second) != "1m30s" || PromDuration(time.Minute) != "1m" {
		t.Errorf("PromDuration: %s %s", PromDuration(90*time.Second), PromDuration(time.Minute))
	}
}
