package jdbc

import (
	"context"
	"errors"
	"math/big"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/internal/pgtest"
)

func TestFlavorDefaults(t *testing.T) {
	for _, c := range []struct {
		class     string
		flavor    Flavor
		batch     int
		retries   int
		backoff   time.Duration
		quote     bool
		dots      bool
		userKey   string
		attempts  int
		withClass bool
	}{
		{DebeziumClass, FlavorDebezium, 500, 5, time.Second, false, true, KeyConnectionUsername, 1, true},
		{ConfluentClass, FlavorConfluent, 3000, 10, 3 * time.Second, true, false, KeyConnectionUser, 3, true},
		{Alias, FlavorSluice, 500, 5, time.Second, false, true, KeyConnectionUsername, 1, true},
		{"", FlavorSluice, 500, 5, time.Second, false, true, KeyConnectionUsername, 1, false},
	} {
		props := map[string]string{KeyConnectionURL: "jdbc:postgresql://db/x", c.userKey: "u"}
		if c.withClass {
			props[connectors.KeyConnectorClass] = c.class
		}
		cfg, err := ParseConfig(props)
		if err != nil {
			t.Fatalf("%s: %v", c.class, err)
		}
		if cfg.Flavor != c.flavor || cfg.BatchSize != c.batch || cfg.MaxRetries != c.retries || cfg.RetryBackoff != c.backoff ||
			cfg.QuoteIdentifiers != c.quote || cfg.ReplaceTopicDots != c.dots || cfg.User != "u" || cfg.ConnectionAttempts != c.attempts {
			t.Errorf("%s: %+v", c.class, cfg)
		}
		if cfg.InsertMode != InsertModeInsert || cfg.PrimaryKeyMode != PKNone || cfg.TableNameFormat != "${topic}" || cfg.TimeZone != "UTC" {
			t.Errorf("%s: common defaults: %+v", c.class, cfg)
		}
	}
}

func TestFlavorKeys(t *testing.T) {
	dbz := ConfigDef(FlavorDebezium)
	cf := ConfigDef(FlavorConfluent)
	sl := ConfigDef(FlavorSluice)
	for _, k := range []string{KeyConnectionUsername, KeyPrimaryKeyMode, KeyPrimaryKeyFields, KeySchemaEvolution, KeyQuoteIdentifiers,
		KeyFieldIncludeList, KeyFlushMaxRetries, KeyTruncateEnabled, KeyDatabaseTimeZone, KeyCollectionNameFormat} {
		if _, ok := dbz.Key(k); !ok {
			t.Errorf("Debezium flavour lacks %s", k)
		}
		if _, ok := cf.Key(k); ok {
			t.Errorf("Confluent flavour defines Debezium's %s", k)
		}
		if _, ok := sl.Key(k); !ok {
			t.Errorf("Sluice flavour lacks %s", k)
		}
	}
	for _, k := range []string{KeyConnectionUser, KeyPKMode, KeyPKFields, KeyAutoCreate, KeyAutoEvolve, KeyQuoteSQLIdentifiers,
		KeyFieldsWhitelist, KeyMaxRetries, KeyRetryBackoffMs, KeyDBTimezone, KeyConnectionAttempts, KeyDialectName} {
		if _, ok := cf.Key(k); !ok {
			t.Errorf("Confluent flavour lacks %s", k)
		}
		if _, ok := dbz.Key(k); ok {
			t.Errorf("Debezium flavour defines Confluent's %s", k)
		}
		if _, ok := sl.Key(k); !ok {
			t.Errorf("Sluice flavour lacks %s", k)
		}
	}
	if k, _ := cf.Key(KeyBatchSize); k.Default != int32(3000) {
		t.Errorf("Confluent batch.size default %v", k.Default)
	}
	if k, _ := dbz.Key(KeyBatchSize); k.Default != int32(500) {
		t.Errorf("Debezium batch.size default %v", k.Default)
	}
}

