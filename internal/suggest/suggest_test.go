package suggest

import (
	"maps"
	"testing"
)

func TestClosest(t *testing.T) {
	known := map[string]bool{"log.retention.ms": true, "log.retention.hours": true, "num.partitions": true}
	for _, tc := range []struct {
		name  string
		limit int
		want  string
	}{
		{"log.retention.msx", 3, "log.retention.ms"},
		{"log.retention.hour", 3, "log.retention.hours"},
		{"num.partition", 1, "num.partitions"},
		{"zookeeper.connect", 3, ""},
	} {
		if got := Closest(tc.name, maps.Keys(known), tc.limit); got != tc.want {
			t.Errorf("Closest(%q, %d) = %q, want %q", tc.name, tc.limit, got, tc.want)
		}
	}
	if d := Distance("kitten", "sitting"); d != 3 {
		t.Fatalf("Distance = %d", d)
	}
}
