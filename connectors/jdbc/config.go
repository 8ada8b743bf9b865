package jdbc

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

// Class names and the Sluice alias. The plugin registry maps each of them
// to NewConnector; the class decides the flavour of configuration keys
// and defaults (see Flavor).
const (
	// DebeziumClass is Debezium's JDBC sink.
	DebeziumClass = "io.debezium.connector.jdbc.JdbcSinkConnector"
	// ConfluentClass is Confluent's JDBC sink.
	ConfluentClass = "io.confluent.connect.jdbc.JdbcSinkConnector"
	// Alias is Sluice's own name: Debezium's keys and defaults, and
	// Confluent's spellings accepted as well.
	Alias = "jdbc-sink"
)

// Flavor is the dialect of configuration a connector instance speaks:
// which key names it defines and what their defaults are. The write path
// is the same for all three.
type Flavor int8

// The flavours. The zero value is not a flavour.
const (
	// FlavorSluice (connector.class=jdbc-sink) defines Debezium's keys
	// with Debezium's defaults plus Confluent's differing spellings
	// (connection.user, pk.mode, pk.fields, auto.create, auto.evolve,
	// quote.sql.identifiers, fields.whitelist, max.retries,
	// retry.backoff.ms, db.timezone, connection.attempts,
	// connection.backoff.ms). Giving both spellings of one setting with
	// different values is an error.
	FlavorSluice Flavor = iota + 1
	// FlavorDebezium is io.debezium.connector.jdbc.JdbcSinkConnector.
	FlavorDebezium
	// FlavorConfluent is io.confluent.connect.jdbc.JdbcSinkConnector.
	FlavorConfluent
)

// String returns "sluice", "debezium" or "confluent".
func (f Flavor) String() string {
	switch f {
	case FlavorSluice:
		return "sluice"
	case FlavorDebezium:
		return "debezium"
	case FlavorConfluent:
		return "confluent"
	}
	return "unknown"
}

// FlavorOf returns the flavour for a connector.class value: Debezium's
// and Confluent's class names select theirs, anything else (the alias,
// or an empty class) is FlavorSluice. (A connector made for one flavour
// keeps it for classes other than the three names, e.g. a simple-name
// alias.)
func FlavorOf(class string) Flavor {
	switch strings.TrimSpace(class) {
	case DebeziumClass:
		return FlavorDebezium
	case ConfluentClass:
		return FlavorConfluent
	}
	return FlavorSluice
}

// Configuration keys. Where Debezium and Confluent spell a setting
// differently both keys are listed; each flavour defines its own (see
// ConfigDef).
const (
	KeyConnectionURL       = "connection.url"
	KeyConnectionUsername  = "connection.username" // Debezium
	KeyConnectionUser      = "connection.user"     // Confluent
	KeyConnectionPassword  = "connection.password"
	KeyConnectionAttempts  = "connection.attempts"   // Confluent
	KeyConnectionBackoffMs = "connection.backoff.ms" // Confluent

	KeyInsertMode      = "insert.mode"
	KeyDeleteEnabled   = "delete.enabled"
	KeyTruncateEnabled = "truncate.enabled" // Debezium
	KeyBatchSize       = "batch.size"

	KeyTableNameFormat      = "table.name.format"
	KeyCollectionNameFormat = "collection.name.format" // Debezium 3.x name of table.name.format
	KeyTableNamingStrategy  = "table.naming.strategy"  // Debezium
	KeyColumnNamingStrategy = "column.naming.strategy" // Debezium
	KeyPrimaryKeyMode       = "primary.key.mode"       // Debezium
	KeyPrimaryKeyFields     = "primary.key.fields"     // Debezium
	KeyPKMode               = "pk.mode"                // Confluent
	KeyPKFields             = "pk.fields"              // Confluent
	KeyFieldIncludeList     = "field.include.list"     // Debezium
	KeyFieldExcludeList     = "field.exclude.list"     // Debezium
	KeyFieldsWhitelist      = "fields.whitelist"       // Confluent

	KeySchemaEvolution     = "schema.evolution"      // Debezium: none | basic
	KeyAutoCreate          = "auto.create"           // Confluent
	KeyAutoEvolve          = "auto.evolve"           // Confluent
	KeyQuoteIdentifiers    = "quote.identifiers"     // Debezium: boolean
	KeyQuoteSQLIdentifiers = "quote.sql.identifiers" // Confluent: always | never

	KeyFlushMaxRetries   = "flush.max.retries"    // Debezium
	KeyFlushRetryDelayMs = "flush.retry.delay.ms" // Debezium
	KeyMaxRetries        = "max.retries"          // Confluent
	KeyRetryBackoffMs    = "retry.backoff.ms"     // Confluent

	KeyUnavailablePlaceholder = "unavailable.value.placeholder" // Sluice (the Debezium source's key)

	KeyDatabaseTimeZone = "database.time_zone" // Debezium
	KeyDBTimezone       = "db.timezone"        // Confluent
	KeyDialectName      = "dialect.name"       // Confluent
	KeyTableTypes       = "table.types"        // Confluent
)

