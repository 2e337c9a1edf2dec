package power

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Metric is the DCGM exporter's power gauge, in watts.
const Metric = "DCGM_FI_DEV_POWER_USAGE"

// DefaultPodRegex matches KServe's predictor pods of a model; {model} is
// replaced by the served model name (the InferenceService name), quoted.
const DefaultPodRegex = "{model}-predictor.*"

// Querier asks one Prometheus HTTP API.
type Querier struct {
	// URL is the API's base URL, e.g. http://perf-prometheus:9090 or
	// https://thanos-querier.openshift-monitoring.svc.cluster.local:9091.
	URL string
	// TokenFile holds a bearer token, read at every query (tokens rotate).
	TokenFile string
	// PodRegex selects the GPUs' pods; {model} is replaced. Default
	// DefaultPodRegex.
	PodRegex string
	// HTTP is the client (default: 10 s timeout; see NewHTTPClient for a CA).
	HTTP *http.Client
}

// NewHTTPClient returns a client trusting the system roots plus the PEM
// certificates in caFile (e.g. OpenShift's service CA); "" trusts the system
// roots only.
func NewHTTPClient(caFile string) (*http.Client, error) {
	c := &http.Client{Timeout: 10 * time.Second}
	if caFile == "" {
		return c, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("prometheus CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("prometheus CA file %s holds no PEM certificate", caFile)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	c.Transport = tr
	return c, nil
}

// Selector returns the PromQL label matcher value selecting model's pods.
func (q *Querier) podRegex(model string) string {
	re := q.PodRegex
	if re == "" {
		re = DefaultPodRegex
	}
	return strings.ReplaceAll(re, "{model}", regexp.QuoteMeta(model))
}

// Query is the PromQL expression, evaluated at the window's end, for the
// mean total power of model's GPUs over a window of length d: the pod label
// first, exported_pod when no series carries it (so no GPU counts twice).
func (q *Querier) Query(model string, d time.Duration) string {
	re := strconv.Quote(q.podRegex(model))
	win := fmt.Sprintf("%dms", max(d.Milliseconds(), 1))
	return fmt.Sprintf("sum(avg_over_time(%s{pod=~%s}[%s])) or sum(avg_over_time(%s{exported_pod=~%s}[%s]))",
		Metric, re, win, Metric, re, win)
}

// MeanWatts returns the mean total power of model's GPUs between start and
// end. ok is false (and err nil) when Prometheus has no such data.
func (q *Querier) MeanWatts(ctx context.Context, model string, start, end time.Time) (watts float64, ok bool, err error) {
	if !end.After(start) {
		return 0, false, nil
	}
	v := url.Values{"query": {q.Query(model, end.Sub(start))}, "time": {strconv.FormatFloat(float64(end.UnixMilli())/1000, 'f', 3, 64)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(q.URL, "/")+"/api/v1/query", strings.NewReader(v.Encode()))
	if err != nil {
		return 0, false, fmt.Errorf("prometheus URL %q: %w", q.URL, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if q.TokenFile != "" {
		tok, err := os.ReadFile(q.TokenFile)
		if err != nil {
			return 0, false, fmt.Errorf("prometheus token: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	}
	hc := q.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, false, fmt.Errorf("prometheus query: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, false, fmt.Errorf("prometheus query: %w", err)
	}
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return 0, false, fmt.Errorf("prometheus query: HTTP %d, not a Prometheus API answer: %.200s", resp.StatusCode, body)
	}
	if r.Status != "success" {
		return 0, false, fmt.Errorf("prometheus query: HTTP %d: %s", resp.StatusCode, r.Error)
	}
	if len(r.Data.Result) == 0 {
		return 0, false, nil
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	w, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false, fmt.Errorf("prometheus query: value %q: %w", s, err)
	}
	return w, true, nil
}