func TestParseConfig(t *testing.T) {
	base := func(class string, kv ...string) map[string]string {
		m := map[string]string{connectors.KeyConnectorClass: class, KeyConnectionURL: "jdbc:postgresql://h/d"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	t.Run("debezium", func(t *testing.T) {
		cfg, err := ParseConfig(base(DebeziumClass, KeyInsertMode, "UPSERT", KeyPrimaryKeyMode, "record_key", KeyPrimaryKeyFields, "a, b",
			KeySchemaEvolution, "basic", KeyQuoteIdentifiers, "true", KeyFlushMaxRetries, "2", KeyFlushRetryDelayMs, "50",
			KeyCollectionNameFormat, "x_${topic}", KeyTableNamingStrategy, LowercaseTableNamingStrategy, KeyDatabaseTimeZone, "Europe/Paris"))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.InsertMode != InsertModeUpsert || cfg.PrimaryKeyMode != PKRecordKey || !slices.Equal(cfg.PrimaryKeyFields, []string{"a", "b"}) ||
			!cfg.AutoCreate || !cfg.AutoEvolve || !cfg.QuoteIdentifiers || cfg.MaxRetries != 2 || cfg.RetryBackoff != 50*time.Millisecond ||
			cfg.TableNameFormat != "x_${topic}" || !cfg.LowercaseTables || cfg.location().String() != "Europe/Paris" {
			t.Errorf("%+v", cfg)
		}
	})
	t.Run("confluent", func(t *testing.T) {
		cfg, err := ParseConfig(base(ConfluentClass, KeyInsertMode, "update", KeyPKMode, "record_value", KeyPKFields, "id",
			KeyAutoCreate, "true", KeyQuoteSQLIdentifiers, "never", KeyFieldsWhitelist, "a.b,c", KeyMaxRetries, "0",
			KeyRetryBackoffMs, "10", KeyDBTimezone, "Asia/Tokyo", KeyTableTypes, "TABLE,VIEW"))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.InsertMode != InsertModeUpdate || cfg.PrimaryKeyMode != PKRecordValue || !cfg.AutoCreate || cfg.AutoEvolve ||
			cfg.QuoteIdentifiers || cfg.MaxRetries != 0 || cfg.RetryBackoff != 10*time.Millisecond || cfg.TimeZone != "Asia/Tokyo" ||
			!cfg.AllowViews || !slices.Equal(cfg.FieldInclude, []string{`a\.b`, "c"}) {
			t.Errorf("%+v", cfg)
		}
	})
	t.Run("sluice accepts both spellings", func(t *testing.T) {
		cfg, err := ParseConfig(base(Alias, KeyConnectionUser, "u", KeyPKMode, "kafka", KeyAutoCreate, "true", KeyMaxRetries, "1"))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.User != "u" || cfg.PrimaryKeyMode != PKKafka || !cfg.AutoCreate || cfg.AutoEvolve || cfg.MaxRetries != 1 {
			t.Errorf("%+v", cfg)
		}
		_, err = ParseConfig(base(Alias, KeyPrimaryKeyMode, "record_key", KeyPKMode, "record_value"))
		if err == nil || !strings.Contains(err.Error(), "conflicts with primary.key.mode=record_key") {
			t.Errorf("conflicting spellings: %v", err)
		}
		if _, err := ParseConfig(base(Alias, KeyPrimaryKeyMode, "kafka", KeyPKMode, "KAFKA")); err != nil {
			t.Errorf("same value, two spellings: %v", err)
		}
	})
	t.Run("errors, all at once", func(t *testing.T) {
		_, err := ParseConfig(base(DebeziumClass, KeyInsertMode, "upsert", KeyDeleteEnabled, "true",
			KeyFieldIncludeList, "a", KeyFieldExcludeList, "b"))
		var ces connectors.ConfigErrors
		if !errors.As(err, &ces) || !errors.Is(err, connectors.ErrInvalidConfig) {
			t.Fatalf("%v", err)
		}
		for _, want := range []string{"field.exclude.list"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%q lacks %q", err, want)
			}
		}
		_, err = ParseConfig(base(DebeziumClass, KeyInsertMode, "upsert", KeyDeleteEnabled, "true"))
		for _, want := range []string{"delete.enabled", "record_key", "insert.mode upsert needs a primary key: set primary.key.mode"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%v lacks %q", err, want)
			}
		}
		_, err = ParseConfig(base(ConfluentClass, KeyInsertMode, "bogus", KeyPKMode, "kafka", KeyPKFields, "a,b"))
		if err == nil || !strings.Contains(err.Error(), "insert.mode") {
			t.Errorf("bad enum: %v", err)
		}
		_, err = ParseConfig(base(ConfluentClass, KeyDialectName, "MySqlDatabaseDialect"))
		if err == nil || !strings.Contains(err.Error(), "PostgreSQL only") {
			t.Errorf("dialect: %v", err)
		}
	})
}

