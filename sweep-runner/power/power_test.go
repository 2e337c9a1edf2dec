package power

import (
	"context"
	"encoding/pem"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/internal/testenv"
	"github.com/rhoai-demo/step07/vllmsim"
)

// dcgm serves an in-process vllm-sim's DCGM metrics (idle GPUs draw
// GPUIdleWatts x (1 + 0.01 x index)).
func dcgm(t *testing.T, model string, gpus int) string {
	t.Helper()
	cfg := vllmsim.DefaultConfig()
	cfg.Model, cfg.GPUs = model, gpus
	s, err := vllmsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.DCGMHandler())
	t.Cleanup(func() { srv.Close(); s.Close() })
	u, _ := url.Parse(srv.URL)
	return u.Host
}

// TestMeanWattsFromRealPrometheus: Debian's Prometheus scrapes two simulated
// DCGM exporters, one keeping the pod label, one (behind a target label pod,
// as OpenShift's platform Prometheus does) turning it into exported_pod.
func TestMeanWattsFromRealPrometheus(t *testing.T) {
	bf16, int4 := dcgm(t, "m-bf16", 2), dcgm(t, "m-int4", 1)
	prom := testenv.StartPrometheus(t, fmt.Sprintf(`global: {scrape_interval: 500ms}
scrape_configs:
- job_name: dcgm-honor
  static_configs: [{targets: ['%s']}]
- job_name: dcgm-exported
  static_configs: [{targets: ['%s'], labels: {pod: nvidia-dcgm-exporter-x7k2p, namespace: nvidia-gpu-operator}}]
`, bf16, int4))
	q := &Querier{URL: prom}
	ctx := context.Background()
	start := time.Now()
	var w float64
	var ok bool
	var err error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if w, ok, err = q.MeanWatts(ctx, "m-bf16", start, time.Now()); err != nil {
			t.Fatal(err)
		}
		if ok {
			if _, ok2, _ := q.MeanWatts(ctx, "m-int4", start, time.Now()); ok2 {
				break
			}
		}
	}
	end := time.Now()
	if w, ok, err = q.MeanWatts(ctx, "m-bf16", start, end); err != nil || !ok || math.Abs(w-(70+70.7)) > 0.01 {
		t.Errorf("bf16 (pod label, 2 idle GPUs): %v W, ok %v, err %v; want 140.7", w, ok, err)
	}
	if w, ok, err = q.MeanWatts(ctx, "m-int4", start, end); err != nil || !ok || math.Abs(w-70) > 0.01 {
		t.Errorf("int4 (exported_pod, 1 idle GPU): %v W, ok %v, err %v; want 70", w, ok, err)
	}
	// A model without GPUs in Prometheus: no data, no error.
	if w, ok, err = q.MeanWatts(ctx, "m-other", start, end); err != nil || ok {
		t.Errorf("unknown model: %v W, ok %v, err %v; want no data", w, ok, err)
	}
	// A regex metacharacter in the name is quoted, not interpreted.
	if _, ok, _ = q.MeanWatts(ctx, "m.bf16", start, end); ok {
		t.Error("model m.bf16 matched m-bf16's pods")
	}
	// A custom matcher.
	q2 := &Querier{URL: prom, PodRegex: "{model}-pred.*"}
	if _, ok, err = q2.MeanWatts(ctx, "m-int4", start, end); err != nil || !ok {
		t.Errorf("custom pod regex: ok %v, err %v", ok, err)
	}
}

func TestBearerTokenAndErrors(t *testing.T) {
	var auth, query string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		r.ParseForm()
		query = r.Form.Get("query")
		if r.URL.Path != "/api/v1/query" {
			w.WriteHeader(404)
			return
		}
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1234.5"]}]}}`)
	}))
	defer api.Close()
	tok := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tok, []byte("s3cret\n"), 0o600)
	q := &Querier{URL: api.URL + "/", TokenFile: tok}
	end := time.Now()
	w, ok, err := q.MeanWatts(context.Background(), "mistral", end.Add(-30*time.Second), end)
	if err != nil || !ok || w != 1234.5 {
		t.Fatalf("got %v %v %v", w, ok, err)
	}
	if auth != "Bearer s3cret" {
		t.Errorf("Authorization = %q", auth)
	}
	if !strings.Contains(query, `pod=~"mistral-predictor.*"`) || !strings.Contains(query, `exported_pod=~"mistral-predictor.*"`) || !strings.Contains(query, "[30000ms]") {
		t.Errorf("query = %s", query)
	}
	// An HTML page or a refused connection is an error the caller logs.
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<html>login</html>") }))
	defer html.Close()
	if _, _, err := (&Querier{URL: html.URL}).MeanWatts(context.Background(), "m", end.Add(-time.Second), end); err == nil {
		t.Error("an HTML answer was accepted")
	}
	if _, _, err := (&Querier{URL: "http://127.0.0.1:1"}).MeanWatts(context.Background(), "m", end.Add(-time.Second), end); err == nil {
		t.Error("a refused connection was accepted")
	}
	if err := (&Querier{URL: api.URL, CAFile: tok}).Connect(); err == nil {
		t.Error("a CA file without certificates was accepted")
	}
}

// TestTLSWithCAFile: an https Prometheus whose certificate the CA file
// holds; the token file is re-read at every query (tokens rotate).
func TestTLSWithCAFile(t *testing.T) {
	var auth string
	api := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"300"]}]}}`)
	}))
	defer api.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.crt")
	cert := api.Certificate()
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600)
	tok := filepath.Join(dir, "token")
	os.WriteFile(tok, []byte("one"), 0o600)
	end := time.Now()
	if _, _, err := (&Querier{URL: api.URL}).MeanWatts(context.Background(), "m", end.Add(-time.Second), end); err == nil {
		t.Error("an unknown CA was trusted")
	}
	q := &Querier{URL: api.URL, TokenFile: tok, CAFile: ca}
	if err := q.Connect(); err != nil {
		t.Fatal(err)
	}
	if w, ok, err := q.MeanWatts(context.Background(), "m", end.Add(-time.Second), end); err != nil || !ok || w != 300 || auth != "Bearer one" {
		t.Fatalf("got %v %v %v, Authorization %q", w, ok, err, auth)
	}
	os.WriteFile(tok, []byte("two\n"), 0o600)
	if _, _, err := q.MeanWatts(context.Background(), "m", end.Add(-time.Second), end); err != nil || auth != "Bearer two" {
		t.Errorf("after rotation: err %v, Authorization %q", err, auth)
	}
	if err := (&Querier{URL: api.URL, CAFile: filepath.Join(dir, "missing")}).Connect(); err == nil {
		t.Error("a missing CA file was accepted")
	}
}
