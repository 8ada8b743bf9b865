package properties

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	in := `# Kafka Connect worker
! also a comment
bootstrap.servers=localhost:9092
group.id : connect-cluster
key.converter org.apache.kafka.connect.json.JsonConverter
   plugin.path=/a,\
      /b
empty=
escaped\=key=v\u00e9\tx
dup=1
dup=2
`
	entries, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	got := ToMap(entries)
	want := map[string]string{
		"bootstrap.servers": "localhost:9092",
		"group.id":          "connect-cluster",
		"key.converter":     "org.apache.kafka.connect.json.JsonConverter",
		"plugin.path":       "/a,/b",
		"empty":             "",
		"escaped=key":       "vé\tx",
		"dup":               "2",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v\nwant %#v", got, want)
	}
	if entries[2].Line != 5 {
		t.Fatalf("line numbers: %+v", entries[2])
	}
}

func TestParseAssignment(t *testing.T) {
	if k, v, err := ParseAssignment("a.b=c=d"); err != nil || k != "a.b" || v != "c=d" {
		t.Fatalf("%q %q %v", k, v, err)
	}
	if _, _, err := ParseAssignment("novalue"); err == nil {
		t.Fatal("want error")
	}
}
