package charts

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Point is one step: X is the concurrency.
type Point struct{ X, Y float64 }

// Series is one line.
type Series struct {
	Name   string
	Points []Point
}

// HLine is a horizontal threshold line.
type HLine struct {
	Y     float64
	Label string
	Color color.Color
}

// Mark is a highlighted point, e.g. a breaking point.
type Mark struct {
	X, Y  float64
	Label string
}

// Chart is one figure.
type Chart struct {
	Title, XLabel, YLabel string
	Series                []Series
	HLines                []HLine
	Marks                 []Mark
	// LogY draws the Y axis on a log10 scale (useful for latencies).
	LogY bool
}

// Size of every chart, in points.
var (
	Width  = 7 * vg.Inch
	Height = 3.6 * vg.Inch
)

// Palette is colour-blind friendly (Okabe-Ito).
var Palette = []color.Color{
	color.RGBA{0, 114, 178, 255}, color.RGBA{213, 94, 0, 255}, color.RGBA{0, 158, 115, 255},
	color.RGBA{204, 121, 167, 255}, color.RGBA{86, 180, 233, 255}, color.RGBA{230, 159, 0, 255},
	color.RGBA{0, 0, 0, 255},
}

// Grade colours of the SLA lines.
var (
	Green  = color.RGBA{0, 158, 115, 255}
	Amber  = color.RGBA{230, 159, 0, 255}
	Red    = color.RGBA{213, 0, 0, 255}
	Purple = color.RGBA{120, 60, 160, 255}
)

// log2Scale maps concurrency so that each doubling is the same distance.
type log2Scale struct{}

func (log2Scale) Normalize(min, max, x float64) float64 {
	if min <= 0 || max <= min {
		return 0.5
	}
	return (math.Log2(x) - math.Log2(min)) / (math.Log2(max) - math.Log2(min))
}

type concurrencyTicks []float64

func (t concurrencyTicks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	for _, v := range t {
		if v >= min && v <= max {
			out = append(out, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
		}
	}
	return out
}

// build assembles the gonum plot.
func (c Chart) build() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = c.Title
	p.X.Label.Text = c.XLabel
	p.Y.Label.Text = c.YLabel
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	xs := map[float64]bool{}
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for i, s := range c.Series {
		var pts plotter.XYs
		for _, pt := range s.Points {
			if math.IsNaN(pt.Y) || math.IsInf(pt.Y, 0) || pt.X <= 0 || (c.LogY && pt.Y <= 0) {
				continue
			}
			pts = append(pts, plotter.XY{X: pt.X, Y: pt.Y})
			xs[pt.X] = true
			ymin, ymax = math.Min(ymin, pt.Y), math.Max(ymax, pt.Y)
		}
		if len(pts) == 0 {
			continue
		}
		sort.Slice(pts, func(a, b int) bool { return pts[a].X < pts[b].X })
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, fmt.Errorf("series %s: %w", s.Name, err)
		}
		col := Palette[i%len(Palette)]
		line.Color = col
		line.Width = vg.Points(1.6)
		points.Color = col
		points.Shape = draw.CircleGlyph{}
		points.Radius = vg.Points(2.5)
		p.Add(line, points)
		p.Legend.Add(s.Name, line, points)
	}
	if len(xs) == 0 {
		return nil, fmt.Errorf("chart %q has no data", c.Title)
	}
	var ticks []float64
	for x := range xs {
		ticks = append(ticks, x)
	}
	sort.Float64s(ticks)
	xmin, xmax := ticks[0], ticks[len(ticks)-1]
	if xmax == xmin {
		xmin, xmax = xmin/2, xmax*2
	}
	p.X.Min, p.X.Max = xmin, xmax
	p.X.Scale = log2Scale{}
	p.X.Tick.Marker = concurrencyTicks(ticks)
	for _, h := range c.HLines {
		if c.LogY && h.Y <= 0 {
			continue
		}
		ymin, ymax = math.Min(ymin, h.Y), math.Max(ymax, h.Y)
		hl, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: h.Y}, {X: xmax, Y: h.Y}})
		if err != nil {
			return nil, err
		}
		hl.Color = h.Color
		hl.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		hl.Width = vg.Points(1)
		p.Add(hl)
		p.Legend.Add(h.Label, hl)
	}
	for _, m := range c.Marks {
		if m.X <= 0 || math.IsNaN(m.Y) || (c.LogY && m.Y <= 0) {
			continue
		}
		sc, err := plotter.NewScatter(plotter.XYs{{X: m.X, Y: m.Y}})
		if err != nil {
			return nil, err
		}
		sc.Shape = draw.CrossGlyph{}
		sc.Radius = vg.Points(7)
		sc.Color = Red
		p.Add(sc)
		p.Legend.Add(m.Label, sc)
	}
	if c.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		p.Y.Min, p.Y.Max = ymin/1.5, ymax*1.5
	} else {
		p.Y.Min = math.Min(0, ymin)
		p.Y.Max = ymax * 1.15
		if p.Y.Max <= p.Y.Min {
			p.Y.Max = p.Y.Min + 1
		}
	}
	return p, nil
}

// SVG renders the chart as a standalone SVG document without embedded or
// fetched fonts (the browser falls back to a local font).
func (c Chart) SVG() ([]byte, error) {
	p, err := c.build()
	if err != nil {
		return nil, err
	}
	cv := vgsvg.NewWith(vgsvg.UseWH(Width, Height))
	p.Draw(draw.New(cv))
	var buf bytes.Buffer
	if _, err := cv.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// PNG renders the chart as a PNG image at 96 dpi.
func (c Chart) PNG() ([]byte, error) {
	p, err := c.build()
	if err != nil {
		return nil, err
	}
	cv := vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(Width, Height), vgimg.UseDPI(96))}
	p.Draw(draw.New(cv))
	var buf bytes.Buffer
	if _, err := cv.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
