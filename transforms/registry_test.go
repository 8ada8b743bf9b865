package transforms

import (
	"testing"
)

func TestBuiltins(t *testing.T) {
	want := []string{
		"io.debezium.transforms.ByLogicalTableRouter",
		"io.debezium.transforms.ExtractNewRecordState",
		"org.apache.kafka.connect.transforms.Cast$Key", "org.apache.kafka.connect.transforms.Cast$Value",
		"org.apache.kafka.connect.transforms.DropHeaders",
		"org.apache.kafka.connect.transforms.ExtractField$Key", "org.apache.kafka.connect.transforms.ExtractField$Value",
		"org.apache.kafka.connect.transforms.Filter",
		"org.apache.kafka.connect.transforms.Flatten$Key", "org.apache.kafka.connect.transforms.Flatten$Value",
		"org.apache.kafka.connect.transforms.HeaderFrom$Key", "org.apache.kafka.connect.transforms.HeaderFrom$Value",
		"org.apache.kafka.connect.transforms.HoistField$Key", "org.apache.kafka.connect.transforms.HoistField$Value",
		"org.apache.kafka.connect.transforms.InsertField$Key", "org.apache.kafka.connect.transforms.InsertField$Value",
		"org.apache.kafka.connect.transforms.InsertHeader",
		"org.apache.kafka.connect.transforms.MaskField$Key", "org.apache.kafka.connect.transforms.MaskField$Value",
		"org.apache.kafka.connect.transforms.RegexRouter",
		"org.apache.kafka.connect.transforms.ReplaceField$Key", "org.apache.kafka.connect.transforms.ReplaceField$Value",
		"org.apache.kafka.connect.transforms.SetSchemaMetadata$Key", "org.apache.kafka.connect.transforms.SetSchemaMetadata$Value",
		"org.apache.kafka.connect.transforms.TimestampConverter$Key", "org.apache.kafka.connect.transforms.TimestampConverter$Value",
		"org.apache.kafka.connect.transforms.TimestampRouter",
		"org.apache.kafka.connect.transforms.ValueToKey",
		"org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
		"org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
		"org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
	}
	ps := Builtins()
	if len(ps) != len(want) {
		t.Fatalf("%d plugins, want %d", len(ps), len(want))
	}
	names := map[string]string{}
	for i, p := range ps {
		if p.Class != want[i] {
			t.Errorf("plugin %d is %s, want %s", i, p.Class, want[i])
		}
		if p.Doc == "" || p.Version == "" || len(p.Aliases) < 2 {
			t.Errorf("%s: doc/version/aliases missing", p.Class)
		}
		for _, n := range append([]string{p.Class}, p.Aliases...) {
			if other, dup := names[n]; dup {
				t.Errorf("%q names both %s and %s", n, other, p.Class)
			}
			names[n] = p.Class
			if got, ok := BuiltinLookup(n); !ok || got.Class != p.Class {
				t.Errorf("lookup %q", n)
			}
		}
		a, b := p.New(), p.New()
		switch x := a.(type) {
		case Transformation:
			if p.Predicate || x.Config() == nil {
				t.Errorf("%s: transformation flagged as predicate or no config", p.Class)
			}
		case Predicate:
			if !p.Predicate || x.Config() == nil {
				t.Errorf("%s: predicate not flagged or no config", p.Class)
			}
		default:
			t.Errorf("%s: New returned %T", p.Class, a)
		}
		if p.Class != "org.apache.kafka.connect.transforms.Filter" && p.Class != "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone" && any(a) == any(b) {
			t.Errorf("%s: New returned the same instance twice", p.Class)
		}
	}
	for alias, class := range map[string]string{
		"InsertField$Value":         "org.apache.kafka.connect.transforms.InsertField$Value",
		"insert-field-value":        "org.apache.kafka.connect.transforms.InsertField$Value",
		"cast-key":                  "org.apache.kafka.connect.transforms.Cast$Key",
		"unwrap":                    "io.debezium.transforms.ExtractNewRecordState",
		"topic-name-matches":        "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
		"timestamp-converter-value": "org.apache.kafka.connect.transforms.TimestampConverter$Value",
	} {
		if names[alias] != class {
			t.Errorf("%q resolves to %q, want %q", alias, names[alias], class)
		}
	}
}

func TestKebab(t *testing.T) {
	for in, want := range map[string]string{"InsertField$Value": "insert-field-value", "Cast$Key": "cast-key", "ExtractNewRecordState": "extract-new-record-state", "Filter": "filter"} {
		if got := kebab(in); got != want {
			t.Errorf("%q: %q", in, got)
		}
	}
}
