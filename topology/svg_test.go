package topology

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestTopologySVG draws every picture case as SVG and checks that it is
// well-formed XML with an <svg> root of positive size, that it names every
// resource of the view (in text or tooltips), and that it is the same
// each time.
func TestTopologySVG(t *testing.T) {
	for _, tc := range pictureCases {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.view(t)
			var buf bytes.Buffer
			if err := v.WriteSVG(&buf); err != nil {
				t.Fatal(err)
			}
			text, root := svgText(t, buf.Bytes())
			if root.Name.Local != "svg" || root.Name.Space != "http://www.w3.org/2000/svg" {
				t.Fatalf("root element %v", root.Name)
			}
			for _, a := range []string{"width", "height"} {
				if x, err := strconv.ParseFloat(svgAttr(root, a), 64); err != nil || x <= 0 {
					t.Errorf("%s = %q", a, svgAttr(root, a))
				}
			}
			for _, r := range v.Resources {
				if !strings.Contains(text, r.Name) {
					t.Errorf("%s is not in the picture", r.Name)
				}
			}
			var again bytes.Buffer
			_ = v.WriteSVG(&again)
			if !bytes.Equal(again.Bytes(), buf.Bytes()) {
				t.Errorf("second picture differs")
			}
		})
	}
}

// svgText parses an SVG document and returns its character data and its
// root element.
func svgText(t *testing.T, data []byte) (string, xml.StartElement) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	var text strings.Builder
	var root xml.StartElement
	depth := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				root = tok.Copy()
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			text.Write(tok)
			text.WriteByte('\n')
		}
	}
	if depth != 0 {
		t.Fatalf("unbalanced elements")
	}
	return text.String(), root
}

func svgAttr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// TestTopologySVGLayout checks the geometry the picture is drawn from, for every
// picture case: each box lies inside its parent, boxes side by side or
// one under another do not overlap, every line of text fits its box (by
// the font metrics), and the columns lie inside the picture below the
// peering lanes.
func TestTopologySVGLayout(t *testing.T) {
	for _, tc := range pictureCases {
		t.Run(tc.name, func(t *testing.T) {
			checkSVGLayout(t, svgLayout(tc.view(t).scene()))
		})
	}
}

func checkSVGLayout(t *testing.T, p *svgPicture) {
	t.Helper()
	var check func(b *svgBox, path string)
	check = func(b *svgBox, path string) {
		for _, l := range b.lines {
			if w := svgLineWidth(l) + 2*b.pad; w > b.W+0.01 {
				t.Errorf("%s: line %q is %.1f wide in a box of %.1f", path, l.text, w, b.W)
			}
		}
		for i, k := range b.kids {
			kp := path + "/" + k.title
			if k.x < b.x || k.x+k.W > b.x+b.W+0.01 || k.y < b.y || k.y+k.h > b.y+b.h+0.01 {
				t.Errorf("%s sticks out of %s", kp, path)
			}
			if i > 0 {
				prev := b.kids[i-1]
				if k.y < prev.y+prev.h {
					t.Errorf("%s overlaps %s", kp, prev.title)
				}
			}
			check(k, kp)
		}
	}
	for i, c := range p.cols {
		check(c, c.title)
		if c.y < p.colTop || c.x < svgMargin || c.x+c.W > p.width-svgMargin+0.01 || c.y+c.h > p.height-svgMargin+0.01 {
			t.Errorf("column %d outside the picture", i)
		}
		if i > 0 && c.x < p.cols[i-1].x+p.cols[i-1].W+svgColGap-0.01 {
			t.Errorf("column %d overlaps column %d", i, i-1)
		}
	}
	for i := range p.peerings {
		if y := p.colTop - 14 - float64(p.lanes[i])*svgLaneGap; y-16 < svgMargin+26 {
			t.Errorf("peering %d lane at %.1f runs into the title", i, y)
		}
	}
}

// TestTopologySVGTextWidth checks the font metrics against known widths.
func TestTopologySVGTextWidth(t *testing.T) {
	// "W" is 2025 units, "i" 569, in DejaVu Sans; at 2048 px a unit is a
	// pixel (plus 4%).
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if got := svgTextWidth("Wi", 2048, false); !near(got, (2025+569)*1.04) {
		t.Errorf("Wi = %v", got)
	}
	if svgTextWidth("abc", 12, true) <= svgTextWidth("abc", 12, false) {
		t.Errorf("bold is not wider")
	}
	if !near(svgTextWidth("日本", 10, false), 2*10*1.04) || !near(svgTextWidth("→", 2048, false), 1716*1.04) {
		t.Errorf("wide characters")
	}
	if svgName(strings.Repeat("x", 61)) != strings.Repeat("x", 59)+"…" || svgName("short") != "short" {
		t.Errorf("svgName")
	}
}

// TestTopologyEveryExport draws every test export of the package, whole
// (--all), problems and all: no panic, well-formed SVG naming every
// resource, a sound layout, DOT with balanced braces.
func TestTopologyEveryExport(t *testing.T) {
	dirs := []string{"azure-examples", "problems", "scenarios/rest", "scenarios/azcli", "scenarios/azcreate",
		"scenarios/arm-template", "scenarios/powershell", "view"}
	for _, dir := range dirs {
		t.Run(dir, func(t *testing.T) {
			n, _, _ := Load(filepath.Join(testdataDir, dir)) // problems/ holds files that are not JSON
			v, err := n.View(ViewRequest{All: true}, ViewOptions{Time: viewTime})
			if err != nil {
				t.Fatal(err)
			}
			var svg, dot bytes.Buffer
			if err := v.WriteSVG(&svg); err != nil {
				t.Fatal(err)
			}
			text, _ := svgText(t, svg.Bytes())
			for _, r := range v.Resources {
				if !strings.Contains(text, svgName(r.Name)) {
					t.Errorf("%s is not in the picture", r.Name)
				}
			}
			checkSVGLayout(t, svgLayout(v.scene()))
			if err := v.WriteDOT(&dot); err != nil {
				t.Fatal(err)
			}
			if o, c := strings.Count(dot.String(), "{"), strings.Count(dot.String(), "}"); o != c {
				t.Errorf("DOT: %d { and %d }", o, c)
			}
		})
	}
}
