package assign

import (
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// unhex decodes a hex string written with spaces between fields.
func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The golden encodings are written field by field from Kafka's schemas
// (ConnectProtocol, IncrementalCooperativeConnectProtocol), so a change in
// field order or width shows up here.
func TestEncodingsAreKafkas(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"metadata v0", Metadata{Version: Eager, URL: "http://h:1", ConfigOffset: 7}.Encode(),
			"0000 000a 687474703a2f2f683a31 0000000000000007"},
		{"metadata v1 without allocation", Metadata{Version: Compatible, URL: "u", ConfigOffset: -1}.Encode(),
			"0001 0001 75 ffffffffffffffff ffffffff"},
		{"metadata v2 with allocation", Metadata{Version: Sessioned, URL: "u", ConfigOffset: 3, Owned: &Assignment{
			Version: Compatible, Leader: "L", LeaderURL: "v", ConfigOffset: 3, Assigned: []Item{{"c", 0}, {"c", ConnectorTask}}}}.Encode(),
			"0002 0001 75 0000000000000003 " +
				"0000002d " + // allocation length (45)
				"0002 0000 0001 4c 0001 76 0000000000000003 " + // header v2 (the metadata's), error, leader, url, offset
				"00000001 0001 63 00000002 ffffffff 00000000 " + // assigned: c → [-1, 0]
				"00000000 00000000"}, // revoked: none; delay 0
		{"assignment v0", Assignment{Version: Eager, Leader: "m-1", LeaderURL: "http://l", ConfigOffset: 42,
			Assigned: []Item{{"b", 1}, {"a", ConnectorTask}, {"b", 0}}}.Encode(),
			"0000 0000 0003 6d2d31 0008 687474703a2f2f6c 000000000000002a " +
				"00000002 0001 61 00000001 ffffffff 0001 62 00000002 00000000 00000001"},
		{"assignment v1", Assignment{Version: Compatible, Error: ConfigMismatch, Leader: "m", LeaderURL: "u", ConfigOffset: 1,
			Revoked: []Item{{"a", 2}}, Delay: 5000}.Encode(),
			"0001 0001 0001 6d 0001 75 0000000000000001 00000000 00000001 0001 61 00000001 00000002 00001388"},
	}
	for _, tt := range tests {
		if want := unhex(t, tt.want); string(tt.got) != string(want) {
			t.Errorf("%s:\n got %x\nwant %x", tt.name, tt.got, want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	assignments := []Assignment{
		{Version: Eager, Leader: "l", LeaderURL: "http://l:8083", ConfigOffset: 9, Assigned: []Item{{"a", -1}, {"a", 0}, {"b", 3}}},
		{Version: Compatible, Leader: "l", LeaderURL: "u", ConfigOffset: -1},
		{Version: Sessioned, Error: ConfigMismatch, Leader: "l", LeaderURL: "u", ConfigOffset: 100,
			Assigned: []Item{{"x y", 0}}, Revoked: []Item{{"z", -1}, {"z", 4}}, Delay: 12},
	}
	for _, a := range assignments {
		got, err := DecodeAssignment(a.Encode())
		if err != nil || !reflect.DeepEqual(got, a) {
			t.Errorf("assignment %+v: got %+v, %v", a, got, err)
		}
		for _, v := range []Protocol{Eager, Compatible, Sessioned} {
			m := Metadata{Version: v, URL: "http://w:1", ConfigOffset: 5}
			if v != Eager {
				owned := a
				owned.Version = v
				if v == Compatible || v == Sessioned {
					m.Owned = &owned
				}
			}
			got, err := DecodeMetadata(m.Encode())
			if err != nil || !reflect.DeepEqual(got, m) {
				t.Errorf("metadata %+v: got %+v, %v", m, got, err)
			}
		}
	}
}

func TestDecodeTolerance(t *testing.T) {
	// A cooperative assignment that ends after the assigned list (Kafka's
	// TOLERATE_MISSING_FIELDS_WITH_DEFAULTS): no revocations, no delay.
	full := Assignment{Version: Compatible, Leader: "l", LeaderURL: "u", Assigned: []Item{{"c", 0}}}.Encode()
	short := full[:len(full)-8]
	a, err := DecodeAssignment(short)
	if err != nil || len(a.Assigned) != 1 || a.Revoked != nil || a.Delay != 0 {
		t.Errorf("short assignment: %+v %v", a, err)
	}
	// A cooperative member's metadata without the allocation field.
	m, err := DecodeMetadata(Metadata{Version: Eager, URL: "u", ConfigOffset: 1}.Encode())
	if err != nil || m.Owned != nil {
		t.Errorf("v0 metadata: %+v %v", m, err)
	}
	v1 := Metadata{Version: Compatible, URL: "u"}.Encode()
	if m, err := DecodeMetadata(v1[:len(v1)-4]); err != nil || m.Version != Compatible || m.Owned != nil {
		t.Errorf("v1 metadata without allocation: %+v %v", m, err)
	}

	for _, bad := range [][]byte{nil, {0}, {0, 0, 0, 5, 'a'}, {0xff, 0xff, 0, 0}, unhex(t, "0001 0000 0000 0000 0000000000000000 7fffffff")} {
		if _, err := DecodeAssignment(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("DecodeAssignment(%x) = %v", bad, err)
		}
		if _, err := DecodeMetadata(bad); !errors.Is(err, ErrMalformed) && len(bad) < 12 {
			t.Errorf("DecodeMetadata(%x) = %v", bad, err)
		}
	}
}

func TestProtocols(t *testing.T) {
	if got := Protocols("SESSIONED"); !reflect.DeepEqual(got, []Protocol{Sessioned, Compatible, Eager}) {
		t.Errorf("sessioned: %v", got)
	}
	if got := Protocols("eager"); len(got) != 1 || got[0].Name() != "default" {
		t.Errorf("eager: %v", got)
	}
	if Protocols("x") != nil {
		t.Error("unknown mode")
	}
	for _, p := range []Protocol{Eager, Compatible, Sessioned} {
		if q, ok := ParseProtocol(p.Name()); !ok || q != p {
			t.Errorf("ParseProtocol(%s) = %v %v", p.Name(), q, ok)
		}
	}
	if Eager.Cooperative() || !Compatible.Cooperative() {
		t.Error("Cooperative")
	}
}
