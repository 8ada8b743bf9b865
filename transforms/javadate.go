package transforms

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// javaDateFormat is java.text.SimpleDateFormat in the UTC time zone, the
// US locale and the Gregorian calendar, which is how TimestampConverter
// and TimestampRouter configure it. Patterns use Java's letters, not Go's
// reference layout:
//
//	G era (AD)          y year              Y week year (US weeks)
//	M L month (1, 01, Jan, January)         w W week in year / month
//	D day in year       d day in month      F day of week in month
//	E day name (Mon, Monday)                u day number (1 = Monday)
//	a AM/PM             H 0-23   k 1-24     K 0-11   h 1-12
//	m minute            s second            S millisecond (a count, not a fraction)
//	z zone name (UTC)   Z +0000             X Z, +00, +0000, +00:00
//	'text' literal text                     '' a single quote
//
// Other ASCII letters are rejected, as Java does ("Illegal pattern
// character"). Parsing is lenient like Java's default: numbers may be
// longer or shorter than the pattern unless two numeric fields abut,
// out-of-range values roll over, trailing text is ignored, and fields
// the pattern lacks default to 1970-01-01T00:00:00.000Z. Week-based
// fields (Y w W F E u) are accepted but ignored when parsing.
type javaDateFormat struct {
	pattern string
	items   []dfItem
}

// dfItem is one element of a compiled pattern: literal text, or a pattern
// letter repeated count times.
type dfItem struct {
	lit    string
	letter byte
	count  int
}

const javaPatternLetters = "GyMdkHmsSEDFwWahKzZYuXL"

var errUnterminatedQuote = errors.New("Unterminated quote")

