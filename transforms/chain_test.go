package transforms

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/sluicedata/sluice/connectors"
)

func newChainT(t *testing.T, cfg map[string]string) *Chain {
	t.Helper()
	c, err := NewChain(cfg, BuiltinLookup)
	if err != nil {
		t.Fatalf("NewChain: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestChainOrderAndAliases(t *testing.T) {
	c := newChainT(t, map[string]string{
		"transforms":                    "route, insert,hdr",
		"transforms.route.type":         "org.apache.kafka.connect.transforms.RegexRouter",
		"transforms.route.regex":        "(.*)",
		"transforms.route.replacement":  "routed-$1",
		"transforms.insert.type":        "insert-field-value",
		"transforms.insert.topic.field": "topic",
		"transforms.hdr.type":           "InsertHeader",
		"transforms.hdr.header":         "h",
		"transforms.hdr.value.literal":  "v",
	})
	if c.Len() != 3 {
		t.Fatalf("len %d", c.Len())
	}
	out, keep, err := c.Apply(sinkRecord("orders", nil, nil, nil, map[string]any{"id": 1}))
	if err != nil || !keep {
		t.Fatal(keep, err)
	}
	if out.Topic != "routed-orders" {
		t.Errorf("topic %q", out.Topic)
	}
	// InsertField ran after the router, so it saw the new topic.
	eq(t, "value", out.Value, map[string]any{"id": 1, "topic": "routed-orders"})
	if v, _ := header(out, "h"); v != "v" {
		t.Errorf("header %v", out.Headers)
	}
}

func TestChainPredicates(t *testing.T) {
	for _, tc := range []struct {
		negate  string
		dropFoo bool
		dropBar bool
	}{{"", true, false}, {"false", true, false}, {"true", false, true}} {
		cfg := map[string]string{
			"transforms":                "drop",
			"transforms.drop.type":      "Filter",
			"transforms.drop.predicate": "isFoo",
			"predicates":                "isFoo",
			"predicates.isFoo.type":     "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
			"predicates.isFoo.pattern":  "foo.*",
		}
		if tc.negate != "" {
			cfg["transforms.drop.negate"] = tc.negate
		}
		c := newChainT(t, cfg)
		for topic, dropped := range map[string]bool{"foo-1": tc.dropFoo, "bar": tc.dropBar} {
			_, keep, err := c.Apply(sinkRecord(topic, nil, nil, nil, "v"))
			if err != nil || keep == dropped {
				t.Errorf("negate=%q %s: keep=%v err=%v", tc.negate, topic, keep, err)
			}
		}
	}
}

func TestChainTombstoneAndHeaderPredicates(t *testing.T) {
	c := newChainT(t, map[string]string{
		"transforms":                          "dropTombstones,mark,unmark",
		"transforms.dropTombstones.type":      "filter",
		"transforms.dropTombstones.predicate": "tomb",
		"transforms.mark.type":                "insert-header",
		"transforms.mark.header":              "seen",
		"transforms.mark.value.literal":       "1",
		"transforms.mark.predicate":           "hasTrace",
		"transforms.mark.negate":              "true",
		"transforms.unmark.type":              "drop-headers",
		"transforms.unmark.headers":           "trace",
		"transforms.unmark.predicate":         "hasTrace",
		"predicates":                          "tomb,hasTrace",
		"predicates.tomb.type":                "RecordIsTombstone",
		"predicates.hasTrace.type":            "has-header-key",
		"predicates.hasTrace.name":            "trace",
	})
	if _, keep, _ := c.Apply(sinkRecord("t", nil, nil, nil, nil)); keep {
		t.Error("tombstone kept")
	}
	out, _, _ := c.Apply(sinkRecord("t", nil, nil, nil, "v"))
	if _, ok := header(out, "seen"); !ok {
		t.Error("untraced record not marked")
	}
	r := sinkRecord("t", nil, nil, nil, "v")
	r.Headers.Add("trace", nil, "x")
	out, _, _ = c.Apply(r)
	if len(out.Headers) != 0 {
		t.Errorf("traced record: %v", out.Headers)
	}
}

func TestChainEmpty(t *testing.T) {
	c := newChainT(t, map[string]string{"name": "x"})
	r := sinkRecord("t", nil, nil, nil, "v")
	out, keep, err := c.Apply(r)
	if err != nil || !keep || out.Value != "v" || c.Len() != 0 {
		t.Error("empty chain changed the record")
	}
	var nilChain *Chain
	if _, keep, _ := nilChain.Apply(r); !keep || nilChain.Close() != nil {
		t.Error("nil chain")
	}
}

func TestChainErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  map[string]string
		want []string // every message must appear
	}{
		{"unknown class", map[string]string{"transforms": "route", "transforms.route.type": "foo"},
			[]string{"Invalid value foo for configuration transforms.route.type: Class foo could not be found."}},
		{"missing type", map[string]string{"transforms": "route"},
			[]string{`Missing required configuration "transforms.route.type" which has no default value.`}},
		{"bad key", map[string]string{"transforms": "route", "transforms.route.type": "RegexRouter", "transforms.route.regex": "(", "transforms.route.replacement": "x"},
			[]string{"Invalid value ( for configuration transforms.route.regex: Invalid regex:"}},
		{"missing key", map[string]string{"transforms": "route", "transforms.route.type": "RegexRouter", "transforms.route.regex": "x"},
			[]string{`Missing required configuration "transforms.route.replacement" which has no default value.`}},
		{"key without name", map[string]string{"transforms": "ins", "transforms.ins.type": "InsertField$Value"},
			[]string{"Invalid configuration transforms.ins: No field insertion configured"}},
		{"cross-key", map[string]string{"transforms": "hf", "transforms.hf.type": "HeaderFrom$Value", "transforms.hf.fields": "a,b", "transforms.hf.headers": "h", "transforms.hf.operation": "copy"},
			[]string{"Invalid configuration transforms.hf.headers: 'fields' config must have the same number of elements as 'headers' config."}},
		{"predicate not listed", map[string]string{"transforms": "f", "transforms.f.type": "Filter", "transforms.f.predicate": "p"},
			[]string{"Invalid value p for configuration transforms.f.predicate: Predicate p is not listed in predicates"}},
		{"negate without predicate", map[string]string{"transforms": "f", "transforms.f.type": "Filter", "transforms.f.negate": "true"},
			[]string{"Config 'transforms.f.negate' was provided but there is no config 'transforms.f.predicate' defining a predicate to be negated."}},
		{"negate not boolean", map[string]string{"transforms": "f", "transforms.f.type": "Filter", "transforms.f.negate": "maybe", "transforms.f.predicate": "p",
			"predicates": "p", "predicates.p.type": "RecordIsTombstone"},
			[]string{"Invalid value maybe for configuration transforms.f.negate: Expected value to be either true or false"}},
		{"predicate config", map[string]string{"predicates": "p", "predicates.p.type": "TopicNameMatches"},
			[]string{`Missing required configuration "predicates.p.pattern" which has no default value.`}},
		{"predicate as transform", map[string]string{"transforms": "f", "transforms.f.type": "RecordIsTombstone"},
			[]string{"Invalid value RecordIsTombstone for configuration transforms.f.type: Class RecordIsTombstone is not a Transformation."}},
		{"transform as predicate", map[string]string{"predicates": "p", "predicates.p.type": "Filter"},
			[]string{"Invalid value Filter for configuration predicates.p.type: Class Filter is not a Predicate."}},
		{"duplicate alias", map[string]string{"transforms": "a,a"},
			[]string{"Invalid value [a, a] for configuration transforms: Duplicate alias provided."}},
		{"all at once", map[string]string{"transforms": "a,b", "transforms.a.type": "nope", "transforms.b.type": "Cast$Value", "transforms.b.spec": "x:wrong"},
			[]string{"Class nope could not be found.", "Invalid value [x:wrong] for configuration transforms.b.spec: Invalid type found in casting spec: wrong"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewChain(tc.cfg, BuiltinLookup)
			if err == nil {
				c.Close()
				t.Fatal("no error")
			}
			if !errors.Is(err, connectors.ErrInvalidConfig) {
				t.Errorf("%v does not match ErrInvalidConfig", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func TestChainStageError(t *testing.T) {
	c := newChainT(t, map[string]string{"transforms": "extract", "transforms.extract.type": "ExtractField$Value", "transforms.extract.field": "x"})
	_, _, err := c.Apply(sinkRecord("t", nil, nil, connectors.Int32Schema, int32(1)))
	var se *StageError
	if !errors.As(err, &se) || se.Alias != "extract" || se.Class != "org.apache.kafka.connect.transforms.ExtractField$Value" {
		t.Fatalf("error %v", err)
	}
	if !errors.Is(err, connectors.ErrData) {
		t.Error("stage error does not unwrap to ErrData")
	}
	if !strings.HasPrefix(err.Error(), "transforms.extract (org.apache.kafka.connect.transforms.ExtractField$Value): Only Struct objects supported") {
		t.Errorf("message %q", err)
	}
}

type panicky struct{ filter }

func (panicky) Apply(connectors.Record) (connectors.Record, bool, error) { panic("boom") }

func TestChainRecoversPanics(t *testing.T) {
	lookup := func(class string) (Plugin, bool) {
		if class == "Panicky" {
			return Plugin{Class: "Panicky", New: func() any { return panicky{} }}, true
		}
		return BuiltinLookup(class)
	}
	c, err := NewChain(map[string]string{"transforms": "p", "transforms.p.type": "Panicky"}, lookup)
	if err != nil {
		t.Fatal(err)
	}
	_, keep, err := c.Apply(sinkRecord("t", nil, nil, nil, nil))
	var se *StageError
	if keep || !errors.As(err, &se) || se.Alias != "p" || !strings.Contains(err.Error(), "panic: boom") {
		t.Errorf("keep %v err %v", keep, err)
	}
}

func TestChainConcurrentApply(t *testing.T) {
	c := newChainT(t, map[string]string{
		"transforms":                    "unwrap,drop,insert,route",
		"transforms.unwrap.type":        "unwrap",
		"transforms.unwrap.add.fields":  "op",
		"transforms.drop.type":          "ReplaceField$Value",
		"transforms.drop.exclude":       "name",
		"transforms.insert.type":        "InsertField$Value",
		"transforms.insert.topic.field": "src",
		"transforms.route.type":         "RegexRouter",
		"transforms.route.regex":        "(.*)",
		"transforms.route.replacement":  "x.$1",
	})
	d := newDebezium(t, defaultRecordSchema(t))
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				r := d.update()
				if i%2 == 0 {
					r = d.create()
				}
				out, keep, err := c.Apply(r)
				if err != nil || !keep || out.Topic != "x.dummy" {
					t.Errorf("apply: %v %v %q", keep, err, out.Topic)
					return
				}
			}
		}()
	}
	wg.Wait()
}
