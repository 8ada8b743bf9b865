package transforms

import (
	"testing"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

// The instants of Kafka's TimestampConverterTest.
var (
	xEpoch        = ms(0)
	xTime         = ms(1234)                // 00:00:01.234 on the epoch day
	xDate         = ms(dayMillis)           // 1970-01-02
	xDatePlusTime = ms(dayMillis + 1234)    // 1970-01-02T00:00:01.234Z
	xUnix         = int64(dayMillis + 1234) // 86401234
	xUnixMicros   = xUnix*1000 + 123        // 86401234123
	xUnixNanos    = xUnixMicros*1000 + 456  // 86401234123456
	xUnixSeconds  = int64(dayMillis+1234) / 1000
	xFormat       = "yyyy MM dd HH mm ss SSS z"
	xString       = "1970 01 02 00 00 01 234 UTC"
)

func tsConverter(t *testing.T, class string, cfg map[string]string) Transformation {
	return newTransform(t, class, cfg)
}

func TestTimestampConverterConfigErrors(t *testing.T) {
	wantConfigError(t, configureErr(t, "TimestampConverter$Value", nil), "target.type", "Missing required configuration")
	wantConfigError(t, configureErr(t, "TimestampConverter$Value", map[string]string{"target.type": "invalid"}), "target.type",
		"String must be one of: string, unix, Date, Time, Timestamp")
	wantConfigError(t, configureErr(t, "TimestampConverter$Value", map[string]string{"target.type": "unix", "unix.precision": "invalid"}), "unix.precision",
		"String must be one of: nanoseconds, microseconds, milliseconds, seconds")
	if err := configureErr(t, "TimestampConverter$Value", map[string]string{"target.type": "unix", "unix.precision": "seconds"}); err != nil {
		t.Error(err)
	}
	wantConfigError(t, configureErr(t, "TimestampConverter$Value", map[string]string{"target.type": "string"}), "format",
		"TimestampConverter requires format option to be specified when using string timestamps")
	wantConfigError(t, configureErr(t, "TimestampConverter$Value", map[string]string{"target.type": "string", "format": "bad-format"}), "format",
		"Illegal pattern character 'b'")
}

func TestTimestampConverterSchemaless(t *testing.T) {
	for _, tc := range []struct {
		name, target string
		extra        map[string]string
		in, want     any
	}{
		{"identity", "Timestamp", nil, xDatePlusTime, xDatePlusTime},
		{"timestamp to Date", "Date", nil, xDatePlusTime, xDate},
		{"timestamp to Time", "Time", nil, xDatePlusTime, xTime},
		{"timestamp to unix", "unix", nil, xDatePlusTime, xUnix},
		{"timestamp to string", "string", map[string]string{"format": xFormat}, xDatePlusTime, xString},
		{"date to timestamp", "Timestamp", nil, xDate, xDate},
		{"time to timestamp", "Timestamp", nil, xTime, xTime},
		{"unix to timestamp", "Timestamp", nil, xUnix, xDatePlusTime},
		{"string to timestamp", "Timestamp", map[string]string{"format": xFormat}, xString, xDatePlusTime},
		{"string to unix micros", "unix", map[string]string{"format": xFormat, "unix.precision": "microseconds"}, xString, int64(86401234000)},
		{"string to unix nanos", "unix", map[string]string{"format": xFormat, "unix.precision": "nanoseconds"}, xString, int64(86401234000000)},
		{"string to unix seconds", "unix", map[string]string{"format": xFormat, "unix.precision": "seconds"}, xString, xUnixSeconds},
		{"null", "string", map[string]string{"format": xFormat}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := map[string]string{"target.type": tc.target}
			for k, v := range tc.extra {
				cfg[k] = v
			}
			tr := tsConverter(t, "TimestampConverter$Value", cfg)
			out := apply(t, tr, sourceRecord("topic", nil, nil, nil, tc.in))
			if out.ValueSchema != nil {
				t.Errorf("schema %v", out.ValueSchema)
			}
			eq(t, "value", out.Value, tc.want)
		})
	}
}

func TestTimestampConverterWithSchema(t *testing.T) {
	for _, tc := range []struct {
		name, target string
		extra        map[string]string
		inSchema     *connectors.Schema
		in           any
		wantSchema   *connectors.Schema
		want         any
	}{
		{"identity", "Timestamp", nil, connectors.TimestampSchema, xDatePlusTime, connectors.TimestampSchema, xDatePlusTime},
		{"timestamp to Date", "Date", nil, connectors.TimestampSchema, xDatePlusTime, connectors.DateSchema, xDate},
		{"timestamp to Time", "Time", nil, connectors.TimestampSchema, xDatePlusTime, connectors.TimeSchema, xTime},
		{"timestamp to unix", "unix", nil, connectors.TimestampSchema, xDatePlusTime, connectors.Int64Schema, xUnix},
		{"timestamp to string", "string", map[string]string{"format": xFormat}, connectors.TimestampSchema, xDatePlusTime, connectors.StringSchema, xString},
		{"date to timestamp", "Timestamp", nil, connectors.DateSchema, xDate, connectors.TimestampSchema, xDate},
		{"time to timestamp", "Timestamp", nil, connectors.TimeSchema, xTime, connectors.TimestampSchema, xTime},
		{"unix to timestamp", "Timestamp", nil, connectors.Int64Schema, xUnix, connectors.TimestampSchema, xDatePlusTime},
		{"string to timestamp", "Timestamp", map[string]string{"format": xFormat}, connectors.StringSchema, xString, connectors.TimestampSchema, xDatePlusTime},
		{"null to timestamp", "Timestamp", nil, connectors.OptionalTimestampSchema, nil, connectors.OptionalTimestampSchema, nil},
		{"null to unix", "unix", nil, connectors.OptionalTimestampSchema, nil, connectors.OptionalInt64Schema, nil},
		{"null to string", "string", map[string]string{"format": xFormat}, connectors.OptionalTimestampSchema, nil, connectors.OptionalStringSchema, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := map[string]string{"target.type": tc.target}
			for k, v := range tc.extra {
				cfg[k] = v
			}
			tr := tsConverter(t, "TimestampConverter$Value", cfg)
			out := apply(t, tr, sourceRecord("topic", nil, nil, tc.inSchema, tc.in))
			if !out.ValueSchema.Equal(tc.wantSchema) {
				t.Errorf("schema %v, want %v", out.ValueSchema, tc.wantSchema)
			}
			eq(t, "value", out.Value, tc.want)
		})
	}
}

