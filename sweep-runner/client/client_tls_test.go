package client

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// A model behind its auth proxy serves TLS with a certificate of the
// cluster's service CA: the client trusts it only with the CA file, and
// sends the token.
func TestClientTrustsCAFile(t *testing.T) {
	// The load engine's connections are read outside Go's poller, which
	// the race detector takes for ordering: the handler's write is
	// published through an atomic.
	var auth atomic.Value
	auth.Store("")
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"object":"list","data":[{"id":"m","object":"model"}]}`))
	}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "service-ca.crt")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := New(srv.URL, Options{APIKey: "tok"}).CheckModel(ctx, "m"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the CA file: want a certificate error, got %v", err)
	}
	pool, err := CertPool(ca)
	if err != nil {
		t.Fatal(err)
	}
	if err := New(srv.URL, Options{APIKey: "tok", RootCAs: pool}).CheckModel(ctx, "m"); err != nil {
		t.Fatalf("with the CA file: %v", err)
	}
	if got := auth.Load().(string); got != "Bearer tok" {
		t.Errorf("Authorization %q", got)
	}
	if _, err := CertPool(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing CA file is not an error")
	}
	empty := filepath.Join(t.TempDir(), "empty.crt")
	_ = os.WriteFile(empty, []byte("not a certificate"), 0o600)
	if _, err := CertPool(empty); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("a CA file without a certificate: %v", err)
	}
}
