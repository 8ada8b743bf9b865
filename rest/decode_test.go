package rest

import (
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/runtime"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func ptr(s string) *string { return &s }

// first returns the first JSON value of body as the handlers see it.
func first(t *testing.T, body string) json.RawMessage {
	t.Helper()
	raw, err := firstJSONValue([]byte(body))
	if err != nil {
		t.Fatalf("firstJSONValue(%s): %v", body, err)
	}
	return raw
}

// wantBadJSON checks err is a 500 body error whose message starts with
// prefix.
func wantBadJSON(t *testing.T, err error, prefix string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q…", prefix)
	}
	class, msg := classify(err)
	if class.status != 500 || !strings.HasPrefix(msg, prefix) {
		t.Fatalf("got %d %q, want 500 %q…", class.status, msg, prefix)
	}
}

func TestFirstJSONValue(t *testing.T) {
	t.Parallel()
	for _, body := range []string{"", "  \n\t"} {
		if raw, err := firstJSONValue([]byte(body)); raw != nil || err != nil {
			t.Errorf("%q: got %s, %v; want nothing", body, raw, err)
		}
	}
	// Jackson ignores what follows the first value.
	if raw := first(t, `{"a":"b"} trailing garbage`); string(raw) != `{"a":"b"}` {
		t.Errorf("got %s", raw)
	}
	for _, body := range []string{`{"a":`, `{a:1}`, `nope`} {
		_, err := firstJSONValue([]byte(body))
		wantBadJSON(t, err, "Unexpected")
	}
}

