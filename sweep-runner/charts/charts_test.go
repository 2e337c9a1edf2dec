package charts

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
)

func sample() Chart {
	return Chart{
		Title: "TTFT p95 vs concurrency", XLabel: "concurrent users", YLabel: "seconds",
		Series: []Series{
			{Name: "bf16", Points: []Point{{1, 0.05}, {2, 0.06}, {4, 0.08}, {8, 0.3}, {16, 2.5}}},
			{Name: "int4", Points: []Point{{1, 0.07}, {2, 0.09}, {4, 0.9}, {8, 3.1}}},
		},
		HLines: []HLine{{Y: 0.2, Label: "excellent 200 ms", Color: Green}, {Y: 2, Label: "degraded 2 s", Color: Red}},
		Marks:  []Mark{{X: 16, Y: 2.5, Label: "bf16 breaks"}},
		LogY:   true,
	}
}

func TestSVGIsSelfContainedAndDeterministic(t *testing.T) {
	a, err := sample().SVG()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := sample().SVG()
	if !bytes.Equal(a, b) {
		t.Error("two renders of the same chart differ")
	}
	s := string(a)
	if !strings.Contains(s, "<svg") || !strings.Contains(s, "bf16") || !strings.Contains(s, "int4") {
		t.Errorf("SVG lacks the root element or the legend")
	}
	for _, bad := range []string{"http://", "https://", "<script", "@import"} {
		if strings.Contains(strings.ReplaceAll(s, "http://www.w3.org/", ""), bad) {
			t.Errorf("SVG references %q", bad)
		}
	}
}

func TestPNGDecodes(t *testing.T) {
	b, err := sample().PNG()
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if w := img.Bounds().Dx(); w < 600 {
		t.Errorf("PNG only %d px wide", w)
	}
	// Not blank: the lines put several colours on the canvas.
	seen := map[[3]uint32]bool{}
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y += 3 {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 3 {
			r, g, b, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r >> 8, g >> 8, b >> 8}] = true
		}
	}
	if len(seen) < 5 {
		t.Errorf("PNG has %d colours, looks blank", len(seen))
	}
}

func TestEmptyChartIsAnError(t *testing.T) {
	if _, err := (Chart{Title: "x"}).SVG(); err == nil {
		t.Error("chart without data rendered")
	}
}
