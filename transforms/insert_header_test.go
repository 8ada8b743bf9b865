package transforms

import (
	"testing"

	"github.com/sluicedata/sluice/connectors"
)

func TestInsertHeader(t *testing.T) {
	for _, tc := range []struct {
		literal string
		schema  *connectors.Schema
		value   any
	}{
		{"inserted-value", connectors.StringSchema, "inserted-value"},
		{"42", connectors.Int8Schema, int8(42)},
		{"true", connectors.BooleanSchema, true},
		{"", connectors.StringSchema, ""},
	} {
		tr := newTransform(t, "InsertHeader", map[string]string{"header": "inserted", "value.literal": tc.literal})
		r := sourceRecord("topic", nil, "key", nil, "value")
		r.Headers.Add("existing", connectors.StringSchema, "existing-value")
		r.Headers = r.Headers[:1:1]
		out := apply(t, tr, r)
		checkHeaders(t, out.Headers, []kv{{"existing", connectors.StringSchema, "existing-value"}, {"inserted", tc.schema, tc.value}}, true)
		if len(r.Headers) != 1 {
			t.Error("input headers changed")
		}
		if out.Key != "key" || out.Value != "value" || out.Topic != "topic" {
			t.Error("record changed")
		}
	}
	wantConfigError(t, configureErr(t, "InsertHeader", map[string]string{"header": "h"}), "value.literal", `Missing required configuration "value.literal"`)
	wantConfigError(t, configureErr(t, "InsertHeader", map[string]string{"value.literal": "v"}), "header", `Missing required configuration "header"`)
}

func TestInsertHeaderDoesNotAliasInput(t *testing.T) {
	tr := newTransform(t, "InsertHeader", map[string]string{"header": "h", "value.literal": "v"})
	r := sourceRecord("topic", nil, nil, nil, nil)
	r.Headers = make(connectors.Headers, 1, 8) // spare capacity must not be written
	r.Headers[0] = connectors.Header{Key: "a"}
	out1 := apply(t, tr, r)
	out2 := apply(t, tr, r)
	out1.Headers[1].Key = "changed"
	if out2.Headers[1].Key != "h" || r.Headers[:2][1].Key != "" {
		t.Error("headers shared between outputs or with the input")
	}
}
