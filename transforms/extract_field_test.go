package transforms

import (
	"testing"

	"github.com/sluicedata/sluice/connectors"
)

func TestExtractFieldSchemaless(t *testing.T) {
	for _, tc := range []struct {
		name, field, syntax string
		key                 any
		want                any
	}{
		{"flat", "magic", "", map[string]any{"magic": int32(42)}, int32(42)},
		{"nested V2", "magic.foo", "V2", map[string]any{"magic": map[string]any{"foo": int32(42)}}, int32(42)},
		{"nested V1 is a dotted name", "magic.foo", "", map[string]any{"magic.foo": int32(7)}, int32(7)},
		{"null key", "magic", "", nil, nil},
		{"missing field", "nonexistent", "", map[string]any{"magic": int32(42)}, nil},
		{"missing nested field", "magic.nonexistent", "V2", map[string]any{"magic": map[string]any{"foo": int32(42)}}, nil},
		{"backticks", "`a.b`.c", "v2", map[string]any{"a.b": map[string]any{"c": "x"}}, "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := map[string]string{"field": tc.field}
			if tc.syntax != "" {
				cfg["field.syntax.version"] = tc.syntax
			}
			tr := newTransform(t, "ExtractField$Key", cfg)
			var key any
			if tc.key != nil {
				key = tc.key
			}
			out := apply(t, tr, sinkRecord("test", nil, key, nil, nil))
			if out.KeySchema != nil {
				t.Errorf("key schema %v", out.KeySchema)
			}
			eq(t, "key", out.Key, tc.want)
		})
	}
}

func TestExtractFieldWithSchema(t *testing.T) {
	keySchema := structOf(t, f("magic", connectors.Int32Schema))
	tr := newTransform(t, "ExtractField$Key", map[string]string{"field": "magic"})
	out := apply(t, tr, sinkRecord("test", keySchema, newStruct(t, keySchema, "magic", int32(42)), nil, nil))
	if out.KeySchema != connectors.Int32Schema || out.Key != int32(42) {
		t.Errorf("got %v %v", out.KeySchema, out.Key)
	}

	foo := structOf(t, f("foo", connectors.Int32Schema))
	nested := structOf(t, f("magic", foo))
	tr = newTransform(t, "ExtractField$Key", map[string]string{"field": "magic.foo", "field.syntax.version": "V2"})
	out = apply(t, tr, sinkRecord("test", nested, newStruct(t, nested, "magic", newStruct(t, foo, "foo", int32(42))), nil, nil))
	if out.KeySchema != connectors.Int32Schema || out.Key != int32(42) {
		t.Errorf("nested: got %v %v", out.KeySchema, out.Key)
	}

	// A null struct extracts to null with the field's schema.
	optional := mustBuild(t, connectors.StructSchema().Field("magic", connectors.Int32Schema).Optional())
	tr = newTransform(t, "ExtractField$Key", map[string]string{"field": "magic"})
	out = apply(t, tr, sinkRecord("test", optional, nil, nil, nil))
	if out.KeySchema != connectors.Int32Schema || out.Key != nil {
		t.Errorf("null: got %v %v", out.KeySchema, out.Key)
	}

	tr = newTransform(t, "ExtractField$Key", map[string]string{"field": "nonexistent"})
	applyErr(t, tr, sinkRecord("test", keySchema, newStruct(t, keySchema, "magic", int32(42)), nil, nil), "Unknown field: nonexistent")
	tr = newTransform(t, "ExtractField$Key", map[string]string{"field": "magic.nonexistent", "field.syntax.version": "V2"})
	applyErr(t, tr, sinkRecord("test", nested, newStruct(t, nested, "magic", newStruct(t, foo, "foo", int32(42))), nil, nil), "Unknown field: magic.nonexistent")
}

