package transforms

import (
	"testing"
	"time"
)

func TestJavaDateFormat(t *testing.T) {
	at := time.Date(2024, time.March, 5, 14, 7, 9, 45_000_000, time.UTC)
	for _, tc := range []struct{ pattern, want string }{
		{"yyyyMMdd", "20240305"},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSZ", "2024-03-05T14:07:09.045+0000"},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "2024-03-05T14:07:09.045Z"},
		{"yy/M/d H:m:s", "24/3/5 14:7:9"},
		{"EEE, d MMM yyyy hh:mm a z", "Tue, 5 Mar 2024 02:07 PM UTC"},
		{"EEEE MMMM", "Tuesday March"},
		{"D DDD w W F u k K G", "65 065 10 2 1 2 14 2 AD"},
		{"'o''clock' ''", "o'clock '"},
		{"S SS SSSS", "45 45 0045"},
		{"zzzz", "Coordinated Universal Time"},
		{"YYYY-ww", "2024-10"},
	} {
		f, err := compileJavaDateFormat(tc.pattern)
		if err != nil {
			t.Errorf("%q: %v", tc.pattern, err)
			continue
		}
		if got := f.format(at); got != tc.want {
			t.Errorf("format %q = %q, want %q", tc.pattern, got, tc.want)
		}
	}
	// US week year: 2024-12-29 (a Sunday) starts week 1 of 2025.
	f, _ := compileJavaDateFormat("YYYY-ww yyyy")
	if got := f.format(time.Date(2024, 12, 29, 0, 0, 0, 0, time.UTC)); got != "2025-01 2024" {
		t.Errorf("week year: %q", got)
	}
	for _, bad := range []string{"bad-format", "yyyy'", "XXXX", "ffff"} {
		if _, err := compileJavaDateFormat(bad); err == nil {
			t.Errorf("%q compiled", bad)
		}
	}
}

func TestJavaDateParse(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		pattern, in string
		want        time.Time
	}{
		{"yyyyMMdd", "20240305", time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC)},
		{"yyyy-MM-dd HH:mm:ss.SSS", "2024-03-05 14:07:09.045", time.Date(2024, 3, 5, 14, 7, 9, 45e6, time.UTC)},
		{"yyyy-MM-dd", "2024-3-5 trailing text", time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC)},
		{"yyyy-MM-dd'T'HH:mm:ssXXX", "2024-03-05T14:07:09+02:00", time.Date(2024, 3, 5, 12, 7, 9, 0, time.UTC)},
		{"yyyy-MM-dd'T'HH:mm:ssZ", "2024-03-05T14:07:09-0130", time.Date(2024, 3, 5, 15, 37, 9, 0, time.UTC)},
		{"dd MMM yy hh:mm a", "05 mar 24 02:07 PM", time.Date(2024, 3, 5, 14, 7, 0, 0, time.UTC)},
		{"dd MMMM yy", "05 December 50", time.Date(1950, 12, 5, 0, 0, 0, 0, time.UTC)},
		{"yyyy-MM-dd", "2024-02-30", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)}, // lenient
		{"HH:mm", "25:00", time.Date(1970, 1, 2, 1, 0, 0, 0, time.UTC)},
		{"yyyy-DDD", "2024-060", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"yyyy MM dd HH mm ss SSS z", "1970 01 02 00 00 01 234 UTC", time.Date(1970, 1, 2, 0, 0, 1, 234e6, time.UTC)},
		{"yyyy MM dd z", "2024 01 02 GMT+05:00", time.Date(2024, 1, 1, 19, 0, 0, 0, time.UTC)},
	} {
		f, err := compileJavaDateFormat(tc.pattern)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.parse(tc.in, now)
		if err != nil {
			t.Errorf("parse %q with %q: %v", tc.in, tc.pattern, err)
			continue
		}
		if !got.Equal(tc.want) {
			t.Errorf("parse %q with %q = %v, want %v", tc.in, tc.pattern, got, tc.want)
		}
	}
	f, _ := compileJavaDateFormat("yyyy-MM-dd")
	for _, bad := range []string{"", "2024/03/05", "x"} {
		if _, err := f.parse(bad, now); err == nil {
			t.Errorf("parsed %q", bad)
		}
	}
}
