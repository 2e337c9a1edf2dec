package main

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/vllmsim"
)

// A model behind OpenShift AI's auth proxy: the API on TLS with a
// certificate of the cluster's service CA and a bearer token, /metrics on
// vLLM's own plain port. The sweep reaches it with the plan's (or
// --ca-file's) CA bundle and the API key, and refuses it without the CA.
func TestAuthProxyTarget(t *testing.T) {
	cfg := vllmsim.DefaultConfig()
	cfg.Model, cfg.TimeScale = "m1", 0.05
	s, err := vllmsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	metrics := httptest.NewServer(s.Handler())
	proxy := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		s.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(func() { proxy.Close(); metrics.Close(); s.Close() })

	dir := t.TempDir()
	ca, key := filepath.Join(dir, "service-ca.crt"), filepath.Join(dir, "api-key")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: proxy.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"run", "--target", "s=" + proxy.URL + ",model=m1,metrics=" + metrics.URL + "/metrics",
		"--api-key-file", key, "--scenario", "A", "--concurrency", "1", "--step-duration", "1s", "--warmup", "0",
		"--min-requests", "3", "--max-requests", "3", "--time-scale", "0.05", "--ready-timeout", "0"}

	code, _, stderr := runCLI(append(args, "--out", filepath.Join(dir, "no-ca"))...)
	if code == exitOK || !strings.Contains(stderr, "certificate") {
		t.Fatalf("without the CA bundle: exit %d, want a certificate error:\n%s", code, stderr)
	}
	code, _, stderr = runCLI(append(args, "--out", filepath.Join(dir, "out"), "--ca-file", ca)...)
	if code != exitOK {
		t.Fatalf("with --ca-file: exit %d\n%s", code, stderr)
	}
	code, _, stderr = runCLI(append(args, "--out", filepath.Join(dir, "bad-ca"), "--ca-file", key)...)
	if code != exitUsage || !strings.Contains(stderr, "no PEM certificate") {
		t.Errorf("a CA file without a certificate: exit %d\n%s", code, stderr)
	}
}