// Default naming strategy classes of Debezium's sink; Sluice implements
// these (and the lower-case table strategy) natively.
const (
	DefaultTableNamingStrategy   = "io.debezium.connector.jdbc.naming.DefaultTableNamingStrategy"
	LowercaseTableNamingStrategy = "io.debezium.connector.jdbc.naming.LowercaseTableNamingStrategy"
	DefaultColumnNamingStrategy  = "io.debezium.connector.jdbc.naming.DefaultColumnNamingStrategy"
)

// InsertMode is insert.mode.
type InsertMode int8

// Insert modes.
const (
	// InsertModeInsert writes rows with plain INSERT: not idempotent, a
	// replayed record fails on the primary key (as in both Java sinks).
	InsertModeInsert InsertMode = iota + 1
	// InsertModeUpsert writes INSERT … ON CONFLICT (pk) DO UPDATE.
	InsertModeUpsert
	// InsertModeUpdate writes UPDATE … WHERE pk; rows that do not exist
	// are not created.
	InsertModeUpdate
)

// String returns the config value: "insert", "upsert" or "update".
func (m InsertMode) String() string {
	switch m {
	case InsertModeInsert:
		return "insert"
	case InsertModeUpsert:
		return "upsert"
	case InsertModeUpdate:
		return "update"
	}
	return "unknown"
}

// PrimaryKeyMode is primary.key.mode / pk.mode.
type PrimaryKeyMode int8

// Primary key modes.
const (
	// PKNone: no primary key; only insert.mode=insert is possible.
	PKNone PrimaryKeyMode = iota + 1
	// PKKafka: the Kafka coordinates (topic, partition, offset) in three
	// columns, by default __connect_topic, __connect_partition and
	// __connect_offset.
	PKKafka
	// PKRecordKey: fields of the record key (all of a struct key, or those
	// named in the fields list; a primitive key needs one column name).
	PKRecordKey
	// PKRecordValue: fields of the record value (all, or those named).
	PKRecordValue
)

// String returns the config value, e.g. "record_key".
func (m PrimaryKeyMode) String() string {
	switch m {
	case PKNone:
		return "none"
	case PKKafka:
		return "kafka"
	case PKRecordKey:
		return "record_key"
	case PKRecordValue:
		return "record_value"
	}
	return "unknown"
}

// DefaultUnavailablePlaceholder is Debezium's default
// unavailable.value.placeholder.
const DefaultUnavailablePlaceholder = "__debezium_unavailable_value"

// DefaultKafkaPKFields are the column names of primary.key.mode=kafka when
// no fields are given, as in both Java sinks.
var DefaultKafkaPKFields = []string{"__connect_topic", "__connect_partition", "__connect_offset"}

// Defaults of the two Java sinks where they differ.
const (
	DebeziumBatchSize     = 500
	ConfluentBatchSize    = 3000
	DebeziumMaxRetries    = 5
	DebeziumRetryDelay    = time.Second
	ConfluentMaxRetries   = 10
	ConfluentRetryBackoff = 3 * time.Second
)

