package postgres

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

// builtinTypes resolves the built-in OIDs the tests use.
func builtinTypes(oid uint32) *pgType {
	arrays := map[uint32]uint32{1007: oidInt4, 1009: oidText, 1231: oidNumeric, 1185: oidTimestamptz, 1000: oidBool}
	if elem, ok := arrays[oid]; ok {
		return &pgType{OID: oid, Kind: 'b', Category: 'A', Elem: elem, Name: "_x"}
	}
	switch oid {
	case 90001:
		return &pgType{OID: oid, Kind: 'e', Name: "mood", Labels: []string{"sad", "ok", "happy"}}
	case 90002:
		return &pgType{OID: oid, Kind: 'd', Name: "posint", Base: oidInt4}
	case 90003:
		return &pgType{OID: oid, Kind: 'b', Name: "point"}
	}
	return &pgType{OID: oid, Kind: 'b', Name: "builtin"}
}

func testMapper(kv ...string) *typeMapper {
	m := &typeMapper{decimal: DecimalPrecise, time: TimeAdaptive, binary: BinaryBytes, interval: IntervalNumeric,
		placeholder: DefaultToastPlaceholder, types: builtinTypes}
	for i := 0; i+1 < len(kv); i += 2 {
		switch kv[i] {
		case "decimal":
			m.decimal = kv[i+1]
		case "time":
			m.time = kv[i+1]
		case "binary":
			m.binary = kv[i+1]
		case "interval":
			m.interval = kv[i+1]
		}
	}
	return m
}

func numericTypmod(p, s int) int32 { return int32(p<<16|s) + 4 }