// compileJavaDateFormat compiles a SimpleDateFormat pattern, with Java's
// error messages for illegal ones.
func compileJavaDateFormat(pattern string) (*javaDateFormat, error) {
	f := &javaDateFormat{pattern: pattern}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			f.items = append(f.items, dfItem{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(pattern); {
		c := pattern[i]
		switch {
		case c == '\'':
			if i+1 < len(pattern) && pattern[i+1] == '\'' {
				lit.WriteByte('\'')
				i += 2
				continue
			}
			i++
			closed := false
			for i < len(pattern) {
				if pattern[i] == '\'' {
					if i+1 < len(pattern) && pattern[i+1] == '\'' {
						lit.WriteByte('\'')
						i += 2
						continue
					}
					closed = true
					i++
					break
				}
				lit.WriteByte(pattern[i])
				i++
			}
			if !closed {
				return nil, errUnterminatedQuote
			}
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			if strings.IndexByte(javaPatternLetters, c) < 0 {
				return nil, errors.New("Illegal pattern character '" + string(c) + "'")
			}
			n := 1
			for i+n < len(pattern) && pattern[i+n] == c {
				n++
			}
			if c == 'X' && n > 3 {
				return nil, errors.New("invalid ISO 8601 format: length=" + strconv.Itoa(n))
			}
			flush()
			f.items = append(f.items, dfItem{letter: c, count: n})
			i += n
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return f, nil
}

var (
	longMonths  = [...]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	shortMonths = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
	longDays    = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	shortDays   = [...]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
)

// appendNum appends n zero-padded to width digits (a leading '-' for
// negative numbers, as Java's DecimalFormat does).
func appendNum(b []byte, n, width int) []byte {
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(n), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// usWeek returns the US-locale week year and week of year of t (weeks
// start on Sunday; week 1 is the week containing January 1).
func usWeek(t time.Time) (int, int) {
	year := t.Year()
	endOfWeek := t.AddDate(0, 0, 6-int(t.Weekday()))
	if endOfWeek.Year() > year {
		return year + 1, 1
	}
	jan1 := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	return year, (t.YearDay()-1+int(jan1.Weekday()))/7 + 1
}

// format renders t (in UTC) with the pattern.
func (f *javaDateFormat) format(t time.Time) string {
	return string(f.appendFormat(make([]byte, 0, len(f.pattern)+8), t))
}

func (f *javaDateFormat) appendFormat(b []byte, t time.Time) []byte {
	t = t.UTC()
	for _, it := range f.items {
		if it.letter == 0 {
			b = append(b, it.lit...)
			continue
		}
		n := it.count
		switch it.letter {
		case 'G':
			if t.Year() > 0 {
				b = append(b, "AD"...)
			} else {
				b = append(b, "BC"...)
			}
		case 'y', 'Y':
			y := t.Year()
			if it.letter == 'Y' {
				y, _ = usWeek(t)
			}
			if y <= 0 {
				y = 1 - y // year of era
			}
			if n == 2 {
				b = appendNum(b, y%100, 2)
			} else {
				b = appendNum(b, y, n)
			}
		case 'M', 'L':
			m := int(t.Month())
			switch {
			case n >= 4:
				b = append(b, longMonths[m-1]...)
			case n == 3:
				b = append(b, shortMonths[m-1]...)
			default:
				b = appendNum(b, m, n)
			}
		case 'w':
			_, w := usWeek(t)
			b = appendNum(b, w, n)
		case 'W':
			first := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
			b = appendNum(b, (t.Day()-1+int(first.Weekday()))/7+1, n)
		case 'D':
			b = appendNum(b, t.YearDay(), n)
		case 'd':
			b = appendNum(b, t.Day(), n)
		case 'F':
			b = appendNum(b, (t.Day()-1)/7+1, n)
		case 'E':
			if n >= 4 {
				b = append(b, longDays[t.Weekday()]...)
			} else {
				b = append(b, shortDays[t.Weekday()]...)
			}
		case 'u':
			d := int(t.Weekday())
			if d == 0 {
				d = 7
			}
			b = appendNum(b, d, n)
		case 'a':
			if t.Hour() < 12 {
				b = append(b, "AM"...)
			} else {
				b = append(b, "PM"...)
			}
		case 'H':
			b = appendNum(b, t.Hour(), n)
		case 'k':
			h := t.Hour()
			if h == 0 {
				h = 24
			}
			b = appendNum(b, h, n)
		case 'K':
			b = appendNum(b, t.Hour()%12, n)
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			b = appendNum(b, h, n)
		case 'm':
			b = appendNum(b, t.Minute(), n)
		case 's':
			b = appendNum(b, t.Second(), n)
		case 'S':
			b = appendNum(b, t.Nanosecond()/1e6, n)
		case 'z':
			if n >= 4 {
				b = append(b, "Coordinated Universal Time"...)
			} else {
				b = append(b, "UTC"...)
			}
		case 'Z':
			b = append(b, "+0000"...)
		case 'X':
			b = append(b, 'Z')
		}
	}
	return b
}

// errParse reports that text does not match the pattern at all.
var errParse = errors.New("Unparseable date")

// isNumericItem reports whether it is a field parsed as digits.
func isNumericItem(it dfItem) bool {
	switch it.letter {
	case 'y', 'Y', 'd', 'H', 'k', 'K', 'h', 'm', 's', 'S', 'D', 'F', 'w', 'W', 'u':
		return true
	case 'M', 'L':
		return it.count <= 2
	}
	return false
}

// parse parses s from its start, as DateFormat.parse(String) does. now
// is used for the two-digit-year century window.
func (f *javaDateFormat) parse(s string, now time.Time) (time.Time, error) {
	year, month, day := 1970, 1, 1
	hour, minute, sec, milli := 0, 0, 0, 0
	yearDay := 0
	pm, hasAmPm, hour12 := false, false, false
	era := 1
	loc := time.UTC
	hasYear := false
	pos := 0
	for idx, it := range f.items {
		if it.letter == 0 {
			if !strings.HasPrefix(s[pos:], it.lit) {
				return time.Time{}, errParse
			}
			pos += len(it.lit)
			continue
		}
		if isNumericItem(it) {
			width := 0
			if idx+1 < len(f.items) && isNumericItem(f.items[idx+1]) {
				width = it.count // abutting numeric fields: obey the count
			}
			v, n, ok := parseJavaInt(s[pos:], width)
			if !ok {
				return time.Time{}, errParse
			}
			pos += n
			switch it.letter {
			case 'y':
				year, hasYear = v, true
				if it.count <= 2 && n == 2 && v >= 0 && s[pos-2] >= '0' && s[pos-2] <= '9' {
					year = twoDigitYear(v, now)
				}
			case 'Y':
				if !hasYear {
					year = v
				}
			case 'M', 'L':
				month = v
			case 'd':
				day = v
			case 'D':
				yearDay = v
			case 'H':
				hour, hour12 = v, false
			case 'k':
				if v == 24 {
					v = 0
				}
				hour, hour12 = v, false
			case 'K':
				hour, hour12 = v, true
			case 'h':
				if v == 12 {
					v = 0
				}
				hour, hour12 = v, true
			case 'm':
				minute = v
			case 's':
				sec = v
			case 'S':
				milli = v
			}
			continue
		}
		rest := s[pos:]
		switch it.letter {
		case 'G':
			switch {
			case hasPrefixFold(rest, "AD"):
				era, pos = 1, pos+2
			case hasPrefixFold(rest, "BC"):
				era, pos = 0, pos+2
			default:
				return time.Time{}, errParse
			}
		case 'M', 'L':
			m, n := matchName(rest, longMonths[:], shortMonths[:])
			if m < 0 {
				return time.Time{}, errParse
			}
			month, pos = m+1, pos+n
		case 'E':
			d, n := matchName(rest, longDays[:], shortDays[:])
			if d < 0 {
				return time.Time{}, errParse
			}
			pos += n
		case 'a':
			switch {
			case hasPrefixFold(rest, "AM"):
				pm, hasAmPm, pos = false, true, pos+2
			case hasPrefixFold(rest, "PM"):
				pm, hasAmPm, pos = true, true, pos+2
			default:
				return time.Time{}, errParse
			}
		case 'z', 'Z', 'X':
			l, n, ok := parseZone(rest)
			if !ok {
				return time.Time{}, errParse
			}
			loc, pos = l, pos+n
		}
	}
	if era == 0 {
		year = 1 - year
	}
	if hasAmPm && pm && (hour12 || hour < 12) {
		hour += 12
	}
	if yearDay > 0 {
		month, day = 1, yearDay
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, milli*1e6, loc)
	return t.UTC(), nil
}

// twoDigitYear resolves "yy" as SimpleDateFormat does: into the century
// window starting 80 years before now.
func twoDigitYear(v int, now time.Time) int {
	start := now.UTC().AddDate(-80, 0, 0).Year()
	y := start/100*100 + v
	if y < start {
		y += 100
	}
	return y
}

// parseJavaInt reads an optionally signed decimal number; width > 0 reads
// exactly width characters.
func parseJavaInt(s string, width int) (v, n int, ok bool) {
	end := len(s)
	if width > 0 && width < end {
		end = width
	}
	i := 0
	neg := false
	if i < end && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	start := i
	for i < end && s[i] >= '0' && s[i] <= '9' {
		v = v*10 + int(s[i]-'0')
		i++
		if v > 1<<40 {
			return 0, 0, false
		}
	}
	if i == start {
		return 0, 0, false
	}
	if neg {
		v = -v
	}
	return v, i, true
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// matchName finds the longest name (long forms first) that s starts with,
// ignoring case, returning its index and length.
func matchName(s string, long, short []string) (int, int) {
	for i, n := range long {
		if hasPrefixFold(s, n) {
			return i, len(n)
		}
	}
	for i, n := range short {
		if hasPrefixFold(s, n) {
			return i, len(n)
		}
	}
	return -1, 0
}

// parseZone reads a zone: UTC, GMT, UT, Z, "Coordinated Universal Time",
// an offset (+hh, +hhmm, +hh:mm) or GMT/UTC followed by an offset.
func parseZone(s string) (*time.Location, int, bool) {
	n := 0
	switch {
	case hasPrefixFold(s, "Coordinated Universal Time"):
		return time.UTC, len("Coordinated Universal Time"), true
	case hasPrefixFold(s, "UTC"), hasPrefixFold(s, "GMT"):
		n = 3
	case hasPrefixFold(s, "UT"):
		n = 2
	case strings.HasPrefix(s, "Z"):
		return time.UTC, 1, true
	}
	rest := s[n:]
	if len(rest) == 0 || (rest[0] != '+' && rest[0] != '-') {
		return time.UTC, n, n > 0
	}
	sign := 1
	if rest[0] == '-' {
		sign = -1
	}
	i := 1
	digits := func(k int) (int, bool) {
		if i+k > len(rest) {
			return 0, false
		}
		v := 0
		for j := 0; j < k; j++ {
			c := rest[i+j]
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		i += k
		return v, true
	}
	hh, ok := digits(2)
	if !ok {
		return time.UTC, n, n > 0
	}
	mm := 0
	if i < len(rest) && rest[i] == ':' {
		i++
		if mm, ok = digits(2); !ok {
			return nil, 0, false
		}
	} else if v, ok := digits(2); ok {
		mm = v
	}
	off := sign * (hh*3600 + mm*60)
	return time.FixedZone("", off), n + i, true
}
