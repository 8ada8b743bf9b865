package task

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/runtime/convert"
)

// TestSourceValuesInRecycledBuffers: values converted into recycled
// buffers (convert.Appender) reach the topic intact — each record's bytes
// are what FromConnect makes of it — while buffers of every size come and
// go through the pool under a producer with many records in flight.
func TestSourceValuesInRecycledBuffers(t *testing.T) {
	schema := connectors.StructSchema().Name("v").Field("id", connectors.Int64Schema).
		Field("pad", connectors.StringSchema).MustBuild()
	value := func(i int64) (*connectors.Schema, any) {
		st := connectors.NewStruct(schema)
		_ = st.Put("id", i)
		_ = st.Put("pad", strings.Repeat(string(rune('a'+i%26)), int(i*7919%9000)))
		return schema, st
	}
	const total = 20_000
	addr := startBroker(t)
	createTopic(t, addr, "recycled", 3)
	env, _, _ := newEnv(t, addr)
	src := &genSource{topic: "recycled", total: total, batch: 700, makeValue: value}
	tk := startTask(t, sourceSpec("recycled", map[string]string{
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "true",
	}, src), env)
	<-tk.Done()
	if err := tk.Err(); err != nil {
		t.Fatal(err)
	}
	conv := convert.NewJSONConverter()
	if err := conv.Configure(map[string]string{"schemas.enable": "true"}, false); err != nil {
		t.Fatal(err)
	}
	keys := convert.NewJSONConverter()
	if err := keys.Configure(map[string]string{"schemas.enable": "true"}, true); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range consume(t, addr, "recycled", total) {
		_, k, err := keys.ToConnect("recycled", r.Key)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := k.(string)
		i, err := strconv.ParseInt(strings.TrimPrefix(id, "k"), 10, 64)
		if err != nil {
			t.Fatalf("key %q: %v", r.Key, err)
		}
		s, v := value(i)
		want, err := conv.FromConnect("recycled", s, v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(r.Value, want) {
			t.Fatalf("record %s: %d bytes on the topic, not what FromConnect gives (%d bytes): %.120q…", id, len(r.Value), len(want), r.Value)
		}
		seen[id] = true
	}
	if len(seen) != total {
		t.Errorf("%d distinct records of %d", len(seen), total)
	}
}