// Config is the parsed configuration of a JDBC sink task, in one shape
// whatever the flavour it was written in. Each field names the keys it
// comes from.
type Config struct {
	// Flavor is the configuration dialect (from connector.class).
	Flavor Flavor `json:"-"`

	// ConnectionURL is the JDBC URL, jdbc:postgresql://host[:port][,host2[:port2]]/db[?params].
	// Keys: connection.url; required.
	ConnectionURL string `json:"connection.url"`
	// User is the database user; it overrides a user parameter in the URL.
	// Keys: connection.username (Debezium), connection.user (Confluent).
	User string `json:"connection.username"`
	// Password overrides a password parameter in the URL. Key:
	// connection.password.
	Password connectors.Password `json:"connection.password"`
	// ConnectionAttempts is how many times Open tries to connect, waiting
	// ConnectionBackoff in between. Keys: connection.attempts (Confluent,
	// default 3; 1 for Debezium), connection.backoff.ms (default 10000).
	ConnectionAttempts int           `json:"connection.attempts"`
	ConnectionBackoff  time.Duration `json:"connection.backoff.ms"`

	// InsertMode is how changes are written. Key: insert.mode; default
	// insert.
	InsertMode InsertMode `json:"insert.mode"`
	// PrimaryKeyMode says where primary key columns come from. Keys:
	// primary.key.mode (Debezium), pk.mode (Confluent); default none.
	PrimaryKeyMode PrimaryKeyMode `json:"primary.key.mode"`
	// PrimaryKeyFields names the primary key columns (meaning depends on
	// the mode). Keys: primary.key.fields (Debezium), pk.fields
	// (Confluent); default empty.
	PrimaryKeyFields []string `json:"primary.key.fields"`
	// DeleteEnabled makes tombstones and Debezium delete events delete the
	// row by key; requires PKRecordKey. Key: delete.enabled; default false.
	DeleteEnabled bool `json:"delete.enabled"`
	// TruncateEnabled makes Debezium truncate events (op "t") truncate the
	// table. Key: truncate.enabled (Debezium); default false.
	TruncateEnabled bool `json:"truncate.enabled"`
	// TableNameFormat is the destination table, with ${topic} replaced by
	// the record's topic (Debezium replaces the topic's dots with
	// underscores first) and ${source.db}, ${source.schema},
	// ${source.table} by the Debezium envelope's source block. A dotted
	// result is schema.table. Keys: table.name.format,
	// collection.name.format (Debezium 3.x); default ${topic}.
	TableNameFormat string `json:"table.name.format"`
	// LowercaseTables lower-cases table names (Debezium's
	// LowercaseTableNamingStrategy). Key: table.naming.strategy.
	LowercaseTables bool `json:"-"`
	// ReplaceTopicDots replaces '.' by '_' in ${topic}: true for Debezium
	// and Sluice, false for Confluent (whose dotted names are
	// schema-qualified).
	ReplaceTopicDots bool `json:"-"`
	// AutoCreate creates missing tables. Keys: auto.create (Confluent),
	// schema.evolution=basic (Debezium); default false.
	AutoCreate bool `json:"auto.create"`
	// AutoEvolve adds missing columns (nullable, never dropped or
	// changed). Keys: auto.evolve (Confluent), schema.evolution=basic
	// (Debezium); default false.
	AutoEvolve bool `json:"auto.evolve"`
	// QuoteIdentifiers keeps identifiers exactly as named (quoted); when
	// false they are folded to lower case as PostgreSQL does with unquoted
	// names. Keys: quote.identifiers (Debezium, default false),
	// quote.sql.identifiers (Confluent, always|never, default always).
	QuoteIdentifiers bool `json:"quote.identifiers"`
	// BatchSize is the most records written in one transaction. Key:
	// batch.size; default 500 (Debezium) or 3000 (Confluent).
	BatchSize int `json:"batch.size"`
	// FieldInclude and FieldExclude filter value fields: anchored regular
	// expressions over "topic:field" or "field" (Debezium
	// field.include.list / field.exclude.list), or exact names (Confluent
	// fields.whitelist, which becomes anchored quoted patterns). Primary
	// key columns are never filtered out.
	FieldInclude []string `json:"field.include.list"`
	FieldExclude []string `json:"field.exclude.list"`
	// MaxRetries and RetryBackoff govern transient database errors: the
	// batch is retried that many times, reconnecting, before the task
	// fails. Keys: flush.max.retries / flush.retry.delay.ms (Debezium, 5 /
	// 1000), max.retries / retry.backoff.ms (Confluent, 10 / 3000).
	MaxRetries   int           `json:"max.retries"`
	RetryBackoff time.Duration `json:"retry.backoff.ms"`
	// TimeZone is the zone in which instants (Connect Timestamp) are
	// written to timestamp-without-time-zone columns. Keys:
	// database.time_zone (Debezium), db.timezone (Confluent); default UTC.
	TimeZone string `json:"database.time_zone"`
	// AllowViews lets the sink write to views. Key: table.types
	// (Confluent) listing VIEW; default false.
	AllowViews bool `json:"table.types"`
	// UnavailablePlaceholder is Debezium's stand-in for an unchanged
	// TOASTed value: in upsert and update modes a text or bytea column
	// receiving it keeps its current value. Key:
	// unavailable.value.placeholder (Sluice; the Debezium source
	// connector's key); default __debezium_unavailable_value; empty turns
	// this off.
	UnavailablePlaceholder string `json:"unavailable.value.placeholder"`
	// ApplyDefaults writes a field's schema default when its value is null,
	// as Kafka's Struct.get does (Confluent); Debezium writes the null.
	ApplyDefaults bool `json:"-"`
}

// DefaultConfig returns the defaults of flavour f (ConnectionURL unset).
func DefaultConfig(f Flavor) Config {
	c := Config{
		Flavor:             f,
		ConnectionAttempts: 1,
		ConnectionBackoff:  10 * time.Second,
		InsertMode:         InsertModeInsert,
		PrimaryKeyMode:     PKNone,
		TableNameFormat:    "${topic}",
		ReplaceTopicDots:   true,
		BatchSize:          DebeziumBatchSize,
		MaxRetries:         DebeziumMaxRetries,
		RetryBackoff:       DebeziumRetryDelay,
		TimeZone:           "UTC",

		UnavailablePlaceholder: DefaultUnavailablePlaceholder,
	}
	if f == FlavorConfluent {
		c.ConnectionAttempts = 3
		c.ReplaceTopicDots = false
		c.QuoteIdentifiers = true
		c.BatchSize = ConfluentBatchSize
		c.MaxRetries = ConfluentMaxRetries
		c.RetryBackoff = ConfluentRetryBackoff
		c.ApplyDefaults = true
	}
	return c
}

const (
	groupConnection = "Connection"
	groupWrites     = "Writes"
	groupMapping    = "Data Mapping"
	groupDDL        = "DDL Support"
	groupRetries    = "Retries"
)

