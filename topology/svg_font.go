package topology

// Advance widths of DejaVu Sans Book and Bold for ASCII 32–126, in units
// of 1/2048 em, read from the fonts' hmtx tables (DejaVu fonts 2.37). The
// SVG asks for DejaVu Sans first; Verdana, its usual stand-in, is about as
// wide, and narrower fonts (Helvetica, Arial) only leave more room.
var (
	dejaVuSans = [95]uint16{
		651, 821, 942, 1716, 1303, 1946, 1597, 563, 799, 799, 1024, 1716, 651, 739, 651, 690,
		1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 690, 690, 1716, 1716, 1716, 1087,
		2048, 1401, 1405, 1430, 1577, 1294, 1178, 1587, 1540, 604, 604, 1343, 1141, 1767, 1532, 1612,
		1235, 1612, 1423, 1300, 1251, 1499, 1401, 2025, 1403, 1251, 1403, 799, 690, 799, 1716, 1024,
		1024, 1255, 1300, 1126, 1300, 1260, 721, 1300, 1298, 569, 569, 1186, 569, 1995, 1298, 1253,
		1300, 1300, 842, 1067, 803, 1298, 1212, 1675, 1212, 1212, 1075, 1303, 690, 1303, 1716,
	}
	dejaVuSansBold = [95]uint16{
		713, 934, 1067, 1716, 1425, 2052, 1786, 627, 936, 936, 1071, 1716, 778, 850, 778, 748,
		1425, 1425, 1425, 1425, 1425, 1425, 1425, 1425, 1425, 1425, 819, 819, 1716, 1716, 1716, 1188,
		2048, 1585, 1561, 1503, 1700, 1399, 1399, 1681, 1714, 762, 762, 1587, 1305, 2038, 1714, 1741,
		1501, 1741, 1577, 1475, 1397, 1663, 1585, 2259, 1579, 1483, 1485, 936, 748, 936, 1716, 1024,
		1024, 1382, 1466, 1214, 1466, 1389, 891, 1466, 1458, 702, 702, 1362, 702, 2134, 1458, 1407,
		1466, 1466, 1010, 1219, 979, 1458, 1335, 1892, 1321, 1335, 1192, 1458, 748, 1458, 1716,
	}
)

// svgTextWidth estimates the width of s in px at a font size, with 4% to
// spare. Other characters than ASCII count as wide as "→" (1716 units,
// more than any Latin letter), "…" and the wide scripts (CJK, Hangul) as
// one em.
func svgTextWidth(s string, size float64, bold bool) float64 {
	table := &dejaVuSans
	if bold {
		table = &dejaVuSansBold
	}
	units := 0
	for _, r := range s {
		switch {
		case r >= 32 && r < 127:
			units += int(table[r-32])
		case r == '·':
			units += int(table['.'-32])
		case r == '…', r >= 0x1100 && r <= 0x115f, r >= 0x2e80 && r <= 0xa4cf, r >= 0xac00 && r <= 0xd7a3, r >= 0xf900 && r <= 0xfaff, r >= 0xff00 && r <= 0xff60:
			units += 2048
		default:
			units += 1716
		}
	}
	return float64(units) / 2048 * size * 1.04
}