func TestDecodeStringMap(t *testing.T) {
	t.Parallel()
	m, err := decodeStringMap(first(t, `{"s":"x","i":1,"neg":-7,"f":1.50,"e":1e3,"t":true,"f2":false,"n":null,"u":"\u00e9","dup":"a","dup":"b"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*string{
		"s": ptr("x"), "i": ptr("1"), "neg": ptr("-7"), "f": ptr("1.50"), "e": ptr("1e3"),
		"t": ptr("true"), "f2": ptr("false"), "n": nil, "u": ptr("é"), "dup": ptr("b"),
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got %v", deref(m))
	}
	if m, err := decodeStringMap(nil); m != nil || err != nil {
		t.Errorf("empty body: %v %v", m, err)
	}
	if m, err := decodeStringMap(first(t, "null")); m != nil || err != nil {
		t.Errorf("null body: %v %v", m, err)
	}
	_, err = decodeStringMap(first(t, `["a"]`))
	wantBadJSON(t, err, "Cannot deserialize value of type `java.util.LinkedHashMap<java.lang.String,java.lang.String>` from Array value")
	_, err = decodeStringMap(first(t, `"x"`))
	wantBadJSON(t, err, "Cannot deserialize value of type `java.util.LinkedHashMap<java.lang.String,java.lang.String>` from String value")
	_, err = decodeStringMap(first(t, `{"a":{"b":"c"}}`))
	wantBadJSON(t, err, "Cannot deserialize value of type `java.lang.String` from Object value")
	_, err = decodeStringMap(first(t, `{"a":["b"]}`))
	wantBadJSON(t, err, "Cannot deserialize value of type `java.lang.String` from Array value")
}

func deref(m map[string]*string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if v == nil {
			out[k] = nil
		} else {
			out[k] = *v
		}
	}
	return out
}

func TestDecodeCreateRequest(t *testing.T) {
	t.Parallel()
	req, err := decodeCreateRequest(first(t, `{"name":" a ","config":{"tasks.max":2,"connector.class":"FileStreamSource"},"initial_state":"paused"}`))
	if err != nil {
		t.Fatal(err)
	}
	if *req.name != " a " || *req.config["tasks.max"] != "2" || req.initial != runtime.TargetPaused {
		t.Errorf("got %+v", req)
	}
	for in, want := range map[string]runtime.TargetState{
		`{"initial_state":"RUNNING"}`: runtime.TargetStarted,
		`{"initial_state":"Stopped"}`: runtime.TargetStopped,
		`{"initial_state":null}`:      "",
		`{}`:                          "",
	} {
		req, err := decodeCreateRequest(first(t, in))
		if err != nil || req.initial != want {
			t.Errorf("%s: %q %v, want %q", in, req.initial, err, want)
		}
	}
	// A number for a String is coerced, as Jackson does.
	if req, err := decodeCreateRequest(first(t, `{"name":5}`)); err != nil || *req.name != "5" {
		t.Errorf("numeric name: %v %v", req.name, err)
	}
	if req, err := decodeCreateRequest(nil); err != nil || req.name != nil || req.config != nil {
		t.Errorf("empty body: %+v %v", req, err)
	}

	_, err = decodeCreateRequest(first(t, `{"name":"a","config":{},"extra":1}`))
	wantBadJSON(t, err, `Unrecognized field "extra" (class org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest), not marked as ignorable (3 known properties: "name", "config", "initial_state"])`)
	// Keys are case-sensitive (Go's encoding/json is not).
	_, err = decodeCreateRequest(first(t, `{"Name":"a"}`))
	wantBadJSON(t, err, `Unrecognized field "Name"`)
	_, err = decodeCreateRequest(first(t, `{"name":"a","initial_state":"SLEEPING"}`))
	wantBadJSON(t, err, "Cannot construct instance of `org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest$InitialState`, problem: No enum constant org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest.InitialState.SLEEPING")
	_, err = decodeCreateRequest(first(t, `[]`))
	wantBadJSON(t, err, "Cannot deserialize value of type `org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest` from Array value")
	_, err = decodeCreateRequest(first(t, `{"name":"a","config":["x"]}`))
	wantBadJSON(t, err, "Cannot deserialize value of type `java.util.LinkedHashMap<java.lang.String,java.lang.String>` from Array value")
	_, err = decodeCreateRequest(first(t, `{"name":{}}`))
	wantBadJSON(t, err, "Cannot deserialize value of type `java.lang.String` from Object value")
}

func TestDecodeOffsets(t *testing.T) {
	t.Parallel()
	offsets, present, err := decodeOffsets(first(t, `{"offsets":[
		{"partition":{"kafka_topic":"t","kafka_partition":3},"offset":{"kafka_offset":9007199254740993}},
		{"partition":{"filename":"/f"},"offset":{"position":1.5,"nested":{"a":[1]}}},
		{"partition":{"filename":"/g"},"offset":null}]}`))
	if err != nil || !present {
		t.Fatal(err, present)
	}
	want := []runtime.ConnectorOffset{
		{Partition: map[string]any{"kafka_topic": "t", "kafka_partition": int64(3)}, Offset: map[string]any{"kafka_offset": int64(9007199254740993)}},
		{Partition: map[string]any{"filename": "/f"}, Offset: map[string]any{"position": 1.5, "nested": map[string]any{"a": []any{int64(1)}}}},
		{Partition: map[string]any{"filename": "/g"}},
	}
	if !reflect.DeepEqual(offsets.Offsets, want) {
		t.Errorf("got %#v", offsets.Offsets)
	}

	for _, body := range []string{``, `null`, `{}`, `{"offsets":null}`} {
		var raw json.RawMessage
		if body != "" {
			raw = first(t, body)
		}
		if _, present, err := decodeOffsets(raw); present || err != nil {
			t.Errorf("%q: present %v, err %v", body, present, err)
		}
	}
	if o, present, err := decodeOffsets(first(t, `{"offsets":[]}`)); !present || err != nil || len(o.Offsets) != 0 {
		t.Errorf("empty list: %v %v %v", o, present, err)
	}

	// The JSON-shape errors of OffsetsApiIntegrationTest: 500 with the
	// parser's message.
	_, _, err = decodeOffsets(first(t, `[]`))
	wantBadJSON(t, err, "Cannot deserialize value of type `org.apache.kafka.connect.runtime.rest.entities.ConnectorOffsets` from Array value")
	_, _, err = decodeOffsets(first(t, `{"key":[]}`))
	wantBadJSON(t, err, `Unrecognized field "key" (class org.apache.kafka.connect.runtime.rest.entities.ConnectorOffsets), not marked as ignorable`)
	_, _, err = decodeOffsets(first(t, `{"offsets":{}}`))
	wantBadJSON(t, err, "Cannot deserialize value of type `java.util.ArrayList<org.apache.kafka.connect.runtime.rest.entities.ConnectorOffset>` from Object value")
	_, _, err = decodeOffsets(first(t, `{"offsets":[{"partition":{},"offset":{},"extra":1}]}`))
	wantBadJSON(t, err, `Unrecognized field "extra" (class org.apache.kafka.connect.runtime.rest.entities.ConnectorOffset)`)
	_, _, err = decodeOffsets(first(t, `{"offsets":[{"partition":[]}]}`))
	wantBadJSON(t, err, "Cannot deserialize value of type `java.util.LinkedHashMap<java.lang.String,java.lang.Object>` from Array value")
	_, _, err = decodeOffsets(first(t, `{"offsets":["x"]}`))
	wantBadJSON(t, err, "Cannot deserialize value of type `org.apache.kafka.connect.runtime.rest.entities.ConnectorOffset` from String value")
}

func TestJavaTrim(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"  a b  ": "a b", "\t\n\x01a\x00": "a", "\u00a0a\u00a0": "\u00a0a\u00a0", "": "",
	} {
		if got := javaTrim(in); got != want {
			t.Errorf("javaTrim(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizedPluginName(t *testing.T) {
	t.Parallel()
	cases := []struct {
		class, plugin string
		ok            bool
	}{
		{"org.apache.kafka.connect.file.FileStreamSinkConnector", "FileStreamSinkConnector", true},
		{"org.apache.kafka.connect.file.FileStreamSinkConnector", "FileStreamSink", true},
		{"org.apache.kafka.connect.file.FileStreamSinkConnector", "org.apache.kafka.connect.file.FileStreamSinkConnector", true},
		{"FileStreamSink", "FileStreamSinkConnector", true},
		{"FileStreamSinkConnector", "Sink", true},
		{"org.apache.kafka.connect.file.FileStreamSinkConnector", "FileStreamSource", false},
		{"Connector", "Connector", true},
		{"MyConnector", "Connector", false}, // "My" does not end with "Connector"
	}
	for _, c := range cases {
		got := strings.HasSuffix(normalizedPluginName(c.class), normalizedPluginName(c.plugin))
		if got != c.ok {
			t.Errorf("class %s, plugin %s: %v, want %v", c.class, c.plugin, got, c.ok)
		}
	}
}