// ConfigDef returns the connector's own keys for flavour f, with that
// flavour's names, defaults and documentation.
func ConfigDef(f Flavor) *connectors.ConfigDef {
	d := connectors.NewConfigDef()
	def := func(k connectors.ConfigKey) { d.Define(k) }
	confluent := f == FlavorConfluent
	sluice := f == FlavorSluice
	batch, retries, delay := DebeziumBatchSize, DebeziumMaxRetries, DebeziumRetryDelay
	if confluent {
		batch, retries, delay = ConfluentBatchSize, ConfluentMaxRetries, ConfluentRetryBackoff
	}
	// For the Sluice flavour the Confluent spellings have no default, so
	// that only an explicit value counts.
	alt := func(v any) any {
		if sluice {
			return nil
		}
		return v
	}
	order := 0
	next := func() int { order++; return order }

	def(connectors.ConfigKey{Name: KeyConnectionURL, Type: connectors.ConfigString, Required: true,
		Validator: connectors.NonEmptyString(), Importance: connectors.ImportanceHigh, Group: groupConnection, Order: next(),
		Width: connectors.WidthLong, DisplayName: "JDBC URL",
		Doc: "JDBC connection URL of the PostgreSQL database: jdbc:postgresql://host[:port][,host2[:port2]…]/database[?param=value&…]. " +
			"Parameters user, password, sslmode, ssl, sslrootcert, sslcert, sslkey (PEM, or PKCS-8 DER as pgJDBC takes it), sslpassword, currentSchema, ApplicationName, connectTimeout, " +
			"options and targetServerType are honoured."})
	if !confluent {
		def(connectors.ConfigKey{Name: KeyConnectionUsername, Type: connectors.ConfigString, Importance: connectors.ImportanceHigh,
			Group: groupConnection, Order: next(), DisplayName: "User",
			Doc: "Name of the database user to connect as (overrides a user parameter in the URL)."})
	}
	if confluent || sluice {
		def(connectors.ConfigKey{Name: KeyConnectionUser, Type: connectors.ConfigString, Importance: connectors.ImportanceHigh,
			Group: groupConnection, Order: next(), DisplayName: "JDBC User",
			Doc: "JDBC connection user (Confluent's name for connection.username)."})
	}
	def(connectors.ConfigKey{Name: KeyConnectionPassword, Type: connectors.ConfigPassword, Importance: connectors.ImportanceHigh,
		Group: groupConnection, Order: next(), DisplayName: "Password",
		Doc: "Password of the database user (overrides a password parameter in the URL)."})
	if confluent || sluice {
		def(connectors.ConfigKey{Name: KeyConnectionAttempts, Type: connectors.ConfigInt, Default: alt(int32(3)),
			Validator: atLeastOrNull(1), Importance: connectors.ImportanceLow, Group: groupConnection, Order: next(),
			Doc: "Maximum number of attempts to connect when the task opens."})
		def(connectors.ConfigKey{Name: KeyConnectionBackoffMs, Type: connectors.ConfigLong, Default: alt(int64(10000)),
			Validator: atLeastOrNull(0), Importance: connectors.ImportanceLow, Group: groupConnection, Order: next(),
			Doc: "Backoff time in milliseconds between connection attempts."})
		def(connectors.ConfigKey{Name: KeyDialectName, Type: connectors.ConfigString, Default: "",
			Validator: dialectValidator{}, Importance: connectors.ImportanceLow, Group: groupConnection, Order: next(),
			Doc: "The database dialect; empty picks it from the URL. Only PostgreSqlDatabaseDialect is supported."})
	}

	def(connectors.ConfigKey{Name: KeyInsertMode, Type: connectors.ConfigString, Default: "insert",
		Validator: connectors.OneOfIgnoreCase("insert", "upsert", "update"), Importance: connectors.ImportanceHigh,
		Group: groupWrites, Order: next(),
		Doc: "The insertion mode: insert (plain INSERT), upsert (INSERT … ON CONFLICT DO UPDATE on the primary key; idempotent), " +
			"update (UPDATE by primary key)."})
	def(connectors.ConfigKey{Name: KeyBatchSize, Type: connectors.ConfigInt, Default: int32(batch),
		Validator: connectors.AtLeast(1), Importance: connectors.ImportanceMedium, Group: groupWrites, Order: next(),
		Doc: "The most records written in one transaction. A transaction never spans two Puts: " +
			"raise consumer.override.max.poll.records too for larger batches."})
	def(connectors.ConfigKey{Name: KeyDeleteEnabled, Type: connectors.ConfigBoolean, Default: false,
		Importance: connectors.ImportanceMedium, Group: groupWrites, Order: next(),
		Doc: "Whether tombstones (null values) and Debezium delete events delete the row by key. " +
			"Requires the primary key mode to be record_key."})
	def(connectors.ConfigKey{Name: KeyUnavailablePlaceholder, Type: connectors.ConfigString, Default: DefaultUnavailablePlaceholder,
		Importance: connectors.ImportanceLow, Group: groupWrites, Order: next(),
		Doc: "(Sluice) Debezium's placeholder for an unchanged TOASTed value (the source connector's setting of the same name): " +
			"in upsert and update modes a text or bytea column receiving it keeps its current value instead. Empty turns this off."})
	if !confluent {
		def(connectors.ConfigKey{Name: KeyTruncateEnabled, Type: connectors.ConfigBoolean, Default: false,
			Importance: connectors.ImportanceLow, Group: groupWrites, Order: next(),
			Doc: "Whether Debezium truncate events (op t) truncate the destination table."})
	}

	def(connectors.ConfigKey{Name: KeyTableNameFormat, Type: connectors.ConfigString, Default: "${topic}",
		Validator: connectors.NonEmptyString(), Importance: connectors.ImportanceMedium, Group: groupMapping, Order: next(),
		Doc: tableFormatDoc(f)})
	if !confluent {
		def(connectors.ConfigKey{Name: KeyCollectionNameFormat, Type: connectors.ConfigString,
			Importance: connectors.ImportanceLow, Group: groupMapping, Order: next(),
			Doc: "Debezium 3.x name of table.name.format; when set it wins."})
		def(connectors.ConfigKey{Name: KeyTableNamingStrategy, Type: connectors.ConfigClass, Default: DefaultTableNamingStrategy,
			Validator: connectors.OneOf(DefaultTableNamingStrategy, LowercaseTableNamingStrategy,
				"io.debezium.sink.naming.DefaultCollectionNamingStrategy"),
			Importance: connectors.ImportanceLow, Group: groupMapping, Order: next(),
			Doc: "How a table name is derived from table.name.format: the default strategy replaces the topic's dots " +
				"with underscores; the lower-case one also lower-cases the name."})
		def(connectors.ConfigKey{Name: KeyColumnNamingStrategy, Type: connectors.ConfigClass, Default: DefaultColumnNamingStrategy,
			Validator: connectors.OneOf(DefaultColumnNamingStrategy), Importance: connectors.ImportanceLow,
			Group: groupMapping, Order: next(),
			Doc: "How a column name is derived from a field name: the default strategy uses the field name."})
		def(connectors.ConfigKey{Name: KeyPrimaryKeyMode, Type: connectors.ConfigString, Default: "none",
			Validator:  connectors.OneOfIgnoreCase("none", "kafka", "record_key", "record_value"),
			Importance: connectors.ImportanceHigh, Group: groupMapping, Order: next(),
			Doc: "Where the primary key comes from: none, kafka (topic, partition and offset columns), " +
				"record_key (fields of the key) or record_value (fields of the value)."})
		def(connectors.ConfigKey{Name: KeyPrimaryKeyFields, Type: connectors.ConfigList, Default: []string{},
			Importance: connectors.ImportanceMedium, Group: groupMapping, Order: next(),
			Doc: "Primary key column names; interpreted according to primary.key.mode (empty: all fields of the key or value; " +
				"the kafka mode's three column names; the column of a primitive key)."})
	}
	if confluent || sluice {
		def(connectors.ConfigKey{Name: KeyPKMode, Type: connectors.ConfigString, Default: alt("none"),
			Validator:  oneOfIgnoreCaseOrNull("none", "kafka", "record_key", "record_value"),
			Importance: connectors.ImportanceHigh, Group: groupMapping, Order: next(),
			Doc: "The primary key mode (Confluent's name for primary.key.mode): none, kafka, record_key or record_value."})
		def(connectors.ConfigKey{Name: KeyPKFields, Type: connectors.ConfigList, Default: alt([]string{}),
			Importance: connectors.ImportanceMedium, Group: groupMapping, Order: next(),
			Doc: "List of comma-separated primary key field names (Confluent's name for primary.key.fields)."})
		def(connectors.ConfigKey{Name: KeyFieldsWhitelist, Type: connectors.ConfigList, Default: alt([]string{}),
			Importance: connectors.ImportanceMedium, Group: groupMapping, Order: next(),
			Doc: "List of comma-separated record value field names to write; empty writes all. Primary key columns are kept."})
		def(connectors.ConfigKey{Name: KeyDBTimezone, Type: connectors.ConfigString, Default: alt("UTC"),
			Validator: timeZoneValidator{}, Importance: connectors.ImportanceMedium, Group: groupMapping, Order: next(),
			Doc: "Time zone in which Timestamp values are written to timestamp (without time zone) columns."})
		def(connectors.ConfigKey{Name: KeyTableTypes, Type: connectors.ConfigList, Default: []string{"TABLE"},
			Validator: connectors.ListOf("TABLE", "PARTITIONED TABLE", "VIEW"), Importance: connectors.ImportanceLow,
			Group: groupMapping, Order: next(),
			Doc: "Kinds of relations the sink may write to: TABLE, PARTITIONED TABLE, VIEW."})
	}
	if !confluent {
		def(connectors.ConfigKey{Name: KeyFieldIncludeList, Type: connectors.ConfigList, Default: []string{},
			Validator: regexList{}, Importance: connectors.ImportanceMedium, Group: groupMapping, Order: next(),
			Doc: "Regular expressions (anchored) over topic:field or field naming the value fields to write; " +
				"empty writes all. Not together with field.exclude.list."})
		def(connectors.ConfigKey{Name: KeyFieldExcludeList, Type: connectors.ConfigList, Default: []string{},
			Validator: regexList{}, Importance: connectors.ImportanceMedium, Group: groupMapping, Order: next(),
			Doc: "Regular expressions (anchored) over topic:field or field naming value fields not to write."})
		def(connectors.ConfigKey{Name: KeyDatabaseTimeZone, Type: connectors.ConfigString, Default: "UTC",
			Validator: timeZoneValidator{}, Importance: connectors.ImportanceMedium, Group: groupMapping, Order: next(),
			Doc: "Time zone in which Timestamp values are written to timestamp (without time zone) columns."})
		def(connectors.ConfigKey{Name: KeySchemaEvolution, Type: connectors.ConfigString, Default: "none",
			Validator: connectors.OneOfIgnoreCase("none", "basic"), Importance: connectors.ImportanceLow,
			Group: groupDDL, Order: next(),
			Doc: "none: tables must exist with every column; basic: missing tables are created and missing columns added " +
				"(nullable; nothing is ever dropped or changed)."})
		def(connectors.ConfigKey{Name: KeyQuoteIdentifiers, Type: connectors.ConfigBoolean, Default: false,
			Importance: connectors.ImportanceLow, Group: groupDDL, Order: next(),
			Doc: "Whether table and column names are quoted (kept exactly); when false they are folded to lower case, " +
				"as PostgreSQL does with unquoted identifiers."})
	}
	if confluent || sluice {
		def(connectors.ConfigKey{Name: KeyAutoCreate, Type: connectors.ConfigBoolean, Default: alt(false),
			Importance: connectors.ImportanceMedium, Group: groupDDL, Order: next(),
			Doc: "Whether to create the destination table from the record schema when it is missing (CREATE TABLE)."})
		def(connectors.ConfigKey{Name: KeyAutoEvolve, Type: connectors.ConfigBoolean, Default: alt(false),
			Importance: connectors.ImportanceMedium, Group: groupDDL, Order: next(),
			Doc: "Whether to add columns missing from the table relative to the record schema (ALTER TABLE … ADD COLUMN, nullable)."})
		def(connectors.ConfigKey{Name: KeyQuoteSQLIdentifiers, Type: connectors.ConfigString, Default: alt("always"),
			Validator: oneOfIgnoreCaseOrNull("always", "never"), Importance: connectors.ImportanceMedium,
			Group: groupDDL, Order: next(),
			Doc: "When to quote table and column names: always (kept exactly) or never (folded to lower case)."})
	}
	if !confluent {
		def(connectors.ConfigKey{Name: KeyFlushMaxRetries, Type: connectors.ConfigInt, Default: int32(DebeziumMaxRetries),
			Validator: connectors.AtLeast(0), Importance: connectors.ImportanceLow, Group: groupRetries, Order: next(),
			Doc: "How many times a batch is retried after a transient database error (reconnecting) before the task fails."})
		def(connectors.ConfigKey{Name: KeyFlushRetryDelayMs, Type: connectors.ConfigLong, Default: DebeziumRetryDelay.Milliseconds(),
			Validator: connectors.AtLeast(0), Importance: connectors.ImportanceLow, Group: groupRetries, Order: next(),
			Doc: "Delay in milliseconds before retrying after a transient database error."})
	}
	if confluent || sluice {
		def(connectors.ConfigKey{Name: KeyMaxRetries, Type: connectors.ConfigInt, Default: alt(int32(retries)),
			Validator: atLeastOrNull(0), Importance: connectors.ImportanceMedium, Group: groupRetries, Order: next(),
			Doc: "The maximum number of times to retry on errors before failing the task."})
		def(connectors.ConfigKey{Name: KeyRetryBackoffMs, Type: connectors.ConfigInt, Default: alt(int32(delay.Milliseconds())),
			Validator: atLeastOrNull(0), Importance: connectors.ImportanceMedium, Group: groupRetries, Order: next(),
			Doc: "The time in milliseconds to wait following an error before a retry attempt is made."})
	}
	return d
}

