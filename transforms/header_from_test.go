package transforms

import (
	"testing"

	"github.com/sluicedata/sluice/connectors"
)

type kv struct {
	name   string
	schema *connectors.Schema
	value  any
}

// headerFromCase follows the cases of Kafka's HeaderFromTest.
type headerFromCase struct {
	name        string
	fields      []kv
	headers     []kv
	cfgFields   string
	cfgHeaders  string
	op          string
	replaceNull bool
	wantFields  []kv
	wantHeaders []kv
}

func TestHeaderFrom(t *testing.T) {
	str := connectors.StringSchema
	withDef := mustBuild(t, connectors.NewSchema(connectors.TypeString).Default("default").Optional())
	inner := structOf(t, f("foo", str))
	innerVal := newStruct(t, inner, "foo", "foo-value")
	base := []kv{{"field1", str, "field1-value"}, {"field2", str, "field2-value"}}
	cases := []headerFromCase{
		{"basic copy", base, []kv{{"header1", str, "existing-value"}}, "field1", "inserted1", "copy", true,
			base, []kv{{"header1", str, "existing-value"}, {"inserted1", str, "field1-value"}}},
		{"basic move", base, []kv{{"header1", str, "existing-value"}}, "field1", "inserted1", "move", true,
			base[1:], []kv{{"header1", str, "existing-value"}, {"inserted1", str, "field1-value"}}},
		{"copy with preexisting header", base, []kv{{"inserted1", str, "existing-value"}}, "field1", "inserted1", "copy", true,
			base, []kv{{"inserted1", str, "existing-value"}, {"inserted1", str, "field1-value"}}},
		{"move with preexisting header", base, []kv{{"inserted1", str, "existing-value"}}, "field1", "inserted1", "move", true,
			base[1:], []kv{{"inserted1", str, "existing-value"}, {"inserted1", str, "field1-value"}}},
		{"copy with struct value", []kv{{"field1", inner, innerVal}, base[1]}, []kv{{"header1", str, "existing-value"}}, "field1", "inserted1", "copy", true,
			[]kv{{"field1", inner, innerVal}, base[1]}, []kv{{"header1", str, "existing-value"}, {"inserted1", inner, innerVal}}},
		{"move with struct value", []kv{{"field1", inner, innerVal}, base[1]}, []kv{{"header1", str, "existing-value"}}, "field1", "inserted1", "move", true,
			base[1:], []kv{{"header1", str, "existing-value"}, {"inserted1", inner, innerVal}}},
		{"two headers from same field", base, []kv{{"header1", str, "existing-value"}}, "field1,field1", "inserted1,inserted2", "move", true,
			base[1:], []kv{{"header1", str, "existing-value"}, {"inserted1", str, "field1-value"}, {"inserted2", str, "field1-value"}}},
		{"two fields to same header", base, []kv{{"header1", str, "existing-value"}}, "field1,field2", "inserted1,inserted1", "move", true,
			nil, []kv{{"header1", str, "existing-value"}, {"inserted1", str, "field1-value"}, {"inserted1", str, "field2-value"}}},
		{"copy null field without default", []kv{{"field1", withDef, "field1-value"}, {"field2", withDef, nil}}, []kv{{"header1", str, "existing-value"}},
			"field1,field2", "inserted1,inserted2", "copy", false,
			[]kv{{"field1", withDef, "field1-value"}, {"field2", withDef, nil}},
			[]kv{{"header1", str, "existing-value"}, {"inserted1", withDef, "field1-value"}, {"inserted2", withDef, nil}}},
		{"move null field without default", []kv{{"field1", withDef, "field1-value"}, {"field2", withDef, nil}}, []kv{{"header1", str, "existing-value"}},
			"field1,field2", "inserted1,inserted2", "move", false,
			nil, []kv{{"header1", str, "existing-value"}, {"inserted1", withDef, "field1-value"}, {"inserted2", withDef, nil}}},
		{"copy null field with default", []kv{{"field1", withDef, nil}}, nil, "field1", "inserted1", "copy", true,
			[]kv{{"field1", withDef, nil}}, []kv{{"inserted1", withDef, "default"}}},
	}
	for _, tc := range cases {
		for _, s := range []side{keySide, valueSide} {
			class := s.className("HeaderFrom")
			cfg := map[string]string{"fields": tc.cfgFields, "headers": tc.cfgHeaders, "operation": tc.op}
			if !tc.replaceNull {
				cfg["replace.null.with.default"] = "false"
			}
			tr := newTransform(t, class, cfg)
			t.Run(tc.name+"/"+class+"/schema", func(t *testing.T) {
				schema := structOf(t, fieldsOf(tc.fields)...)
				v := newStruct(t, schema)
				for _, x := range tc.fields {
					_ = v.Put(x.name, x.value)
				}
				r := s.set(sourceRecord("topic", nil, "key", nil, "value"), schema, v)
				for _, h := range tc.headers {
					r.Headers.Add(h.name, h.schema, h.value)
				}
				orig := len(r.Headers)
				out := apply(t, tr, r)
				gotSchema, got := s.get(&out)
				if len(gotSchema.Fields()) != len(tc.wantFields) {
					t.Fatalf("fields %v, want %v", gotSchema.Fields(), tc.wantFields)
				}
				for _, w := range tc.wantFields {
					fl, ok := gotSchema.Field(w.name)
					if !ok || fl.Schema() != w.schema {
						t.Errorf("field %s: %v", w.name, fl.Schema())
					}
					eq(t, w.name, getRaw(t, got, w.name), w.value)
				}
				checkHeaders(t, out.Headers, tc.wantHeaders, true)
				if len(r.Headers) != orig {
					t.Error("input headers changed")
				}
			})
			t.Run(tc.name+"/"+class+"/schemaless", func(t *testing.T) {
				m := map[string]any{}
				for _, x := range tc.fields {
					m[x.name] = x.value
				}
				r := s.set(sourceRecord("topic", nil, "key", nil, "value"), nil, m)
				for _, h := range tc.headers {
					r.Headers.Add(h.name, nil, h.value)
				}
				out := apply(t, tr, r)
				_, got := s.get(&out)
				want := map[string]any{}
				for _, w := range tc.wantFields {
					want[w.name] = w.value
				}
				if !tc.replaceNull || tc.name != "copy null field with default" {
					eq(t, "value", got, want)
				}
				var wh []kv
				for _, h := range tc.wantHeaders {
					if tc.name == "copy null field with default" {
						h.value = nil // schemaless maps have no defaults
					}
					wh = append(wh, kv{h.name, nil, h.value})
				}
				checkHeaders(t, out.Headers, wh, false)
				if len(m) != len(tc.fields) {
					t.Error("input map changed")
				}
			})
		}
	}
}

