//go:build integration

package postgres

import (
	"bytes"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

const allTypesDDL = `
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TABLE alltypes (
	id int PRIMARY KEY,
	c_int2 smallint, c_int4 integer, c_int8 bigint, c_serial serial, c_domain posint,
	c_num numeric(12,3), c_num_var numeric, c_num_int numeric(5),
	c_text text, c_varchar varchar(20), c_char char(5), c_name name,
	c_bool boolean, c_float4 real, c_float8 double precision,
	c_ts timestamp, c_ts3 timestamp(3), c_tstz timestamptz, c_tstz0 timestamptz(0),
	c_date date, c_time time, c_time3 time(3), c_timetz timetz,
	c_interval interval, c_uuid uuid, c_json json, c_jsonb jsonb, c_bytea bytea,
	c_enum mood, c_int_arr int[], c_text_arr text[], c_enum_arr mood[], c_num_arr numeric(6,2)[],
	c_inet inet, c_money money, c_bit bit(3), c_bit1 bit(1), c_varbit varbit, c_xml xml, c_oid oid,
	c_tstz_arr timestamptz[], c_uuid_arr uuid[], c_int4range int4range,
	c_notnull text NOT NULL DEFAULT 'dflt', c_ts_default timestamp DEFAULT now(), c_bool_default boolean DEFAULT true,
	c_point point
);`

const allTypesValues = `(%d, -32768, 2147483647, -9223372036854775808, DEFAULT, 7,
	1234.567, 3.14159000, 42,
	E'h\u00e9llo "world"\n', 'vc', 'ab', 'nm',
	true, 3.14, 2.718281828459045,
	'2016-11-04 13:51:30.123456', '2016-11-04 13:51:30.123456', '2016-11-04 13:51:30.123456+02', '2016-11-04 13:51:30+02',
	'2016-11-04', '13:51:30.123456', '13:51:30.123', '13:51:30.123789+02',
	'1 year 2 months 3 days 04:05:06.78', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": 1}', '{"b": [1, 2]}', '\x010203',
	'happy', '{1,2,NULL}', '{"a","b c",NULL,"\"q\""}', '{sad,ok}', '{1.5,2.25}',
	'192.168.0.1/24', 12.34, B'101', B'1', B'1101', '<a>x</a>', 12345,
	'{"2020-04-01 13:51:02+02"}', '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', '[1,10)',
	DEFAULT, '2020-01-01 00:00:00', DEFAULT, '(1,2)')`

// TestAllTypes checks every mapped type, through the snapshot (row 1)
// and the stream (row 2, same values; row 3, nulls), against a golden
// file, and spot-checks values against what Debezium emits.
func TestAllTypes(t *testing.T) {
	d := newTestDB(t)
	d.exec(allTypesDDL)
	d.exec(`INSERT INTO alltypes VALUES ` + fmt.Sprintf(allTypesValues, 1))
	r := openTask(t, d.config(), nil)
	snap := r.waitStreaming()
	d.exec(`INSERT INTO alltypes VALUES ` + fmt.Sprintf(allTypesValues, 2))
	d.exec(`INSERT INTO alltypes (id, c_serial, c_ts_default) VALUES (3, 3, NULL)`)
	recs := r.pollN(2, 30*time.Second)
	if len(snap) != 1 || len(recs) != 2 {
		t.Fatalf("got %d snapshot and %d streamed records", len(snap), len(recs))
	}
	after := func(rec connectors.Record) *connectors.Struct {
		return envelopeField(rec, "after").(*connectors.Struct)
	}
	a1, a2 := after(snap[0]), after(recs[0])
	if !a1.Schema().Equal(a2.Schema()) {
		t.Errorf("snapshot and stream value schemas differ:\n%v\n%v", a1.Schema(), a2.Schema())
	}
	for _, f := range a1.Schema().Fields() {
		if f.Name() == "id" || f.Name() == "c_serial" {
			continue
		}
		v1, v2 := a1.GetFieldWithoutDefault(f), a2.GetFieldWithoutDefault(f)
		if !connectors.ValuesEqual(v1, v2) {
			t.Errorf("%s: snapshot %s, stream %s", f.Name(), connectors.FormatValue(v1), connectors.FormatValue(v2))
		}
	}

	want := map[string]any{
		"c_int2":   int16(-32768),
		"c_int4":   int32(2147483647),
		"c_int8":   int64(math.MinInt64),
		"c_domain": int32(7),
		"c_text":   "h\u00e9llo \"world\"\n",
		"c_char":   "ab   ",
		"c_bool":   true,
		"c_float4": float32(3.14),
		"c_float8": 2.718281828459045,
		// Debezium: asEpochMicros("2016-11-04T13:51:30.123456").
		"c_ts":     int64(1478267490123456),
		"c_ts3":    int64(1478267490123),
		"c_tstz":   "2016-11-04T11:51:30.123456Z",
		"c_tstz0":  "2016-11-04T11:51:30Z",
		"c_date":   int32(17109),
		"c_time":   int64(49890123456),
		"c_time3":  int32(49890123),
		"c_timetz": "11:51:30.123789Z",
		// MicroDuration.durationMicros(1, 2, 3, 4, 5, 6.78, 365.25/12).
		"c_interval":  int64(37091106780000),
		"c_uuid":      "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
		"c_json":      `{"a": 1}`,
		"c_jsonb":     `{"b": [1, 2]}`,
		"c_bytea":     []byte{1, 2, 3},
		"c_enum":      "happy",
		"c_int_arr":   []any{int32(1), int32(2), nil},
		"c_text_arr":  []any{"a", "b c", nil, `"q"`},
		"c_enum_arr":  []any{"sad", "ok"},
		"c_inet":      "192.168.0.1/24",
		"c_bit":       []byte{5},
		"c_bit1":      true,
		"c_varbit":    []byte{13},
		"c_xml":       "<a>x</a>",
		"c_oid":       int64(12345),
		"c_tstz_arr":  []any{"2020-04-01T11:51:02.000000Z"},
		"c_uuid_arr":  []any{"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		"c_int4range": "[1,10)",
		"c_notnull":   "dflt",
	}
	for name, w := range want {
		got, err := a1.Get(name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !connectors.ValuesEqual(got, w) {
			t.Errorf("%s = %s (%T), want %s (%T)", name, connectors.FormatValue(got), got, connectors.FormatValue(w), w)
		}
	}
	dec := func(name string) string { v, _ := a1.Get(name); return v.(connectors.Decimal).String() }
	if got := dec("c_num"); got != "1234.567" {
		t.Errorf("c_num = %s", got)
	}
	if got := dec("c_num_int"); got != "42" {
		t.Errorf("c_num_int = %s", got)
	}
	if got := dec("c_money"); got != "12.34" {
		t.Errorf("c_money = %s", got)
	}
	vsd, _ := a1.Get("c_num_var")
	if s, _ := structField(vsd, "scale").(int32); s != 5 || !bytes.Equal(structField(vsd, "value").([]byte), connectors.DecimalFromInt64(314159, 5).UnscaledBytes()) {
		t.Errorf("c_num_var = %v, want VariableScaleDecimal 3.14159", vsd)
	}
	// Debezium leaves point out with no mapping of ours; check it is absent
	// rather than wrong.
	if _, ok := a1.Schema().Field("c_point"); ok {
		t.Errorf("c_point is mapped, but Sluice has no Point mapping")
	}
	// Schemas of note.
	field := func(name string) *connectors.Schema { f, _ := a1.Schema().Field(name); return f.Schema() }
	for name, sem := range map[string]string{"c_ts": connectors.DebeziumMicroTimestamp, "c_ts3": connectors.DebeziumTimestamp,
		"c_tstz": connectors.DebeziumZonedTimestamp, "c_date": connectors.DebeziumDate, "c_time": connectors.DebeziumMicroTime,
		"c_time3": connectors.DebeziumTime, "c_timetz": connectors.DebeziumZonedTime, "c_interval": connectors.DebeziumMicroDuration,
		"c_uuid": connectors.DebeziumUUID, "c_json": connectors.DebeziumJSON, "c_jsonb": connectors.DebeziumJSON,
		"c_enum": connectors.DebeziumEnum, "c_num_var": connectors.DebeziumVariableScaleDecimal, "c_num": connectors.DecimalLogicalName,
		"c_xml": connectors.DebeziumXML, "c_bit": connectors.DebeziumBits} {
		if got := field(name).Name(); got != sem {
			t.Errorf("%s schema name = %q, want %q", name, got, sem)
		}
	}
	if p, _ := field("c_enum").Parameter("allowed"); p != "sad,ok,happy" {
		t.Errorf("enum allowed = %q", p)
	}
	if p, _ := field("c_enum_arr").ValueSchema().Parameter("allowed"); p != "sad,ok,happy" {
		t.Errorf("enum array allowed = %q", p)
	}
	if def := field("c_serial").Default(); def != int32(0) {
		t.Errorf("serial default = %v, want 0 (Debezium's placeholder for generated defaults)", def)
	}
	if def := field("c_ts_default").Default(); def != int64(0) {
		t.Errorf("now() default = %v, want 0", def)
	}
	if def := field("c_bool_default").Default(); def != true {
		t.Errorf("bool default = %v", def)
	}
	// Row 3: nulls.
	a3 := after(recs[1])
	if v, _ := a3.Get("c_text"); v != nil {
		t.Errorf("null text = %v", v)
	}
	var b bytes.Buffer
	for i, rec := range []connectors.Record{snap[0], recs[0], recs[1]} {
		_, v := jsonOf(t, rec)
		fmt.Fprintf(&b, "row %d: %s\n", i+1, normalize(v))
	}
	golden(t, "alltypes.golden", b.Bytes())
}

// TestTypeModes checks decimal.handling.mode, time.precision.mode,
// binary.handling.mode and interval.handling.mode.
func TestTypeModes(t *testing.T) {
	d := newTestDB(t)
	d.exec(`CREATE TABLE m (id int PRIMARY KEY, n numeric(10,2), nv numeric, ts timestamp, d date, ti time, b bytea, i interval)`)
	d.exec(`INSERT INTO m VALUES (1, 1.50, 2.500, '2016-11-04 13:51:30.123456', '2016-11-04', '13:51:30.5', '\xdeadbeef', '1 day 02:00:00.5')`)
	cases := []struct {
		kv   []string
		want map[string]any
	}{
		{[]string{"decimal.handling.mode", "double"}, map[string]any{"n": 1.5, "nv": 2.5}},
		{[]string{"decimal.handling.mode", "string"}, map[string]any{"n": "1.50", "nv": "2.500"}},
		{[]string{"binary.handling.mode", "base64"}, map[string]any{"b": "3q2+7w=="}},
		{[]string{"binary.handling.mode", "base64-url-safe"}, map[string]any{"b": "3q2-7w=="}},
		{[]string{"binary.handling.mode", "hex"}, map[string]any{"b": "deadbeef"}},
		{[]string{"interval.handling.mode", "string"}, map[string]any{"i": "P0Y0M1DT2H0M0.5S"}},
		{[]string{"time.precision.mode", "connect"}, map[string]any{
			"ts": time.UnixMilli(1478267490123).UTC(), "d": connectors.DateFromDays(17109), "ti": time.UnixMilli(49890500).UTC()}},
		{[]string{"time.precision.mode", "adaptive_time_microseconds"}, map[string]any{"ti": int64(49890500000)}},
	}
	for i, c := range cases {
		t.Run(c.kv[0]+"="+c.kv[1], func(t *testing.T) {
			cfg := d.config(append(c.kv, "slot.name", fmt.Sprintf("%s_%d", d.slot, i), "snapshot.mode", "initial_only")...)
			r := openTask(t, cfg, nil)
			recs := r.pollN(1, 30*time.Second)
			a := envelopeField(recs[0], "after").(*connectors.Struct)
			for k, w := range c.want {
				got, _ := a.Get(k)
				if !connectors.ValuesEqual(got, w) {
					t.Errorf("%s = %s (%T), want %s (%T)", k, connectors.FormatValue(got), got, connectors.FormatValue(w), w)
				}
			}
			if _, err := r.task.Poll(t.Context()); err != connectors.ErrEndOfInput {
				// initial_only ends after the snapshot
				if err == nil {
					if _, err = r.task.Poll(t.Context()); err != connectors.ErrEndOfInput {
						t.Errorf("initial_only: Poll error = %v, want ErrEndOfInput", err)
					}
				} else {
					t.Errorf("initial_only: Poll error = %v", err)
				}
			}
		})
	}
}
