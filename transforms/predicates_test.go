package transforms

import (
	"testing"

	"github.com/sluicedata/sluice/connectors"
)

func newPredicateT(t *testing.T, class string, cfg map[string]string) Predicate {
	t.Helper()
	p, ok := BuiltinLookup(class)
	if !ok || !p.Predicate {
		t.Fatalf("no predicate %q", class)
	}
	pr := p.New().(Predicate)
	if err := pr.Configure(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pr.Close() })
	return pr
}

func TestTopicNameMatches(t *testing.T) {
	p := newPredicateT(t, "TopicNameMatches", map[string]string{"pattern": "my-prefix-.*"})
	for topic, want := range map[string]bool{"my-prefix-": true, "my-prefix-foo": true, "x-my-prefix-": false, "x-my-prefix-foo": false,
		"your-prefix-": false, "your-prefix-foo": false, "": false} {
		if got := p.Test(sinkRecord(topic, nil, nil, nil, nil)); got != want {
			t.Errorf("%q: %v", topic, got)
		}
	}
	wantConfigError(t, configureErr(t, "TopicNameMatches", map[string]string{"pattern": "["}), "pattern", "Invalid regex")
	wantConfigError(t, configureErr(t, "TopicNameMatches", map[string]string{"pattern": ""}), "pattern", "String must be non-empty")
	wantConfigError(t, configureErr(t, "TopicNameMatches", nil), "pattern", "Missing required configuration")
}

func TestHasHeaderKey(t *testing.T) {
	p := newPredicateT(t, "HasHeaderKey", map[string]string{"name": "foo"})
	for _, tc := range []struct {
		headers []string
		want    bool
	}{{nil, false}, {[]string{"foo"}, true}, {[]string{"bar", "foo", "bar", "foo"}, true}, {[]string{"bar", "baz"}, false}} {
		r := sinkRecord("t", nil, nil, nil, nil)
		for _, h := range tc.headers {
			r.Headers.Add(h, nil, nil)
		}
		if got := p.Test(r); got != tc.want {
			t.Errorf("%v: %v", tc.headers, got)
		}
	}
	wantConfigError(t, configureErr(t, "HasHeaderKey", map[string]string{"name": ""}), "name", "String must be non-empty")
}

func TestRecordIsTombstone(t *testing.T) {
	p := newPredicateT(t, "RecordIsTombstone", nil)
	if !p.Test(sinkRecord("t", nil, nil, nil, nil)) || !p.Test(sinkRecord("t", nil, nil, connectors.OptionalStringSchema, nil)) {
		t.Error("tombstone not detected")
	}
	if p.Test(sinkRecord("t", nil, nil, nil, "v")) {
		t.Error("value detected as tombstone")
	}
	var nilStruct *connectors.Struct
	if !p.Test(sinkRecord("t", nil, nil, nil, nilStruct)) {
		t.Error("typed nil not a tombstone")
	}
}

func TestFilter(t *testing.T) {
	tr := newTransform(t, "Filter", nil)
	if _, keep, err := tr.Apply(sinkRecord("t", nil, nil, nil, "v")); keep || err != nil {
		t.Errorf("keep %v err %v", keep, err)
	}
}