func fieldsOf(kvs []kv) []field {
	var out []field
	for _, x := range kvs {
		out = append(out, f(x.name, x.schema))
	}
	return out
}

func checkHeaders(t *testing.T, got connectors.Headers, want []kv, schemas bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("headers %v, want %v", got, want)
	}
	for i, w := range want {
		g := got[i]
		if g.Key != w.name || (schemas && g.Schema != w.schema) || !connectors.ValuesEqual(g.Value, w.value) {
			t.Errorf("header %d = %s %v %v, want %s %v %v", i, g.Key, g.Schema, g.Value, w.name, w.schema, w.value)
		}
	}
}

func TestHeaderFromConfigErrors(t *testing.T) {
	wantConfigError(t, configureErr(t, "HeaderFrom$Value", map[string]string{"fields": "a,b", "headers": "h", "operation": "copy"}),
		"headers", "'fields' config must have the same number of elements as 'headers' config.")
	wantConfigError(t, configureErr(t, "HeaderFrom$Value", map[string]string{"fields": "a", "headers": "h", "operation": "swap"}),
		"operation", "Invalid value swap for configuration operation: String must be one of: move, copy")
	wantConfigError(t, configureErr(t, "HeaderFrom$Value", map[string]string{"fields": "", "headers": "h", "operation": "copy"}),
		"fields", "Invalid value [] for configuration fields: Empty list")
	wantConfigError(t, configureErr(t, "HeaderFrom$Value", map[string]string{"headers": "h", "operation": "copy"}),
		"fields", `Missing required configuration "fields" which has no default value.`)
}