func TestParseValues(t *testing.T) {
	cases := []struct {
		name   string
		m      *typeMapper
		oid    uint32
		typmod int32
		text   string
		want   any
		schema string // expected schema name
	}{
		{"int2", testMapper(), oidInt2, -1, "-32768", int16(-32768), ""},
		{"int4", testMapper(), oidInt4, -1, "2147483647", int32(2147483647), ""},
		{"int8 min", testMapper(), oidInt8, -1, "-9223372036854775808", int64(math.MinInt64), ""},
		{"domain", testMapper(), 90002, -1, "7", int32(7), ""},
		{"bool", testMapper(), oidBool, -1, "t", true, ""},
		{"float4", testMapper(), oidFloat4, -1, "3.14", float32(3.14), ""},
		{"float8 inf", testMapper(), oidFloat8, -1, "-Infinity", math.Inf(-1), ""},
		{"text", testMapper(), oidText, -1, "héllo", "héllo", ""},
		{"bpchar", testMapper(), oidBpchar, 9, "ab   ", "ab   ", ""},
		{"uuid", testMapper(), oidUUID, -1, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", connectors.DebeziumUUID},
		{"jsonb", testMapper(), oidJSONB, -1, `{"a": 1}`, `{"a": 1}`, connectors.DebeziumJSON},
		{"bytea", testMapper(), oidBytea, -1, `\x010203`, []byte{1, 2, 3}, ""},
		{"bytea base64", testMapper("binary", BinaryBase64), oidBytea, -1, `\xdeadbeef`, "3q2+7w==", ""},
		{"bytea url", testMapper("binary", BinaryBase64URLSafe), oidBytea, -1, `\xdeadbeef`, "3q2-7w==", ""},
		{"bytea hex", testMapper("binary", BinaryHex), oidBytea, -1, `\xdeadbeef`, "deadbeef", ""},
		{"date", testMapper(), oidDate, -1, "2016-11-04", int32(17109), connectors.DebeziumDate},
		{"date BC", testMapper(), oidDate, -1, "0001-01-01 BC", int32(-719528), connectors.DebeziumDate},
		{"date connect", testMapper("time", TimeConnect), oidDate, -1, "2016-11-04", connectors.DateFromDays(17109), connectors.DateLogicalName},
		{"time", testMapper(), oidTime, -1, "13:51:30.123456", int64(49890123456), connectors.DebeziumMicroTime},
		{"time 24h", testMapper(), oidTime, -1, "24:00:00", int64(86400000000), connectors.DebeziumMicroTime},
		{"time(3)", testMapper(), oidTime, 3, "13:51:30.123", int32(49890123), connectors.DebeziumTime},
		{"time(3) micro mode", testMapper("time", TimeAdaptiveMicroseconds), oidTime, 3, "13:51:30.123", int64(49890123000), connectors.DebeziumMicroTime},
		{"timestamp", testMapper(), oidTimestamp, -1, "2016-11-04 13:51:30.123456", int64(1478267490123456), connectors.DebeziumMicroTimestamp},
		{"timestamp(3)", testMapper(), oidTimestamp, 3, "2016-11-04 13:51:30.123", int64(1478267490123), connectors.DebeziumTimestamp},
		{"timestamp before 1970", testMapper(), oidTimestamp, -1, "1936-10-25 22:10:12.608", int64(-1047174587392000), connectors.DebeziumMicroTimestamp},
		{"timestamp infinity", testMapper(), oidTimestamp, -1, "infinity", int64(pgInfinityMicros), connectors.DebeziumMicroTimestamp},
		{"timestamp connect", testMapper("time", TimeConnect), oidTimestamp, -1, "2016-11-04 13:51:30.123456", time.UnixMilli(1478267490123).UTC(), connectors.TimestampLogicalName},
		{"timestamptz", testMapper(), oidTimestamptz, -1, "2016-11-04 11:51:30.123456+00", "2016-11-04T11:51:30.123456Z", connectors.DebeziumZonedTimestamp},
		{"timestamptz offset", testMapper(), oidTimestamptz, -1, "2016-11-04 13:51:30.1+02", "2016-11-04T11:51:30.100000Z", connectors.DebeziumZonedTimestamp},
		{"timestamptz(0)", testMapper(), oidTimestamptz, 0, "2016-11-04 11:51:30+00", "2016-11-04T11:51:30Z", connectors.DebeziumZonedTimestamp},
		{"timestamptz(3)", testMapper(), oidTimestamptz, 3, "2020-04-01 11:51:02+00", "2020-04-01T11:51:02.000Z", connectors.DebeziumZonedTimestamp},
		{"timestamptz large", testMapper(), oidTimestamptz, -1, "21016-11-04 06:51:30.123456+00", "+21016-11-04T06:51:30.123456Z", connectors.DebeziumZonedTimestamp},
		{"timestamptz infinity", testMapper(), oidTimestamptz, -1, "-infinity", "-infinity", connectors.DebeziumZonedTimestamp},
		{"timetz", testMapper(), oidTimetz, -1, "13:51:30.123789+02", "11:51:30.123789Z", connectors.DebeziumZonedTime},
		{"timetz wraps", testMapper(), oidTimetz, -1, "01:00:00-03", "04:00:00Z", connectors.DebeziumZonedTime},
		{"timetz whole", testMapper(), oidTimetz, -1, "12:51:03+01", "11:51:03Z", connectors.DebeziumZonedTime},
		{"interval", testMapper(), oidInterval, -1, "P1Y2M3DT4H5M6.78S", int64(37091106780000), connectors.DebeziumMicroDuration},
		{"interval negative", testMapper(), oidInterval, -1, "P-1DT2H", int64(-79200000000), connectors.DebeziumMicroDuration},
		{"interval string", testMapper("interval", IntervalString), oidInterval, -1, "P1Y2M3DT4H5M6.78S", "P1Y2M3DT4H5M6.78S", connectors.DebeziumInterval},
		{"interval string zero", testMapper("interval", IntervalString), oidInterval, -1, "PT0S", "P0Y0M0DT0H0M0S", connectors.DebeziumInterval},
		{"numeric double", testMapper("decimal", DecimalDouble), oidNumeric, numericTypmod(10, 2), "1.50", 1.5, ""},
		{"numeric string", testMapper("decimal", DecimalString), oidNumeric, numericTypmod(10, 2), "1.50", "1.50", ""},
		{"numeric string NaN", testMapper("decimal", DecimalString), oidNumeric, -1, "NaN", "NAN", ""},
		{"enum", testMapper(), 90001, -1, "happy", "happy", connectors.DebeziumEnum},
		{"int array", testMapper(), 1007, -1, "{1,2,NULL}", []any{int32(1), int32(2), nil}, ""},
		{"text array", testMapper(), 1009, -1, `{"a","b c",NULL,"\"q\"",plain}`, []any{"a", "b c", nil, `"q"`, "plain"}, ""},
		{"text array empty", testMapper(), 1009, -1, `{}`, []any{}, ""},
		{"text array 2d", testMapper(), 1009, -1, `{{a,b},{c,d}}`, []any{"a", "b", "c", "d"}, ""},
		{"bool array bounds", testMapper(), 1000, -1, `[0:1]={t,f}`, []any{true, false}, ""},
		{"tstz array", testMapper(), 1185, -1, `{"2020-04-01 11:51:02+00"}`, []any{"2020-04-01T11:51:02.000000Z"}, ""},
		{"bit(3)", testMapper(), oidBit, 3, "101", []byte{5}, connectors.DebeziumBits},
		{"bit(1)", testMapper(), oidBit, 1, "1", true, ""},
		{"varbit", testMapper(), oidVarbit, -1, "0000000000000001", []byte{1}, connectors.DebeziumBits},
		{"varbit zero", testMapper(), oidVarbit, -1, "000", []byte{}, connectors.DebeziumBits},
		{"oid", testMapper(), oidOID, -1, "12345", int64(12345), ""},
		{"inet", testMapper(), oidInet, -1, "10.0.0.1/8", "10.0.0.1/8", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mp, err := c.m.mapType(c.oid, c.typmod)
			if err != nil {
				t.Fatal(err)
			}
			s := mp.builder().Optional().MustBuild()
			if s.Name() != c.schema {
				t.Errorf("schema name %q, want %q", s.Name(), c.schema)
			}
			got, err := mp.parse([]byte(c.text))
			if err != nil {
				t.Fatal(err)
			}
			if !connectors.ValuesEqual(got, c.want) {
				t.Fatalf("parse(%q) = %s (%T), want %s (%T)", c.text, connectors.FormatValue(got), got, connectors.FormatValue(c.want), c.want)
			}
			if err := connectors.ValidateValue(s, got); err != nil {
				t.Errorf("value does not fit the schema: %v", err)
			}
		})
	}
}

