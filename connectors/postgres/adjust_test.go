package postgres

import "testing"

// TestAdjustName pins Debezium 3.4's SchemaNameAdjuster (cases from its
// SchemaNameAdjusterTest and the replacement functions' rules).
func TestAdjustName(t *testing.T) {
	for _, tc := range []struct {
		mode  string
		field bool
		in    string
		want  string
	}{
		{AdjustNone, false, "test-server.public.t.Key", "test-server.public.t.Key"},
		{AdjustAvro, false, "test_server.connector_test.products.Key", "test_server.connector_test.products.Key"},
		{AdjustAvro, false, "t1234.connector_test.products.Key", "t1234.connector_test.products.Key"},
		{AdjustAvro, false, "test-server.connector_test.products.Key", "test_server.connector_test.products.Key"},
		{AdjustAvro, false, "some-invalid%fullname_", "some_invalid_fullname_"},
		{AdjustAvro, false, "24ColumnName", "_24ColumnName"},
		{AdjustAvroUnicode, false, "_hello_语言.", "_u005fhello_u005f_u8bed_u8a00."},
		{AdjustAvroUnicode, false, "a-b", "a_u002db"},
		{AdjustAvroUnicode, false, "a\tb", "a_u009b"},
		{AdjustAvro, true, "order-id", "order_id"},
		{AdjustAvro, true, "a.b", "a_b"},
		{AdjustAvro, true, "1st", "_1st"},
		{AdjustAvroUnicode, true, "a.b", "a_u002eb"},
		{AdjustAvroUnicode, true, "snake_case", "snake_u005fcase"},
		{AdjustAvro, true, "😀", "__"},
	} {
		if got := adjustName(tc.mode, tc.field, tc.in); got != tc.want {
			t.Errorf("adjustName(%s, field=%v, %q) = %q, want %q", tc.mode, tc.field, tc.in, got, tc.want)
		}
	}
}

// TestNameAdjustmentInSchemas: the modes reach the key, value and
// envelope schema names and the field names.
func TestNameAdjustmentInSchemas(t *testing.T) {
	cfg, err := ParseConfig(baseConfig("topic.prefix", "my-server", "schema.name.adjustment.mode", "avro", "field.name.adjustment.mode", "avro"))
	if err != nil {
		t.Fatal(err)
	}
	tm := &typeMapper{decimal: "precise", time: "adaptive", binary: "bytes", interval: "numeric", placeholder: "x",
		types: func(oid uint32) *pgType { return &pgType{OID: oid, Kind: 'b'} }}
	f := &schemaFactory{cfg: cfg, filters: newFilters(cfg), types: tm}
	meta := &tableMeta{ID: tableID{"public", "orders"}, Key: []string{"order-id"}, Columns: []catalogColumn{
		{Name: "order-id", TypeOID: oidInt8, TypeMod: -1, NotNull: true}, {Name: "unit price", TypeOID: oidInt4, TypeMod: -1}}}
	ts, err := f.build(meta, catalogColumns(meta))
	if err != nil {
		t.Fatal(err)
	}
	if ts.topic != "my-server.public.orders" {
		t.Errorf("topic %q: topic names are not adjusted", ts.topic)
	}
	for _, c := range []struct{ got, want string }{
		{ts.keySchema.Name(), "my_server.public.orders.Key"},
		{ts.valueSchema.Name(), "my_server.public.orders.Value"},
		{ts.envelope.Name(), "my_server.public.orders.Envelope"},
		{ts.keySchema.Fields()[0].Name(), "order_id"},
		{ts.valueSchema.Fields()[1].Name(), "unit_price"},
	} {
		if c.got != c.want {
			t.Errorf("%q, want %q", c.got, c.want)
		}
	}
	if _, err := ParseConfig(baseConfig("schema.name.adjustment.mode", "kebab")); err == nil {
		t.Error("schema.name.adjustment.mode=kebab accepted")
	}
}
