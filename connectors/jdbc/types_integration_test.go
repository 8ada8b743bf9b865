//go:build integration

package jdbc

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

// typeCase is one field: its schema and value, the column type
// auto.create must give it, and the value read back as text.
type typeCase struct {
	field  string
	schema *connectors.Schema
	value  any
	typ    string
	text   string
}

func named(t connectors.Type, name string) *connectors.SchemaBuilder {
	return connectors.NewSchema(t).Name(name).Optional()
}

func allTypeCases(tb testing.TB) []typeCase {
	ts := time.Date(2024, 3, 15, 12, 34, 56, 789_000_000, time.UTC)
	vsd := connectors.StructSchema().Name(connectors.DebeziumVariableScaleDecimal).Optional().
		Field("scale", connectors.Int32Schema).Field("value", connectors.BytesSchema).MustBuild()
	nested := connectors.StructSchema().Optional().Field("a", connectors.Int32Schema).Field("b", connectors.OptionalStringSchema).MustBuild()
	dec := connectors.DecimalBuilder(2).Optional().MustBuild()
	decP := connectors.DecimalBuilder(3).Parameter(connectors.DebeziumPrecisionParam, "10").Optional().MustBuild()
	return []typeCase{
		{"i8", connectors.OptionalInt8Schema, int8(-8), "smallint", "-8"},
		{"i16", connectors.OptionalInt16Schema, int16(-1600), "smallint", "-1600"},
		{"i32", connectors.OptionalInt32Schema, int32(1 << 30), "integer", "1073741824"},
		{"i64", connectors.OptionalInt64Schema, int64(1 << 60), "bigint", "1152921504606846976"},
		{"f32", connectors.OptionalFloat32Schema, float32(1.5), "real", "1.5"},
		{"f64", connectors.OptionalFloat64Schema, 2.25, "double precision", "2.25"},
		{"b", connectors.OptionalBooleanSchema, true, "boolean", "true"},
		{"s", connectors.OptionalStringSchema, "héllo 'q'", "text", "héllo 'q'"},
		{"by", connectors.OptionalBytesSchema, []byte{0, 1, 0xfe}, "bytea", `\x0001fe`},
		{"dec", dec, connectors.DecimalFromInt64(-12345, 2), "numeric", "-123.45"},
		{"dec_p", decP, connectors.DecimalFromInt64(1234567, 3), "numeric(10,3)", "1234.567"},
		{"d", connectors.OptionalDateSchema, time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC), "date", "2024-03-15"},
		{"tm", connectors.OptionalTimeSchema, time.Date(1970, 1, 1, 12, 34, 56, 789_000_000, time.UTC), "time(3) without time zone", "12:34:56.789"},
		{"ts", connectors.OptionalTimestampSchema, ts, "timestamp(3) without time zone", "2024-03-15 12:34:56.789"},
		{"dbz_date", named(connectors.TypeInt32, connectors.DebeziumDate).MustBuild(), int32(19797), "date", "2024-03-15"},
		{"dbz_time", named(connectors.TypeInt32, connectors.DebeziumTime).MustBuild(), int32(45296789), "time(3) without time zone", "12:34:56.789"},
		{"dbz_micro_time", named(connectors.TypeInt64, connectors.DebeziumMicroTime).MustBuild(), int64(45296789012), "time(6) without time zone", "12:34:56.789012"},
		{"dbz_ts", named(connectors.TypeInt64, connectors.DebeziumTimestamp).MustBuild(), ts.UnixMilli(), "timestamp(3) without time zone", "2024-03-15 12:34:56.789"},
		{"dbz_micro_ts", named(connectors.TypeInt64, connectors.DebeziumMicroTimestamp).MustBuild(), ts.UnixMicro() + 12, "timestamp(6) without time zone", "2024-03-15 12:34:56.789012"},
		{"dbz_nano_ts", named(connectors.TypeInt64, connectors.DebeziumNanoTimestamp).MustBuild(), ts.UnixNano() + 12_000, "timestamp(6) without time zone", "2024-03-15 12:34:56.789012"},
		{"dbz_zoned_ts", named(connectors.TypeString, connectors.DebeziumZonedTimestamp).MustBuild(), "2024-03-15T12:34:56.789012+02:00", "timestamp with time zone", "2024-03-15 10:34:56.789012+00"},
		{"dbz_zoned_time", named(connectors.TypeString, connectors.DebeziumZonedTime).MustBuild(), "12:34:56.789Z", "time with time zone", "12:34:56.789+00"},
		{"dbz_year", named(connectors.TypeInt32, connectors.DebeziumYear).MustBuild(), int32(2024), "integer", "2024"},
		{"dbz_duration", named(connectors.TypeInt64, connectors.DebeziumMicroDuration).MustBuild(), int64(90_061_000_001), "interval", "25:01:01.000001"},
		{"dbz_interval", named(connectors.TypeString, connectors.DebeziumInterval).MustBuild(), "P1Y2M3DT4H5M6.5S", "interval", "1 year 2 mons 3 days 04:05:06.5"},
		{"dbz_uuid", named(connectors.TypeString, connectors.DebeziumUUID).MustBuild(), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{"dbz_json", named(connectors.TypeString, connectors.DebeziumJSON).MustBuild(), `{"k": [1, 2]}`, "jsonb", `{"k": [1, 2]}`},
		{"dbz_xml", named(connectors.TypeString, connectors.DebeziumXML).MustBuild(), "<a>1</a>", "xml", "<a>1</a>"},
		{"dbz_enum", named(connectors.TypeString, connectors.DebeziumEnum).Parameter("allowed", "x,y").MustBuild(), "y", "text", "y"},
		{"dbz_bits", named(connectors.TypeBytes, connectors.DebeziumBits).Parameter("length", "5").MustBuild(), []byte{0b10110}, "bit varying(5)", "10110"},
		{"dbz_vsd", vsd, mustStruct(tb, vsd, int32(4), connectors.DecimalFromInt64(1234567, 4).UnscaledBytes()), "numeric", "123.4567"},
		{"varchar20", connectors.NewSchema(connectors.TypeString).Optional().Parameter(paramSourceType, "VARCHAR").Parameter(paramSourceLength, "20").MustBuild(), "short", "character varying(20)", "short"},
		{"arr_i", connectors.ArraySchema(connectors.Int32Schema).Optional().MustBuild(), []any{int32(1), int32(2), int32(3)}, "integer[]", "{1,2,3}"},
		{"arr_s", connectors.ArraySchema(connectors.OptionalStringSchema).Optional().MustBuild(), []any{"a", nil, "c d"}, "text[]", `{a,NULL,"c d"}`},
		{"arr_ts", connectors.ArraySchema(connectors.TimestampSchema).Optional().MustBuild(), []any{ts}, "timestamp(3) without time zone[]", `{"2024-03-15 12:34:56.789"}`},
		{"mp", connectors.MapSchema(connectors.StringSchema, connectors.Int32Schema).Optional().MustBuild(), map[string]any{"x": int32(1)}, "jsonb", `{"x": 1}`},
		{"st", nested, mustStruct(tb, nested, int32(7), "z"), "jsonb", `{"a": 7, "b": "z"}`},
	}
}