func TestNumericPrecise(t *testing.T) {
	m := testMapper()
	mp, _ := m.mapType(oidNumeric, numericTypmod(12, 3))
	s := mp.builder().MustBuild()
	if s.Name() != connectors.DecimalLogicalName {
		t.Fatalf("schema %v", s)
	}
	if p, _ := s.Parameter(connectors.DebeziumPrecisionParam); p != "12" {
		t.Errorf("precision parameter %q", p)
	}
	for text, want := range map[string]string{"1234.567": "1234.567", "-0.500": "-0.500", "12345678901234567890.123": "12345678901234567890.123"} {
		v, err := mp.parse([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		if d := v.(connectors.Decimal); d.String() != want || d.Scale() != 3 {
			t.Errorf("%s → %s scale %d", text, d, d.Scale())
		}
	}
	if _, err := mp.parse([]byte("NaN")); err == nil {
		t.Error("NaN accepted in precise mode")
	}
	// Unconstrained numeric: VariableScaleDecimal, trailing zeros stripped.
	mp, _ = m.mapType(oidNumeric, -1)
	s = mp.builder().Optional().MustBuild()
	parse := mp.bind(s)
	for text, want := range map[string][2]any{"3.14159000": {int32(5), int64(314159)}, "100": {int32(0), int64(100)}, "0.00": {int32(0), int64(0)}} {
		v, err := parse([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		st := v.(*connectors.Struct)
		scale, _ := st.Get("scale")
		value, _ := st.Get("value")
		if scale != want[0] || !bytes.Equal(value.([]byte), connectors.DecimalFromInt64(want[1].(int64), 0).UnscaledBytes()) {
			t.Errorf("%s → scale %v value %v", text, scale, value)
		}
		if err := connectors.ValidateValue(s, v); err != nil {
			t.Error(err)
		}
	}
}

func TestParseDecimalFastPath(t *testing.T) {
	for _, s := range []string{"0", "-1", "123.45", "-0.001", "999999999999999999", "-999999999999999.999", "1234567890123456789.5", "100.0"} {
		fast, err := parseDecimal([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		slow, _ := connectors.ParseDecimal(s)
		if !fast.Equal(slow) {
			t.Errorf("%s: fast %s (scale %d), slow %s (scale %d)", s, fast, fast.Scale(), slow, slow.Scale())
		}
	}
}

func TestUnmappedTypes(t *testing.T) {
	m := testMapper()
	if _, err := m.mapType(90003, -1); err == nil {
		t.Error("point is mapped")
	}
	m.unknown = true
	mp, err := m.mapType(90003, -1)
	if err != nil {
		t.Fatal(err)
	}
	b := []byte("(1,2)")
	v, _ := mp.parse(b)
	b[0] = 'X'
	if !bytes.Equal(v.([]byte), []byte("(1,2)")) {
		t.Errorf("include.unknown.datatypes value %q aliases the input", v)
	}
}

func TestDefaultValues(t *testing.T) {
	m := testMapper()
	cases := []struct {
		oid    uint32
		typmod int32
		expr   string
		want   any
	}{
		{oidInt4, -1, "nextval('t_id_seq'::regclass)", int32(0)},
		{oidInt8, -1, "'9223372036854775807'::bigint", int64(math.MaxInt64)},
		{oidInt4, -1, "42", int32(42)},
		{oidText, -1, "'new'::text", "new"},
		{oidVarchar, 24, "'abc'::character varying", "abc"},
		{oidBool, -1, "true", true},
		{oidTimestamp, -1, "now()", int64(0)},
		{oidTimestamp, -1, "CURRENT_TIMESTAMP", int64(0)},
		{oidTimestamptz, -1, "now()", "1970-01-01T00:00:00.000000Z"},
		{oidDate, -1, "'2020-01-02'::date", int32(18263)},
		{oidUUID, -1, "gen_random_uuid()", "00000000-0000-0000-0000-000000000000"},
		{oidNumeric, numericTypmod(8, 2), "1.5", connectors.DecimalFromInt64(150, 2)},
		{oidInt4, -1, "NULL::integer", nil},
		{90001, -1, "'ok'::mood", "ok"},
		{oidNumeric, -1, "1.5", nil}, // VariableScaleDecimal (a struct) cannot be a default
		{oidBytea, -1, `'\x00'::bytea`, nil},
		{oidInterval, -1, "'P1D'::interval", int64(86400000000)},
	}
	for _, c := range cases {
		mp, err := m.mapType(c.oid, c.typmod)
		if err != nil {
			t.Fatal(err)
		}
		got := defaultValue(mp, c.expr)
		if !connectors.ValuesEqual(got, c.want) {
			t.Errorf("default of %q (oid %d) = %s, want %s", c.expr, c.oid, connectors.FormatValue(got), connectors.FormatValue(c.want))
		}
	}
}

func TestCivilDays(t *testing.T) {
	for _, d := range []int64{-800000, -719893, -1, 0, 1, 17109, 2932896, 7000000} {
		y, m, day := civilFromDays(d)
		if back := daysFromCivil(y, m, day); back != d {
			t.Errorf("%d → %d-%d-%d → %d", d, y, m, day, back)
		}
		if y > -5000 && y < 10000 {
			if want := time.Date(int(y), time.Month(m), int(day), 0, 0, 0, 0, time.UTC).Unix() / 86400; want != d {
				t.Errorf("%d → %d-%d-%d, time says %d", d, y, m, day, want)
			}
		}
	}
}

func TestSequenceString(t *testing.T) {
	if got := sequenceString(0, 1234); got != `[null,"1234"]` {
		t.Errorf("got %s", got)
	}
	if got := sequenceString(12, 34); got != `["12","34"]` {
		t.Errorf("got %s", got)
	}
}