func tableFormatDoc(f Flavor) string {
	s := "A format string for the destination table name, which may contain ${topic} as a placeholder for the topic name"
	if f != FlavorConfluent {
		s += " (with its dots replaced by underscores: srv.public.orders → srv_public_orders)," +
			" and ${source.db}, ${source.schema}, ${source.table} for the fields of a Debezium envelope's source block"
	}
	return s + ". A name with a dot is schema.table."
}

// ParseConfig parses a connector or task config (other keys are ignored)
// in the flavour its connector.class selects, and validates it,
// reporting every problem at once.
func ParseConfig(props map[string]string) (Config, error) {
	return ParseFlavor(FlavorOf(props[connectors.KeyConnectorClass]), props)
}

// ParseFlavor is ParseConfig with the flavour given.
func ParseFlavor(f Flavor, props map[string]string) (Config, error) {
	d := ConfigDef(f)
	c, err := d.Parse(props)
	if err != nil {
		return Config{Flavor: f}, err
	}
	defined := func(k string) bool { _, ok := d.Key(k); return ok }
	cfg := DefaultConfig(f)
	var errs connectors.ConfigErrors
	// pick returns the key and value of a setting spelled keys (the
	// flavour's own spelling first): the key the user set, or else the
	// first defined key's default. Two spellings set to different values
	// are an error.
	pick := func(keys ...string) (string, any) {
		var name string
		var val any
		for _, k := range keys {
			if !defined(k) || !c.IsSet(k) {
				continue
			}
			if name == "" {
				name, val = k, c.Get(k)
			} else if v := c.Get(k); !sameValue(val, v) {
				errs = append(errs, connectors.NewConfigError(k, v,
					fmt.Sprintf("conflicts with %s=%s; set only one of them", name, connectors.FormatConfigValue(val))))
			}
		}
		if name != "" {
			return name, val
		}
		for _, k := range keys {
			if defined(k) {
				return k, c.Get(k)
			}
		}
		return "", nil
	}
	str := func(keys ...string) string { _, v := pick(keys...); s, _ := v.(string); return s }
	list := func(keys ...string) (string, []string) { k, v := pick(keys...); l, _ := v.([]string); return k, l }
	boolean := func(keys ...string) bool { _, v := pick(keys...); b, _ := v.(bool); return b }

	cfg.ConnectionURL = c.String(KeyConnectionURL)
	cfg.User = str(KeyConnectionUsername, KeyConnectionUser)
	cfg.Password = c.Password(KeyConnectionPassword)
	if _, v := pick(KeyConnectionAttempts); v != nil {
		cfg.ConnectionAttempts = int(v.(int32))
	}
	if _, v := pick(KeyConnectionBackoffMs); v != nil {
		cfg.ConnectionBackoff = time.Duration(v.(int64)) * time.Millisecond
	}

	switch strings.ToLower(c.String(KeyInsertMode)) {
	case "upsert":
		cfg.InsertMode = InsertModeUpsert
	case "update":
		cfg.InsertMode = InsertModeUpdate
	default:
		cfg.InsertMode = InsertModeInsert
	}
	pkKey, pkVal := pick(KeyPrimaryKeyMode, KeyPKMode)
	pkName, _ := pkVal.(string)
	switch strings.ToLower(pkName) {
	case "kafka":
		cfg.PrimaryKeyMode = PKKafka
	case "record_key":
		cfg.PrimaryKeyMode = PKRecordKey
	case "record_value":
		cfg.PrimaryKeyMode = PKRecordValue
	default:
		cfg.PrimaryKeyMode = PKNone
	}
	_, cfg.PrimaryKeyFields = list(KeyPrimaryKeyFields, KeyPKFields)
	cfg.DeleteEnabled = c.Bool(KeyDeleteEnabled)
	if _, ok := d.Key(KeyTruncateEnabled); ok {
		cfg.TruncateEnabled = c.Bool(KeyTruncateEnabled)
	}
	cfg.BatchSize = c.Int(KeyBatchSize)
	cfg.UnavailablePlaceholder = c.String(KeyUnavailablePlaceholder)

	cfg.TableNameFormat = c.String(KeyTableNameFormat)
	if _, ok := d.Key(KeyCollectionNameFormat); ok && c.String(KeyCollectionNameFormat) != "" {
		cfg.TableNameFormat = c.String(KeyCollectionNameFormat)
	}
	if _, ok := d.Key(KeyTableNamingStrategy); ok {
		cfg.LowercaseTables = c.String(KeyTableNamingStrategy) == LowercaseTableNamingStrategy
	}

	// Field filters: Debezium's regex lists, or Confluent's names.
	_, inc := list(KeyFieldIncludeList)
	_, exc := list(KeyFieldExcludeList)
	if _, white := list(KeyFieldsWhitelist); len(white) > 0 {
		for _, w := range white {
			inc = append(inc, regexp.QuoteMeta(w))
		}
	}
	if len(inc) > 0 && len(exc) > 0 {
		errs = append(errs, connectors.NewConfigError(KeyFieldExcludeList, exc,
			"Cannot define both field.exclude.list and field.include.list. Please specify only one."))
	}
	cfg.FieldInclude, cfg.FieldExclude = inc, exc

	if f == FlavorConfluent {
		cfg.AutoCreate = c.Bool(KeyAutoCreate)
		cfg.AutoEvolve = c.Bool(KeyAutoEvolve)
	} else {
		basic := strings.EqualFold(c.String(KeySchemaEvolution), "basic")
		cfg.AutoCreate, cfg.AutoEvolve = basic, basic
		if f == FlavorSluice {
			if c.IsSet(KeyAutoCreate) {
				cfg.AutoCreate = boolean(KeyAutoCreate)
			}
			if c.IsSet(KeyAutoEvolve) {
				cfg.AutoEvolve = boolean(KeyAutoEvolve)
			}
		}
	}
	if f != FlavorConfluent {
		cfg.QuoteIdentifiers = c.Bool(KeyQuoteIdentifiers)
	}
	if _, ok := d.Key(KeyQuoteSQLIdentifiers); ok && (f == FlavorConfluent || c.IsSet(KeyQuoteSQLIdentifiers)) {
		cfg.QuoteIdentifiers = !strings.EqualFold(c.String(KeyQuoteSQLIdentifiers), "never")
		if f == FlavorSluice && c.IsSet(KeyQuoteIdentifiers) && c.Bool(KeyQuoteIdentifiers) != cfg.QuoteIdentifiers {
			errs = append(errs, connectors.NewConfigError(KeyQuoteSQLIdentifiers, c.String(KeyQuoteSQLIdentifiers),
				fmt.Sprintf("conflicts with %s=%v; set only one of them", KeyQuoteIdentifiers, c.Bool(KeyQuoteIdentifiers))))
		}
	}

	if f == FlavorConfluent {
		cfg.MaxRetries = c.Int(KeyMaxRetries)
		cfg.RetryBackoff = time.Duration(c.Int(KeyRetryBackoffMs)) * time.Millisecond
	} else {
		cfg.MaxRetries = c.Int(KeyFlushMaxRetries)
		cfg.RetryBackoff = time.Duration(c.Long(KeyFlushRetryDelayMs)) * time.Millisecond
		if f == FlavorSluice {
			if c.IsSet(KeyMaxRetries) {
				cfg.MaxRetries = c.Int(KeyMaxRetries)
			}
			if c.IsSet(KeyRetryBackoffMs) {
				cfg.RetryBackoff = time.Duration(c.Int(KeyRetryBackoffMs)) * time.Millisecond
			}
		}
	}
	cfg.TimeZone = str(KeyDatabaseTimeZone, KeyDBTimezone)
	if defined(KeyTableTypes) {
		for _, tt := range c.List(KeyTableTypes) {
			if strings.EqualFold(tt, "VIEW") {
				cfg.AllowViews = true
			}
		}
	}

	if len(errs) > 0 {
		return cfg, errs
	}
	if err := cfg.validate(pkKey); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func sameValue(a, b any) bool {
	return strings.EqualFold(connectors.FormatConfigValue(a), connectors.FormatConfigValue(b))
}

// Validate reports every problem with c, each naming its key.
func (c Config) Validate() error { return c.validate(c.pkModeKey()) }

func (c Config) pkModeKey() string {
	if c.Flavor == FlavorConfluent {
		return KeyPKMode
	}
	return KeyPrimaryKeyMode
}

func (c Config) pkFieldsKey() string {
	if c.Flavor == FlavorConfluent {
		return KeyPKFields
	}
	return KeyPrimaryKeyFields
}

func (c Config) validate(pkKey string) error {
	if pkKey == "" {
		pkKey = c.pkModeKey()
	}
	var errs connectors.ConfigErrors
	if _, err := parseJDBCURL(c.ConnectionURL); err != nil {
		errs = append(errs, connectors.NewConfigError(KeyConnectionURL, redactURL(c.ConnectionURL), err.Error()))
	}
	if c.DeleteEnabled && c.PrimaryKeyMode != PKRecordKey {
		errs = append(errs, connectors.NewConfigError(KeyDeleteEnabled, true,
			fmt.Sprintf("Primary key mode must be 'record_key' when delete support is enabled (%s=%s)", pkKey, c.PrimaryKeyMode)))
	}
	if (c.InsertMode == InsertModeUpsert || c.InsertMode == InsertModeUpdate) && c.PrimaryKeyMode == PKNone {
		errs = append(errs, connectors.NewConfigError(KeyInsertMode, c.InsertMode.String(),
			fmt.Sprintf("insert.mode %s needs a primary key: set %s to record_key, record_value or kafka", c.InsertMode, pkKey)))
	}
	if c.PrimaryKeyMode == PKKafka && len(c.PrimaryKeyFields) != 0 && len(c.PrimaryKeyFields) != 3 {
		errs = append(errs, connectors.NewConfigError(c.pkFieldsKey(), c.PrimaryKeyFields,
			"primary key mode kafka needs exactly three field names (topic, partition, offset), or none for the defaults "+
				strings.Join(DefaultKafkaPKFields, ",")))
	}
	if c.BatchSize < 1 {
		errs = append(errs, connectors.NewConfigError(KeyBatchSize, c.BatchSize, "Value must be at least 1"))
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		errs = append(errs, connectors.NewConfigError(KeyDatabaseTimeZone, c.TimeZone, "Invalid time zone identifier"))
	}
	for _, p := range append(append([]string(nil), c.FieldInclude...), c.FieldExclude...) {
		if _, err := regexp.Compile("^(?:" + p + ")$"); err != nil {
			errs = append(errs, connectors.NewConfigError(KeyFieldIncludeList, p, "Invalid regex: "+err.Error()))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// location returns the configured time zone (UTC if unknown).
func (c Config) location() *time.Location {
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil || c.TimeZone == "" {
		return time.UTC
	}
	return loc
}

type timeZoneValidator struct{}

func (timeZoneValidator) Validate(name string, value any) error {
	s, ok := value.(string)
	if !ok {
		return nil
	}
	if _, err := time.LoadLocation(s); err != nil {
		return connectors.NewConfigError(name, value, "Invalid time zone identifier")
	}
	return nil
}

func (timeZoneValidator) String() string { return "Any valid JDK time zone" }

type dialectValidator struct{}

func (dialectValidator) Validate(name string, value any) error {
	s, _ := value.(string)
	switch s {
	case "", "PostgreSqlDatabaseDialect", "PostgreSQL", "postgresql":
		return nil
	}
	return connectors.NewConfigError(name, value, "Sluice's JDBC sink writes to PostgreSQL only: use PostgreSqlDatabaseDialect or leave it empty")
}

func (dialectValidator) String() string { return "[, PostgreSqlDatabaseDialect]" }

type regexList struct{}

func (regexList) Validate(name string, value any) error {
	l, _ := value.([]string)
	for _, p := range l {
		if _, err := regexp.Compile(p); err != nil {
			return connectors.NewConfigError(name, value, "Invalid regex: "+err.Error())
		}
	}
	return nil
}

func (regexList) String() string { return "list of regular expressions" }

func atLeastOrNull(min int) connectors.Validator {
	v := connectors.AtLeast(min)
	return connectors.ValidatorFunc{Desc: v.String(), Fn: func(name string, value any) error {
		if value == nil {
			return nil
		}
		return v.Validate(name, value)
	}}
}

func oneOfIgnoreCaseOrNull(values ...string) connectors.Validator {
	v := connectors.OneOfIgnoreCase(values...)
	return connectors.ValidatorFunc{Desc: v.String(), Fn: func(name string, value any) error {
		if value == nil {
			return nil
		}
		return v.Validate(name, value)
	}}
}