func TestAutoCreateEveryType(t *testing.T) { eachPath(t, testAutoCreateEveryType) }

func testAutoCreateEveryType(t *testing.T, path func(*Sink)) {
	db := newDB(t)
	cases := allTypeCases(t)
	// Array columns make a shape go through the stage; check the scalar
	// types without them too, so both paths see every scalar type.
	var scalars []typeCase
	for _, c := range cases {
		if !strings.HasSuffix(c.typ, "[]") {
			scalars = append(scalars, c)
		}
	}
	for table, cases := range map[string][]typeCase{"alltypes": cases, "scalartypes": scalars} {
		b := connectors.StructSchema().Name(table+".Value").Field("id", connectors.Int32Schema)
		for _, c := range cases {
			b.Field(c.field, c.schema)
		}
		schema := b.MustBuild()
		vals := []any{int32(1)}
		for _, c := range cases {
			vals = append(vals, c.value)
		}
		full := mustStruct(t, schema, vals...)
		empty := mustStruct(t, schema, int32(2))

		task := openTask(t, db, map[string]string{
			connectors.KeyConnectorClass: DebeziumClass, KeySchemaEvolution: "basic",
			KeyInsertMode: "upsert", KeyPrimaryKeyMode: "record_value", KeyPrimaryKeyFields: "id",
		}, nil, path)
		putFlush(t, task, rec(table, nil, nil, schema, full), rec(table, nil, nil, schema, empty))

		types := db.columnTypes(t, table)
		if types["id"] != "integer not null" {
			t.Errorf("%s.id: %s", table, types["id"])
		}
		for _, c := range cases {
			if types[c.field] != c.typ {
				t.Errorf("%s.%s: type %q, want %q", table, c.field, types[c.field], c.typ)
			}
			var got *string
			err := db.conn.QueryRow(context.Background(), "SELECT "+c.field+"::text FROM "+table+" WHERE id = 1").Scan(&got)
			if err != nil {
				t.Errorf("read %s.%s: %v", table, c.field, err)
				continue
			}
			if got == nil || *got != c.text {
				t.Errorf("%s.%s: read back %v, want %q", table, c.field, deref(got), c.text)
			}
			var null *string
			if err := db.conn.QueryRow(context.Background(), "SELECT "+c.field+"::text FROM "+table+" WHERE id = 2").Scan(&null); err != nil || null != nil {
				t.Errorf("%s.%s: null read back as %v (%v)", table, c.field, deref(null), err)
			}
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "NULL"
	}
	return *s
}

// TestExistingColumnTypes writes Connect values into columns of other
// types than auto.create would pick (text into enum, int into numeric,
// string timestamps, …).
func TestExistingColumnTypes(t *testing.T) { eachPath(t, testExistingColumnTypes) }

func testExistingColumnTypes(t *testing.T, path func(*Sink)) {
	db := newDB(t)
	db.exec(t, `CREATE TYPE mood AS ENUM ('sad', 'happy')`)
	db.exec(t, `CREATE DOMAIN posint AS integer CHECK (VALUE > 0)`)
	db.exec(t, `CREATE TABLE conv (id int PRIMARY KEY, m mood, p posint, n numeric(12,2), f real, s varchar(10),
		tz timestamptz, ts timestamp, j json, ip inet, u uuid, bits bit(4), txt text, dt date)`)
	schema := connectors.StructSchema().
		Field("id", connectors.Int32Schema).
		Field("m", connectors.StringSchema).
		Field("p", connectors.Int64Schema).
		Field("n", connectors.Int64Schema).
		Field("f", connectors.Float64Schema).
		Field("s", connectors.Int32Schema).
		Field("tz", connectors.TimestampSchema).
		Field("ts", connectors.TimestampSchema).
		Field("j", connectors.MapSchema(connectors.StringSchema, connectors.StringSchema).MustBuild()).
		Field("ip", connectors.StringSchema).
		Field("u", connectors.StringSchema).
		Field("bits", connectors.StringSchema).
		Field("txt", connectors.DecimalSchema(1)).
		Field("dt", connectors.StringSchema).MustBuild()
	when := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	v := mustStruct(t, schema, int32(1), "happy", int64(5), int64(42), 0.5, int32(123), when, when,
		map[string]any{"k": "v"}, "10.0.0.1", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", "1010", connectors.DecimalFromInt64(15, 1), "2024-02-29")
	task := openTask(t, db, map[string]string{
		connectors.KeyConnectorClass: ConfluentClass, KeyInsertMode: "upsert", KeyPKMode: "record_value", KeyPKFields: "id",
		KeyDBTimezone: "Europe/Paris",
	}, nil, path)
	putFlush(t, task, rec("conv", nil, nil, schema, v))
	got := db.dump(t, `SELECT id, m::text, p::text, n::text, f::text, s, tz AT TIME ZONE 'UTC', ts::text, j::text, host(ip), u::text, bits::text, txt, dt::text FROM conv`)
	want := []string{strings.Join([]string{"1", "happy", "5", "42.00", "0.5", "123", "2024-01-02 03:04:05 +0000 UTC",
		"2024-01-02 04:04:05", `{"k":"v"}`, "10.0.0.1", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "1010", "1.5", "2024-02-29"}, "|")}
	equalRows(t, "converted", got, want)
}