func TestExtractFieldReplaceNullWithDefault(t *testing.T) {
	schema := structOf(t, f("optional_with_default", mustBuild(t, connectors.NewSchema(connectors.TypeInt32).Optional().Default(int32(42)))))
	for _, tc := range []struct {
		replace string
		want    any
	}{{"false", nil}, {"true", int32(42)}} {
		for _, class := range []string{"ExtractField$Key", "ExtractField$Value"} {
			tr := newTransform(t, class, map[string]string{"field": "optional_with_default", "replace.null.with.default": tc.replace})
			v := newStruct(t, schema, "optional_with_default", nil)
			out := apply(t, tr, sinkRecord("test", schema, v, schema, v))
			if class == "ExtractField$Key" {
				eq(t, class+" replace="+tc.replace, out.Key, tc.want)
			} else {
				eq(t, class+" replace="+tc.replace, out.Value, tc.want)
			}
		}
	}
}

func TestExtractFieldConfigErrors(t *testing.T) {
	wantConfigError(t, configureErr(t, "ExtractField$Value", nil), "field", "Missing required configuration")
	wantConfigError(t, configureErr(t, "ExtractField$Value", map[string]string{"field": "a", "field.syntax.version": "v3"}),
		"field.syntax.version", "Invalid value v3 for configuration field.syntax.version: String must be one of (case insensitive): V1, V2")
	wantConfigError(t, configureErr(t, "ExtractField$Value", map[string]string{"field": "foo.`bar.baz", "field.syntax.version": "V2"}),
		"field", "Incomplete backtick pair in path: [foo.`bar.baz], consider adding a backslash before backtick at position 4 to escape it")
}

func TestFieldPathParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"foobarbaz", []string{"foobarbaz"}},
		{"foo.bar.baz", []string{"foo", "bar", "baz"}},
		{"foo`bar`baz", []string{"foo`bar`baz"}},
		{"..", []string{"", "", ""}},
		{"foo..", []string{"foo", "", ""}},
		{".bar.", []string{"", "bar", ""}},
		{"..baz", []string{"", "", "baz"}},
		{"`foo.bar.baz`", []string{"foo.bar.baz"}},
		{"foo.`bar.baz`", []string{"foo", "bar.baz"}},
		{"`foo.bar`.baz", []string{"foo.bar", "baz"}},
		{"foo.`bar`.baz", []string{"foo", "bar", "baz"}},
		{"foo.``bar.baz`", []string{"foo", "`bar.baz"}},
		{"foo.`bar.baz``", []string{"foo", "bar.baz`"}},
		{"foo.`ba`r.baz`", []string{"foo", "ba`r.baz"}},
		{"foo.ba`r.baz", []string{"foo", "ba`r", "baz"}},
		{"foo.``bar``.baz", []string{"foo", "`bar`", "baz"}},
		{"``foo.bar.baz``", []string{"`foo.bar.baz`"}},
		{"foo.`bar\\`.baz`", []string{"foo", "bar`.baz"}},
		{"foo.`bar.`baz`", []string{"foo", "bar.`baz"}},
		{"foo.`bar\\`.`baz`", []string{"foo", "bar`.`baz"}},
		{"foo.`bar\\\\`.\\`baz`", []string{"foo", "bar\\`.\\`baz"}},
	} {
		p, err := parseFieldPath(tc.in, "V2")
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if len(p.steps) != len(tc.want) {
			t.Errorf("%q: steps %q, want %q", tc.in, p.steps, tc.want)
			continue
		}
		for i := range p.steps {
			if p.steps[i] != tc.want[i] {
				t.Errorf("%q: steps %q, want %q", tc.in, p.steps, tc.want)
				break
			}
		}
	}
	for in, pos := range map[string]string{"`foo.bar.baz": "0", "foo.`bar.baz": "4", "foo.bar.`baz": "8", "foo.bar.`baz\\`": "8"} {
		_, err := parseFieldPath(in, "V2")
		if err == nil || !contains(err.Error(), "at position "+pos+" to escape it") {
			t.Errorf("%q: err %v", in, err)
		}
	}
	if p, _ := parseFieldPath("foo.`bar.baz`", "V1"); len(p.steps) != 1 || p.steps[0] != "foo.`bar.baz`" {
		t.Errorf("V1: %q", p.steps)
	}
}
