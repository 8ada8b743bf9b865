package transforms

import (
	"testing"
)

func TestTimestampRouter(t *testing.T) {
	tr := newTransform(t, "TimestampRouter", nil)
	r := sourceRecord("test", nil, nil, nil, nil)
	r.Timestamp = ms(1483425001864)
	if got := apply(t, tr, r).Topic; got != "test-20170103" {
		t.Errorf("default: %q", got)
	}
	tr = newTransform(t, "TimestampRouter", map[string]string{"topic.format": "${timestamp}_${topic}_${topic}", "timestamp.format": "yyyy-MM-dd'T'HH"})
	if got := apply(t, tr, r).Topic; got != "2017-01-03T06_test_test" {
		t.Errorf("custom: %q", got)
	}
	applyErr(t, tr, sourceRecord("test", nil, nil, nil, nil), "Timestamp missing on record")
	wantConfigError(t, configureErr(t, "TimestampRouter", map[string]string{"timestamp.format": "yyyy'"}), "timestamp.format", "Unterminated quote")
}