func TestJDBCURL(t *testing.T) {
	for _, c := range []struct {
		url, user, password string
		want                string // host:port/db user
		params              map[string]string
	}{
		{"jdbc:postgresql://db.example:6543/sales?user=a&password=p%26q&sslmode=require&currentSchema=s1&ApplicationName=app", "", "",
			"db.example:6543/sales a", map[string]string{"sslmode": "require", "search_path": "s1", "application_name": "app"}},
		{"jdbc:postgresql://h/d?user=a", "b", "secret", "h:5432/d b", nil},
		{"jdbc:postgresql://h1:1,h2:2/d?targetServerType=primary&ssl=true&connectTimeout=3", "u", "", "h1:1/d u",
			map[string]string{"target_session_attrs": "read-write", "connect_timeout": "3"}},
		{"jdbc:postgresql://[::1]:7/d", "u", "", "::1:7/d u", nil},
		{"jdbc:postgresql:mydb", "u", "", "localhost:5432/mydb u", nil},
	} {
		cfg := DefaultConfig(FlavorDebezium)
		cfg.ConnectionURL, cfg.User, cfg.Password = c.url, c.user, connectors.NewPassword(c.password)
		cc, err := cfg.pgxConfig()
		if err != nil {
			t.Errorf("%s: %v", c.url, err)
			continue
		}
		got := cc.Host + ":" + strconv.Itoa(int(cc.Port)) + "/" + cc.Database + " " + cc.User
		if got != c.want {
			t.Errorf("%s: %s, want %s", c.url, got, c.want)
		}
		if c.password != "" && cc.Password != c.password {
			t.Errorf("%s: password %q", c.url, cc.Password)
		}
		if strings.Contains(c.url, "p%26q") && cc.Password != "p&q" {
			t.Errorf("%s: password %q", c.url, cc.Password)
		}
		for k, v := range c.params {
			if k == "connect_timeout" {
				if cc.ConnectTimeout != 3*time.Second {
					t.Errorf("%s: connect timeout %v", c.url, cc.ConnectTimeout)
				}
				continue
			}
			if k == "target_session_attrs" {
				if cc.ValidateConnect == nil {
					t.Errorf("%s: no target_session_attrs check", c.url)
				}
				continue
			}
			if k == "sslmode" {
				if cc.TLSConfig == nil {
					t.Errorf("%s: no TLS for sslmode=require", c.url)
				}
				continue
			}
			if cc.RuntimeParams[k] != v {
				t.Errorf("%s: %s = %q, want %q", c.url, k, cc.RuntimeParams[k], v)
			}
		}
	}
	for _, bad := range []string{"", "postgres://h/d", "jdbc:mysql://h/d", "jdbc:postgresql://h:99999/d"} {
		if _, err := parseJDBCURL(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if got := redactURL("jdbc:postgresql://h/d?user=a&password=s3cret&x=1"); strings.Contains(got, "s3cret") {
		t.Errorf("redactURL: %s", got)
	}
}

func TestTableNames(t *testing.T) {
	for _, c := range []struct {
		flavor Flavor
		format string
		topic  string
		quote  string
		want   string
	}{
		{FlavorDebezium, "${topic}", "srv.public.orders", "", `"srv_public_orders"`},
		{FlavorDebezium, "${topic}", "Srv.Public.Orders", "", `"srv_public_orders"`},
		{FlavorDebezium, "archive.${topic}", "a.b", "", `"archive"."a_b"`},
		{FlavorDebezium, "${topic}", "Mixed", "true", `"Mixed"`},
		{FlavorConfluent, "${topic}", "srv.public.orders", "", `"public"."orders"`},
		{FlavorConfluent, "kafka_${topic}", "Orders", "", `"kafka_Orders"`},
		{FlavorConfluent, "${topic}", "Orders", "never", `"orders"`},
	} {
		props := map[string]string{KeyConnectionURL: "jdbc:postgresql://h/d", KeyTableNameFormat: c.format}
		if c.quote != "" {
			if c.flavor == FlavorConfluent {
				props[KeyQuoteSQLIdentifiers] = c.quote
			} else {
				props[KeyQuoteIdentifiers] = c.quote
			}
		}
		cfg, err := ParseFlavor(c.flavor, props)
		if err != nil {
			t.Fatal(err)
		}
		s := &Sink{cfg: cfg, q: quoter{keepCase: cfg.QuoteIdentifiers}}
		raw, err := s.tableName(&connectors.Record{Topic: c.topic}, part{})
		if err != nil {
			t.Fatal(err)
		}
		id := parseTableID(raw, s.q)
		if got := id.sql(s.q); got != c.want {
			t.Errorf("%v %q %q: %s, want %s", c.flavor, c.format, c.topic, got, c.want)
		}
	}
}

func TestEnvelopeDetection(t *testing.T) {
	row := connectors.StructSchema().Optional().Field("id", connectors.Int32Schema).MustBuild()
	env := connectors.StructSchema().Name("x.Envelope").Field("before", row).Field("after", row).
		Field("op", connectors.StringSchema).MustBuild()
	after, _ := connectors.StructOf(row, int32(1))
	v, _ := connectors.StructOf(env, nil, after, "u")
	op, a, _, ok := envelope(&connectors.Record{Value: v})
	if !ok || op != "u" || a.st != after {
		t.Errorf("envelope: %v %v %v", op, a, ok)
	}
	// A row that merely has an op field is not an envelope.
	flat := connectors.StructSchema().Field("op", connectors.StringSchema).Field("id", connectors.Int32Schema).MustBuild()
	fv, _ := connectors.StructOf(flat, "c", int32(1))
	if _, _, _, ok := envelope(&connectors.Record{Value: fv}); ok {
		t.Error("flat row taken for an envelope")
	}
	if _, _, _, ok := envelope(&connectors.Record{Value: map[string]any{"op": "d", "before": map[string]any{}, "after": nil}}); !ok {
		t.Error("schemaless envelope not recognised")
	}
}

func TestConversions(t *testing.T) {
	if got := bitString([]byte{0b10110}, 5); got != "10110" {
		t.Errorf("bitString: %s", got)
	}
	if got := bitString([]byte{0x01, 0x80}, -1); got != "1000000000000001" {
		t.Errorf("bitString: %s", got)
	}
	iv, err := parseISODuration("P1Y2M3DT4H5M6.5S")
	if err != nil || iv.Months != 14 || iv.Days != 3 || iv.Microseconds != (4*3600+5*60)*1e6+6.5e6 {
		t.Errorf("duration: %+v %v", iv, err)
	}
	if _, err := parseISODuration("1 day"); err == nil {
		t.Error("bad duration parsed")
	}
	enc, _ := encoderFor(pgtype.Int2OID, time.UTC)
	if _, err := enc(int64(70000)); err == nil {
		t.Error("70000 fits a smallint")
	}
	if v, err := enc("12"); err != nil || v != int16(12) {
		t.Errorf("string to smallint: %v %v", v, err)
	}
	s := &Sink{}
	a := s.encodeKey([]any{pgtype.Numeric{Int: big.NewInt(150), Exp: -2, Valid: true}}, []int{0})
	if s.encodeKey([]any{int64(7)}, []int{0}) != any(int64(7)) {
		t.Error("single int64 key is not itself")
	}
	b := s.encodeKey([]any{pgtype.Numeric{Int: big.NewInt(15), Exp: -1, Valid: true}}, []int{0})
	if a != b {
		t.Errorf("1.50 and 1.5 are different keys: %q %q", a, b)
	}
	if s.encodeKey([]any{"a\x00b", "c"}, []int{0, 1}) == s.encodeKey([]any{"a", "\x00bc"}, []int{0, 1}) {
		t.Error("key encoding is ambiguous")
	}
}

func TestConnectorTaskConfigs(t *testing.T) {
	c := NewFlavorConnector(FlavorConfluent)
	if _, ok := c.Config().Key(KeyPKMode); !ok {
		t.Error("Confluent connector's Config lacks pk.mode")
	}
	props := map[string]string{KeyConnectionURL: "jdbc:postgresql://h/d", connectors.KeyConnectorClass: ConfluentClass}
	if err := c.Start(context.Background(), connectors.ConnectorContext{}, props); err != nil {
		t.Fatal(err)
	}
	tcs, err := c.TaskConfigs(3)
	if err != nil || len(tcs) != 3 || tcs[2][KeyConnectionURL] != props[KeyConnectionURL] {
		t.Errorf("TaskConfigs: %v %v", tcs, err)
	}
	vals := NewConnector().(connectors.ConfigValidator).ValidateConfig(context.Background(), map[string]string{
		connectors.KeyConnectorClass: DebeziumClass, KeyConnectionURL: "jdbc:postgresql://h/d", KeyDeleteEnabled: "true"})
	found := false
	for _, v := range vals {
		if v.Name == KeyDeleteEnabled && len(v.Errors) > 0 {
			found = true
		}
	}
	if !found {
		t.Errorf("ValidateConfig does not report delete.enabled: %+v", vals)
	}
}

func TestFlavorFor(t *testing.T) {
	for _, c := range []struct {
		own   Flavor
		class string
		want  Flavor
	}{
		{0, DebeziumClass, FlavorDebezium},
		{0, ConfluentClass, FlavorConfluent},
		{0, Alias, FlavorSluice},
		{0, "", FlavorSluice},
		{FlavorDebezium, Alias, FlavorSluice},
		{FlavorConfluent, "JdbcSinkConnector", FlavorConfluent},
		{FlavorDebezium, ConfluentClass, FlavorConfluent},
	} {
		if got := flavorFor(c.own, c.class); got != c.want {
			t.Errorf("flavorFor(%v, %q) = %v, want %v", c.own, c.class, got, c.want)
		}
	}
}

func TestSmallDecimalEncoding(t *testing.T) {
	m := pgtype.NewMap()
	for _, c := range []struct {
		u     int64
		scale int32
	}{{0, 0}, {0, 3}, {1, 0}, {-1, 0}, {12345, 2}, {-12345, 2}, {1, 4}, {1, 5}, {10000, 0}, {100000000, 4},
		{999_999_999_999_999, 7}, {-999_999_999_999_999, 0}, {5, 1000}, {123, 13}, {700, -2}} {
		d, ok := asSmallDecimal(big.NewInt(c.u), c.scale)
		if !ok {
			t.Fatalf("%d e-%d does not fit", c.u, c.scale)
		}
		var got pgtype.Numeric
		if err := m.Scan(pgtype.NumericOID, pgtype.BinaryFormatCode, d.appendBinary(nil), &got); err != nil {
			t.Fatalf("%d e-%d: %v", c.u, c.scale, err)
		}
		want := new(big.Rat).SetFrac(big.NewInt(c.u), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(max(c.scale, 0))), nil))
		if c.scale < 0 {
			want.Mul(want, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-c.scale)), nil)))
		}
		gotRat := new(big.Rat).SetInt(got.Int)
		if got.Exp < 0 {
			gotRat.Quo(gotRat, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-got.Exp)), nil)))
		} else {
			gotRat.Mul(gotRat, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(got.Exp)), nil)))
		}
		if gotRat.Cmp(want) != 0 {
			t.Errorf("%d e-%d decoded as %s, want %s", c.u, c.scale, gotRat.FloatString(10), want.FloatString(10))
		}
		// The same bytes as pgx's general encoder, trailing zeros aside.
		ref, err := m.Encode(pgtype.NumericOID, pgtype.BinaryFormatCode, pgtype.Numeric{Int: big.NewInt(c.u), Exp: -c.scale, Valid: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var refN pgtype.Numeric
		_ = m.Scan(pgtype.NumericOID, pgtype.BinaryFormatCode, ref, &refN)
		if refN.Int.Cmp(got.Int) != 0 && gotRat.Cmp(want) != 0 {
			t.Errorf("%d e-%d: differs from pgx", c.u, c.scale)
		}
	}
	if _, ok := asSmallDecimal(big.NewInt(smallDecimalLimit), 0); ok {
		t.Error("10^15 taken as small")
	}
}