func TestTimestampConverterField(t *testing.T) {
	tr := tsConverter(t, "TimestampConverter$Value", map[string]string{"target.type": "Date", "field": "ts"})
	out := apply(t, tr, sourceRecord("topic", nil, nil, nil, map[string]any{"ts": xDatePlusTime}))
	eq(t, "schemaless field", out.Value, map[string]any{"ts": xDate})

	for _, tc := range []struct {
		precision string
		in        int64
		want      time.Time
	}{
		{"milliseconds", xUnix, xDatePlusTime},
		{"microseconds", xUnixMicros, xDatePlusTime},
		{"nanoseconds", xUnixNanos, xDatePlusTime},
		{"seconds", xUnixSeconds, ms(dayMillis + 1000)},
	} {
		tr := tsConverter(t, "TimestampConverter$Value", map[string]string{"target.type": "Timestamp", "field": "ts", "unix.precision": tc.precision})
		schema := structOf(t, f("ts", connectors.Int64Schema), f("other", connectors.StringSchema))
		out := apply(t, tr, sourceRecord("topic", nil, nil, schema, newStruct(t, schema, "ts", tc.in, "other", "test")))
		want := structOf(t, f("ts", connectors.TimestampSchema), f("other", connectors.StringSchema))
		if !out.ValueSchema.Equal(want) {
			t.Errorf("%s: schema %v", tc.precision, out.ValueSchema)
		}
		eq(t, tc.precision, get(t, out.Value, "ts"), tc.want)
		eq(t, "other", get(t, out.Value, "other"), "test")
	}
}

func TestTimestampConverterNullField(t *testing.T) {
	for _, target := range []string{"Timestamp", "unix", "Date", "Time", "string"} {
		tr := tsConverter(t, "TimestampConverter$Value", map[string]string{"target.type": target, "field": "ts", "format": xFormat})
		// Schemaless: a null value, or a null field.
		out := apply(t, tr, sourceRecord("topic", nil, nil, nil, nil))
		if out.Value != nil {
			t.Errorf("%s: null value became %v", target, out.Value)
		}
		out = apply(t, tr, sourceRecord("topic", nil, nil, nil, map[string]any{"ts": nil}))
		eq(t, target, out.Value, map[string]any{"ts": nil})
		// With a schema: a null field keeps a null; a null struct stays null.
		schema := structOf(t, f("ts", connectors.OptionalTimestampSchema), f("other", connectors.OptionalStringSchema))
		out = apply(t, tr, sourceRecord("topic", nil, nil, schema, newStruct(t, schema, "other", "test")))
		eq(t, target+" field", get(t, out.Value, "ts"), nil)
		optional := mustBuild(t, connectors.StructSchema().Optional().Field("ts", connectors.OptionalTimestampSchema).Field("other", connectors.OptionalStringSchema))
		out = apply(t, tr, sourceRecord("topic", nil, nil, optional, nil))
		if out.Value != nil || !out.ValueSchema.Optional() {
			t.Errorf("%s: null struct: %v %v", target, out.ValueSchema, out.Value)
		}
	}
}

func TestTimestampConverterNullFieldWithDefault(t *testing.T) {
	for _, tc := range []struct {
		replace string
		want    any
	}{{"false", nil}, {"true", xEpoch}} {
		tr := tsConverter(t, "TimestampConverter$Value", map[string]string{"target.type": "Timestamp", "field": "ts", "replace.null.with.default": tc.replace})
		schema := structOf(t, f("ts", mustBuild(t, connectors.NewSchema(connectors.TypeInt64).Optional().Default(int64(0)))), f("other", connectors.StringSchema))
		out := apply(t, tr, sourceRecord("topic", nil, nil, schema, newStruct(t, schema, "ts", nil, "other", "test")))
		eq(t, "replace="+tc.replace, get(t, out.Value, "ts"), tc.want)
	}
}

func TestTimestampConverterKeyAndErrors(t *testing.T) {
	tr := tsConverter(t, "TimestampConverter$Key", map[string]string{"target.type": "Timestamp"})
	out := apply(t, tr, sourceRecord("topic", nil, xDatePlusTime, nil, nil))
	eq(t, "key", out.Key, xDatePlusTime)
	applyErr(t, tr, sourceRecord("topic", nil, int32(1), nil, nil), "TimestampConverter does not support int32 objects as timestamps")
	applyErr(t, tr, sourceRecord("topic", connectors.Int32Schema, int32(1), nil, nil), "does not correspond to a known timestamp type format")
	tr = tsConverter(t, "TimestampConverter$Value", map[string]string{"target.type": "unix", "format": "yyyy-MM-dd"})
	applyErr(t, tr, sourceRecord("topic", nil, nil, nil, "nope"), "Could not parse timestamp: value (nope) does not match pattern (yyyy-MM-dd)")
}