// TestJDBCURLDERKey: pgJDBC's sslkey is a PKCS-8 DER file by default,
// which pgx cannot read; the sink loads it and presents the certificate.
func TestJDBCURLDERKey(t *testing.T) {
	dir := t.TempDir()
	cert, key := pgtest.NewAuthority(t, "test CA").Issue(t, "postgres", true)
	certPath, keyPath := filepath.Join(dir, "postgresql.crt"), filepath.Join(dir, "postgresql.pk8")
	pgtest.WriteFile(t, certPath, pgtest.CertPEM(cert))
	pgtest.WriteFile(t, keyPath, pgtest.KeyDER(t, key))
	cfg := DefaultConfig(FlavorDebezium)
	cfg.ConnectionURL = "jdbc:postgresql://db.example/d?user=postgres&sslmode=require&sslcert=" + certPath + "&sslkey=" + keyPath
	cc, err := cfg.pgxConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cc.TLSConfig == nil || len(cc.TLSConfig.Certificates) != 1 {
		t.Errorf("TLS config %+v: no client certificate", cc.TLSConfig)
	}
	cfg.ConnectionURL += "&sslpassword=x"
	if _, err := cfg.pgxConfig(); err == nil || !strings.Contains(err.Error(), "openssl pkcs8") {
		t.Errorf("an encrypted DER key: %v", err)
	}
}
