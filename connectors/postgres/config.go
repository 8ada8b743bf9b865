package postgres

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

// Configuration keys. The names, types and defaults are Debezium's
// (PostgresConnectorConfig and CommonConnectorConfig), so that a Debezium
// Postgres connector config runs unchanged.
const (
	KeyHostname        = "database.hostname"
	KeyPort            = "database.port"
	KeyUser            = "database.user"
	KeyPassword        = "database.password"
	KeyDBName          = "database.dbname"
	KeySSLMode         = "database.sslmode"
	KeySSLRootCert     = "database.sslrootcert"
	KeySSLCert         = "database.sslcert"
	KeySSLKey          = "database.sslkey"
	KeySSLPassword     = "database.sslpassword"
	KeyConnectTimeout  = "database.connect.timeout.ms"
	KeyTopicPrefix     = "topic.prefix"
	KeyTopicDelimiter  = "topic.delimiter"
	KeyPluginName      = "plugin.name"
	KeySlotName        = "slot.name"
	KeySlotDropOnStop  = "slot.drop.on.stop"
	KeySlotMaxRetries  = "slot.max.retries"
	KeySlotRetryDelay  = "slot.retry.delay.ms"
	KeyPublication     = "publication.name"
	KeyPubAutocreate   = "publication.autocreate.mode"
	KeySchemaInclude   = "schema.include.list"
	KeySchemaExclude   = "schema.exclude.list"
	KeyTableInclude    = "table.include.list"
	KeyTableExclude    = "table.exclude.list"
	KeyColumnInclude   = "column.include.list"
	KeyColumnExclude   = "column.exclude.list"
	KeySnapshotMode    = "snapshot.mode"
	KeySnapshotFetch   = "snapshot.fetch.size"
	KeySnapshotThreads = "snapshot.max.threads"
	KeyHeartbeatMs     = "heartbeat.interval.ms"
	KeyHeartbeatQuery  = "heartbeat.action.query"
	KeyHeartbeatPrefix = "topic.heartbeat.prefix"
	KeyTombstones      = "tombstones.on.delete"
	KeyDecimalMode     = "decimal.handling.mode"
	KeyTimePrecision   = "time.precision.mode"
	KeyBinaryMode      = "binary.handling.mode"
	KeyIntervalMode    = "interval.handling.mode"
	KeyHStoreMode      = "hstore.handling.mode"
	KeySchemaNameAdj   = "schema.name.adjustment.mode"
	KeyFieldNameAdj    = "field.name.adjustment.mode"
	KeyMaxBatchSize    = "max.batch.size"
	KeyMaxQueueSize    = "max.queue.size"
	KeyPollIntervalMs  = "poll.interval.ms"
	KeyStatusInterval  = "status.update.interval.ms"
	KeySkippedOps      = "skipped.operations"
	KeyToastPlacehold  = "unavailable.value.placeholder"
	KeyUnknownTypes    = "include.unknown.datatypes"
	KeySignalTable     = "signal.data.collection"
	KeySignalChannels  = "signal.enabled.channels"
	KeyIncrChunkSize   = "incremental.snapshot.chunk.size"
	KeyTxMetadata      = "provide.transaction.metadata"
	KeyTxTopic         = "topic.transaction"
	KeyMsgKeyColumns   = "message.key.columns"
	KeySnapshotInclude = "snapshot.include.collection.list"
)

// Enumerated option values.
const (
	SnapshotInitial     = "initial"
	SnapshotInitialOnly = "initial_only"
	SnapshotNoData      = "no_data"
	SnapshotNever       = "never" // deprecated alias of no_data
	SnapshotAlways      = "always"
	SnapshotWhenNeeded  = "when_needed"

	AutocreateAllTables = "all_tables"
	AutocreateFiltered  = "filtered"
	AutocreateDisabled  = "disabled"

	DecimalPrecise = "precise"
	DecimalDouble  = "double"
	DecimalString  = "string"

	TimeAdaptive             = "adaptive"
	TimeAdaptiveMicroseconds = "adaptive_time_microseconds"
	TimeConnect              = "connect"

	BinaryBytes         = "bytes"
	BinaryBase64        = "base64"
	BinaryBase64URLSafe = "base64-url-safe"
	BinaryHex           = "hex"

	IntervalNumeric = "numeric"
	IntervalString  = "string"

	PluginPgoutput = "pgoutput"
)

// Config is the configuration of the Postgres CDC source connector and its
// task. Every field names the Debezium property it mirrors; defaults are
// Debezium's except where noted.
type Config struct {
	// Hostname is the Postgres server address. Debezium: database.hostname;
	// required.
	Hostname string `json:"database.hostname"`
	// Port is the server port. Debezium: database.port; default 5432.
	Port int `json:"database.port"`
	// User connects, both for queries and for replication; it needs the
	// REPLICATION attribute (or superuser), SELECT on the captured tables
	// and, to create a publication, CREATE on the database (or ownership of
	// the tables). Debezium: database.user; required.
	User string `json:"database.user"`
	// Password of User. Debezium: database.password; default none.
	Password string `json:"database.password"`
	// DBName is the database to capture. Debezium: database.dbname;
	// required.
	DBName string `json:"database.dbname"`
	// SSLMode is libpq's sslmode (disable, allow, prefer, require,
	// verify-ca, verify-full). Debezium: database.sslmode; default prefer.
	SSLMode string `json:"database.sslmode"`
	// SSLRootCert is a PEM file of the certificate authorities that
	// verify the server (verify-ca, verify-full); empty: the system's.
	// Debezium: database.sslrootcert.
	SSLRootCert string `json:"database.sslrootcert"`
	// SSLCert and SSLKey are the client certificate (PEM) and its private
	// key, PEM or, as pgjdbc takes it, PKCS-8 DER; SSLPassword decrypts an
	// encrypted PEM key. Debezium: database.sslcert, database.sslkey,
	// database.sslpassword; see tls.go.
	SSLCert     string `json:"database.sslcert"`
	SSLKey      string `json:"database.sslkey"`
	SSLPassword string `json:"database.sslpassword"`
	// ConnectTimeout bounds each connection attempt. Debezium:
	// database.connect.timeout.ms (pgjdbc connectTimeout); default 30 s.
	ConnectTimeout time.Duration `json:"database.connect.timeout.ms"`

	// TopicPrefix names the logical server: topics are
	// <prefix>.<schema>.<table> and the source partition is
	// {"server": prefix}. Debezium: topic.prefix; required.
	TopicPrefix string `json:"topic.prefix"`
	// TopicDelimiter joins prefix, schema and table. Debezium:
	// topic.delimiter; default ".".
	TopicDelimiter string `json:"topic.delimiter"`

	// PluginName must be pgoutput, the decoder built into Postgres 10+.
	// Debezium: plugin.name; Debezium's default is decoderbufs, Sluice's is
	// pgoutput (decoderbufs and wal2json are rejected with an explanation).
	PluginName string `json:"plugin.name"`
	// SlotName is the logical replication slot, created when missing.
	// Debezium: slot.name; default "debezium".
	SlotName string `json:"slot.name"`
	// SlotDropOnStop drops the slot when the task stops (development only:
	// the position is lost). Debezium: slot.drop.on.stop; default false.
	SlotDropOnStop bool `json:"slot.drop.on.stop"`
	// SlotMaxRetries is how many times creating or starting the slot is
	// retried when it is in use (another consumer still attached).
	// Debezium: slot.max.retries; default 6.
	SlotMaxRetries int `json:"slot.max.retries"`
	// SlotRetryDelay is the wait between those retries. Debezium:
	// slot.retry.delay.ms; default 10 s.
	SlotRetryDelay time.Duration `json:"slot.retry.delay.ms"`
	// Publication is the pgoutput publication. Debezium: publication.name;
	// default "dbz_publication".
	Publication string `json:"publication.name"`
	// PublicationAutocreate is all_tables (CREATE PUBLICATION … FOR ALL
	// TABLES when missing), filtered (FOR TABLE <captured tables>, kept in
	// step with the filters) or disabled (must exist). Debezium:
	// publication.autocreate.mode; default all_tables.
	PublicationAutocreate string `json:"publication.autocreate.mode"`

	// SchemaInclude / SchemaExclude are anchored regular expressions over
	// schema names; at most one may be set. Debezium: schema.include.list /
	// schema.exclude.list.
	SchemaInclude []string `json:"schema.include.list"`
	SchemaExclude []string `json:"schema.exclude.list"`
	// TableInclude / TableExclude are anchored regular expressions over
	// "schema.table"; at most one may be set. Debezium: table.include.list
	// / table.exclude.list.
	TableInclude []string `json:"table.include.list"`
	TableExclude []string `json:"table.exclude.list"`
	// ColumnInclude / ColumnExclude are anchored regular expressions over
	// "schema.table.column"; at most one may be set. Key columns always
	// stay in the key. Debezium: column.include.list / column.exclude.list.
	ColumnInclude []string `json:"column.include.list"`
	ColumnExclude []string `json:"column.exclude.list"`

	// SnapshotMode is initial, initial_only, no_data (never is its old
	// name), always or when_needed. Debezium: snapshot.mode; default
	// initial.
	SnapshotMode string `json:"snapshot.mode"`
	// SnapshotFetchSize is the rows read per round trip while
	// snapshotting, and the chunk granularity. Debezium:
	// snapshot.fetch.size; default 10240.
	SnapshotFetchSize int `json:"snapshot.fetch.size"`
	// SnapshotMaxThreads is how many connections read snapshot chunks in
	// parallel, all in the same exported snapshot. Debezium:
	// snapshot.max.threads; Debezium's default is 1, Sluice's 4 (records
	// still come out in each table's physical order).
	SnapshotMaxThreads int `json:"snapshot.max.threads"`
	// SnapshotInclude, when set, limits the initial snapshot to the
	// captured tables that one of these regular expressions matches
	// (anchored, case-insensitive, on "schema.table" or
	// "\"schema\".\"table\""); streaming still captures every captured
	// table. Debezium: snapshot.include.collection.list; default all
	// captured tables.
	SnapshotInclude []string `json:"snapshot.include.collection.list"`

	// HeartbeatInterval, when positive, emits a heartbeat record to
	// <topic.heartbeat.prefix>.<prefix> and writes a logical decoding
	// message (pg_logical_emit_message) at this interval, so an idle slot's
	// position advances and it stops holding WAL. Debezium:
	// heartbeat.interval.ms; default 0 (off).
	HeartbeatInterval time.Duration `json:"heartbeat.interval.ms"`
	// HeartbeatActionQuery, if set, runs at every heartbeat instead of the
	// logical decoding message. Debezium: heartbeat.action.query.
	HeartbeatActionQuery string `json:"heartbeat.action.query"`
	// HeartbeatTopicPrefix names the heartbeat topic. Debezium:
	// topic.heartbeat.prefix; default "__debezium-heartbeat".
	HeartbeatTopicPrefix string `json:"topic.heartbeat.prefix"`

	// TombstonesOnDelete follows each delete with a null-valued record of
	// the same key. Debezium: tombstones.on.delete; default true.
	TombstonesOnDelete bool `json:"tombstones.on.delete"`
	// DecimalMode is precise (Connect Decimal, or VariableScaleDecimal for
	// unconstrained numeric), double or string. Debezium:
	// decimal.handling.mode; default precise.
	DecimalMode string `json:"decimal.handling.mode"`
	// TimePrecision is adaptive, adaptive_time_microseconds or connect.
	// Debezium: time.precision.mode; default adaptive.
	TimePrecision string `json:"time.precision.mode"`
	// BinaryMode is bytes, base64, base64-url-safe or hex. Debezium:
	// binary.handling.mode; default bytes.
	BinaryMode string `json:"binary.handling.mode"`
	// IntervalMode is numeric (MicroDuration) or string (ISO 8601).
	// Debezium: interval.handling.mode; default numeric.
	IntervalMode string `json:"interval.handling.mode"`
	// HStoreMode is json (an io.debezium.data.Json string) or map (a MAP of
	// STRING to optional STRING); see hstore.go. Debezium:
	// hstore.handling.mode; default json.
	HStoreMode string `json:"hstore.handling.mode"`
	// SchemaNameAdjustment is none, avro (characters Avro names do not
	// allow become '_') or avro_unicode (they become _uXXXX), applied to
	// the key, value and envelope schema names; see adjust.go. Debezium:
	// schema.name.adjustment.mode; default none.
	SchemaNameAdjustment string `json:"schema.name.adjustment.mode"`
	// FieldNameAdjustment is the same for the key's and values' field
	// names (column names). Debezium: field.name.adjustment.mode; default
	// none.
	FieldNameAdjustment string `json:"field.name.adjustment.mode"`

	// MaxBatchSize is the most records one Poll returns. Debezium:
	// max.batch.size; default 2048.
	MaxBatchSize int `json:"max.batch.size"`
	// MaxQueueSize is how many records may wait between the database and
	// Poll; reading from the database blocks when it is full. Debezium:
	// max.queue.size; default 8192; must exceed max.batch.size.
	MaxQueueSize int `json:"max.queue.size"`
	// PollInterval is the longest a Poll waits for a first record.
	// Debezium: poll.interval.ms; default 500 ms.
	PollInterval time.Duration `json:"poll.interval.ms"`
	// StatusInterval is how often a standby status update (the confirmed
	// LSN and a keepalive) is sent on the replication connection. Debezium:
	// status.update.interval.ms; default 10 s.
	StatusInterval time.Duration `json:"status.update.interval.ms"`
	// SkippedOps lists operations not emitted: any of c, u, d, t, or none.
	// Debezium: skipped.operations; default "t" (truncates are skipped).
	SkippedOps []string `json:"skipped.operations"`
	// ToastPlaceholder replaces an unchanged TOASTed value that Postgres
	// did not send. Debezium: unavailable.value.placeholder; default
	// "__debezium_unavailable_value".
	ToastPlaceholder string `json:"unavailable.value.placeholder"`
	// IncludeUnknownTypes emits columns of types without a mapping as their
	// text bytes instead of leaving them out. Debezium:
	// include.unknown.datatypes; default false.
	IncludeUnknownTypes bool `json:"include.unknown.datatypes"`

	// SignalTable is the "schema.table" signalling table (columns id, type,
	// data) through which incremental snapshots are requested. Debezium:
	// signal.data.collection.
	SignalTable string `json:"signal.data.collection"`
	// SignalChannels must include "source" for SignalTable to be read.
	// Debezium: signal.enabled.channels; default "source".
	SignalChannels []string `json:"signal.enabled.channels"`
	// IncrementalChunkSize is the rows per incremental snapshot chunk.
	// Debezium: incremental.snapshot.chunk.size; default 1024.
	IncrementalChunkSize int `json:"incremental.snapshot.chunk.size"`

	// ProvideTransactionMetadata emits, for every transaction the stream
	// delivers, a BEGIN event and an END event (with the number of events
	// per table) to <prefix><delimiter><TransactionTopic>, and fills the
	// transaction block (id, total_order, data_collection_order) of every
	// streamed change event; see txmeta.go. Debezium:
	// provide.transaction.metadata; default false.
	ProvideTransactionMetadata bool `json:"provide.transaction.metadata"`
	// TransactionTopic is the last part of the transaction metadata
	// topic's name. Debezium: topic.transaction; default "transaction".
	TransactionTopic string `json:"topic.transaction"`

	// MessageKeyColumns overrides the key of the tables it names:
	// "<schema.table regex>:<column>,<column>;…" (columns are regular
	// expressions too, matched case-insensitively on
	// schema.table.column); tables it does not name keep their primary
	// key. See keycolumns.go. Debezium: message.key.columns; default none.
	MessageKeyColumns string `json:"message.key.columns"`

	// ColumnMappers are the column.truncate.to.<n>.chars and
	// column.mask.with.<n>.chars keys (comma-separated regular
	// expressions over schema.table.column, case-insensitive), in the
	// order they apply; see columnmap.go. Debezium: the same keys.
	ColumnMappers []ColumnMapper `json:"-"`
}

// Defaults.
const (
	DefaultPort                 = 5432
	DefaultSlotName             = "debezium"
	DefaultPublication          = "dbz_publication"
	DefaultSnapshotFetchSize    = 10240
	DefaultSnapshotMaxThreads   = 4
	DefaultMaxBatchSize         = 2048
	DefaultMaxQueueSize         = 8192
	DefaultToastPlaceholder     = "__debezium_unavailable_value"
	DefaultHeartbeatTopicPrefix = "__debezium-heartbeat"
	DefaultIncrementalChunkSize = 1024
	DefaultTransactionTopic     = "transaction"
)

// ConfigDef returns the connector's own keys (the framework keys are the
// runtime's), with Debezium's names, types and defaults. It is the single
// source for parsing, REST validation and the README table.
func ConfigDef() *connectors.ConfigDef {
	const (
		gConn = "Connection"
		gRepl = "Replication"
		gFilt = "Filters"
		gSnap = "Snapshot"
		gEvt  = "Events"
		gPerf = "Performance"
	)
	var order = map[string]int{}
	next := func(g string) int { order[g]++; return order[g] }
	d := connectors.NewConfigDef()
	def := func(k connectors.ConfigKey) {
		if k.Group != "" {
			k.Order = next(k.Group)
		}
		d.Define(k)
	}
	hi, med, lo := connectors.ImportanceHigh, connectors.ImportanceMedium, connectors.ImportanceLow
	def(connectors.ConfigKey{Name: KeyHostname, Type: connectors.ConfigString, Required: true, Validator: connectors.NonEmptyString(),
		Importance: hi, Group: gConn, Doc: "Resolvable hostname or IP address of the Postgres database server."})
	def(connectors.ConfigKey{Name: KeyPort, Type: connectors.ConfigInt, Default: DefaultPort, Validator: connectors.Between(1, 65535),
		Importance: hi, Group: gConn, Doc: "Port of the Postgres database server."})
	def(connectors.ConfigKey{Name: KeyUser, Type: connectors.ConfigString, Required: true, Validator: connectors.NonEmptyString(),
		Importance: hi, Group: gConn, Doc: "Name of the database user; it needs the REPLICATION attribute and SELECT on the captured tables."})
	def(connectors.ConfigKey{Name: KeyPassword, Type: connectors.ConfigPassword,
		Importance: hi, Group: gConn, Doc: "Password of the database user."})
	def(connectors.ConfigKey{Name: KeyDBName, Type: connectors.ConfigString, Required: true, Validator: connectors.NonEmptyString(),
		Importance: hi, Group: gConn, Doc: "The name of the database from which the connector captures changes."})
	def(connectors.ConfigKey{Name: KeySSLMode, Type: connectors.ConfigString, Default: "prefer",
		Validator:  connectors.OneOfIgnoreCase("disable", "allow", "prefer", "require", "verify-ca", "verify-full"),
		Importance: med, Group: gConn, Doc: "Whether to use an encrypted connection: disable, allow, prefer, require, verify-ca or verify-full (libpq's sslmode)."})
	def(connectors.ConfigKey{Name: KeySSLRootCert, Type: connectors.ConfigString, Default: "",
		Importance: lo, Group: gConn, Doc: "PEM file of the certificate authorities that verify the server's certificate (sslmode verify-ca or verify-full); empty: the system's roots."})
	def(connectors.ConfigKey{Name: KeySSLCert, Type: connectors.ConfigString, Default: "",
		Importance: lo, Group: gConn, Doc: "PEM file of the client certificate, for servers that authenticate clients by certificate; needs database.sslkey."})
	def(connectors.ConfigKey{Name: KeySSLKey, Type: connectors.ConfigString, Default: "",
		Importance: lo, Group: gConn, Doc: "The client certificate's private key: a PEM file, or PKCS-8 DER as pgjdbc takes it (.pk8)."})
	def(connectors.ConfigKey{Name: KeySSLPassword, Type: connectors.ConfigPassword,
		Importance: lo, Group: gConn, Doc: "Password of an encrypted PEM private key (database.sslkey)."})
	def(connectors.ConfigKey{Name: KeyConnectTimeout, Type: connectors.ConfigLong, Default: int64(30000), Validator: connectors.AtLeast(int64(1)),
		Importance: lo, Group: gConn, Doc: "Maximum time in milliseconds to wait for a connection to be established."})
	def(connectors.ConfigKey{Name: KeyTopicPrefix, Type: connectors.ConfigString, Required: true, Validator: connectors.NonEmptyString(),
		Importance: hi, Group: gConn, Doc: "Topic prefix that identifies this server: topics are <prefix>.<schema>.<table>, and the stored offsets are keyed by it."})
	def(connectors.ConfigKey{Name: KeyTopicDelimiter, Type: connectors.ConfigString, Default: ".",
		Importance: lo, Group: gConn, Doc: "Delimiter between the prefix, schema and table in topic and schema names."})

	def(connectors.ConfigKey{Name: KeyPluginName, Type: connectors.ConfigString, Default: PluginPgoutput,
		Importance: med, Group: gRepl, Doc: "Logical decoding plugin. Only 'pgoutput' (built into Postgres 10+) is supported; Debezium's default 'decoderbufs' needs a server extension Sluice does not use."})
	def(connectors.ConfigKey{Name: KeySlotName, Type: connectors.ConfigString, Default: DefaultSlotName,
		Importance: med, Group: gRepl, Doc: "Name of the logical replication slot; created when missing. Must be unique per connector and database."})
	def(connectors.ConfigKey{Name: KeySlotDropOnStop, Type: connectors.ConfigBoolean, Default: false,
		Importance: lo, Group: gRepl, Doc: "Drop the slot when the task stops. Frees WAL but loses the position: for development only."})
	def(connectors.ConfigKey{Name: KeySlotMaxRetries, Type: connectors.ConfigInt, Default: 6, Validator: connectors.AtLeast(0),
		Importance: lo, Group: gRepl, Doc: "How many times to retry when the slot is in use by another connection."})
	def(connectors.ConfigKey{Name: KeySlotRetryDelay, Type: connectors.ConfigLong, Default: int64(10000), Validator: connectors.AtLeast(int64(0)),
		Importance: lo, Group: gRepl, Doc: "Milliseconds between those retries."})
	def(connectors.ConfigKey{Name: KeyPublication, Type: connectors.ConfigString, Default: DefaultPublication,
		Importance: med, Group: gRepl, Doc: "Name of the pgoutput publication."})
	def(connectors.ConfigKey{Name: KeyPubAutocreate, Type: connectors.ConfigString, Default: AutocreateAllTables,
		Validator:  connectors.OneOfIgnoreCase(AutocreateAllTables, AutocreateFiltered, AutocreateDisabled),
		Importance: med, Group: gRepl, Doc: "all_tables: create the publication FOR ALL TABLES when missing; filtered: create or alter it FOR TABLE <the captured tables>; disabled: it must exist."})
	def(connectors.ConfigKey{Name: KeyStatusInterval, Type: connectors.ConfigInt, Default: 10000, Validator: connectors.AtLeast(100),
		Importance: lo, Group: gRepl, Doc: "Milliseconds between standby status updates (confirmed LSN and keepalive) on the replication connection."})
	def(connectors.ConfigKey{Name: KeyHeartbeatMs, Type: connectors.ConfigInt, Default: 0, Validator: connectors.AtLeast(0),
		Importance: med, Group: gRepl, Doc: "Milliseconds between heartbeats (0 = off). A heartbeat emits a record to the heartbeat topic carrying the current position, so an idle slot's confirmed LSN advances and it stops holding WAL."})
	def(connectors.ConfigKey{Name: KeyHeartbeatQuery, Type: connectors.ConfigString,
		Importance: lo, Group: gRepl, Doc: "Statement run at every heartbeat instead of pg_logical_emit_message, e.g. an INSERT into a heartbeat table."})
	def(connectors.ConfigKey{Name: KeyHeartbeatPrefix, Type: connectors.ConfigString, Default: DefaultHeartbeatTopicPrefix,
		Importance: lo, Group: gRepl, Doc: "Prefix of the heartbeat topic <prefix>.<topic.prefix>."})

	list := func(name, doc string) {
		def(connectors.ConfigKey{Name: name, Type: connectors.ConfigList, Validator: regexList{},
			Importance: med, Group: gFilt, Doc: doc})
	}
	list(KeySchemaInclude, "Comma-separated regular expressions (anchored) matching the schemas to capture.")
	list(KeySchemaExclude, "Comma-separated regular expressions (anchored) matching schemas not to capture.")
	list(KeyTableInclude, "Comma-separated regular expressions (anchored) matching 'schema.table' of the tables to capture.")
	list(KeyTableExclude, "Comma-separated regular expressions (anchored) matching 'schema.table' of tables not to capture.")
	list(KeyColumnInclude, "Comma-separated regular expressions (anchored) matching 'schema.table.column' of the columns to emit.")
	list(KeyColumnExclude, "Comma-separated regular expressions (anchored) matching 'schema.table.column' of columns not to emit.")

	def(connectors.ConfigKey{Name: KeySnapshotMode, Type: connectors.ConfigString, Default: SnapshotInitial,
		Validator:  connectors.OneOfIgnoreCase(SnapshotInitial, SnapshotInitialOnly, SnapshotNoData, SnapshotNever, SnapshotAlways, SnapshotWhenNeeded),
		Importance: med, Group: gSnap, Doc: "initial: snapshot when there is no stored offset, then stream; initial_only: snapshot, then stop; no_data (formerly never): stream only; always: snapshot at every start; when_needed: snapshot when there is no offset or the slot cannot resume from it."})
	def(connectors.ConfigKey{Name: KeySnapshotFetch, Type: connectors.ConfigInt, Default: DefaultSnapshotFetchSize, Validator: connectors.AtLeast(1),
		Importance: med, Group: gSnap, Doc: "Rows fetched per round trip while snapshotting."})
	def(connectors.ConfigKey{Name: KeySnapshotThreads, Type: connectors.ConfigInt, Default: DefaultSnapshotMaxThreads, Validator: connectors.Between(1, 64),
		Importance: lo, Group: gSnap, Doc: "Connections reading snapshot chunks in parallel, all importing the same exported snapshot. Debezium defaults to 1; records keep each table's physical order regardless."})
	def(connectors.ConfigKey{Name: KeySnapshotInclude, Type: connectors.ConfigList, Validator: regexList{},
		Importance: med, Group: gSnap, Doc: "Comma-separated regular expressions (anchored, case-insensitive) matching 'schema.table' of the captured tables the initial snapshot reads; unset: all of them. Streaming captures every captured table regardless; incremental snapshots are not affected."})
	def(connectors.ConfigKey{Name: KeySignalTable, Type: connectors.ConfigString,
		Importance: med, Group: gSnap, Doc: "Fully-qualified 'schema.table' of the signalling table (id varchar, type varchar, data varchar) used to trigger incremental snapshots."})
	def(connectors.ConfigKey{Name: KeySignalChannels, Type: connectors.ConfigList, Default: "source",
		Importance: lo, Group: gSnap, Doc: "Enabled signal channels; only 'source' (the signalling table) is implemented."})
	def(connectors.ConfigKey{Name: KeyIncrChunkSize, Type: connectors.ConfigInt, Default: DefaultIncrementalChunkSize, Validator: connectors.AtLeast(1),
		Importance: med, Group: gSnap, Doc: "Rows read per incremental snapshot chunk."})

	def(connectors.ConfigKey{Name: KeyTombstones, Type: connectors.ConfigBoolean, Default: true,
		Importance: med, Group: gEvt, Doc: "Follow each delete event with a tombstone (same key, null value)."})
	def(connectors.ConfigKey{Name: KeyDecimalMode, Type: connectors.ConfigString, Default: DecimalPrecise,
		Validator:  connectors.OneOfIgnoreCase(DecimalPrecise, DecimalDouble, DecimalString),
		Importance: med, Group: gEvt, Doc: "How numeric columns are represented: precise (Decimal; VariableScaleDecimal for unconstrained numeric), double or string."})
	def(connectors.ConfigKey{Name: KeyTimePrecision, Type: connectors.ConfigString, Default: TimeAdaptive,
		Validator:  connectors.OneOfIgnoreCase(TimeAdaptive, TimeAdaptiveMicroseconds, TimeConnect),
		Importance: med, Group: gEvt, Doc: "How time, date and timestamp columns are represented: adaptive (by column precision), adaptive_time_microseconds or connect (Kafka Connect's logical types, millisecond precision)."})
	def(connectors.ConfigKey{Name: KeyBinaryMode, Type: connectors.ConfigString, Default: BinaryBytes,
		Validator:  connectors.OneOfIgnoreCase(BinaryBytes, BinaryBase64, BinaryBase64URLSafe, BinaryHex),
		Importance: lo, Group: gEvt, Doc: "How bytea columns are represented: bytes, base64, base64-url-safe or hex."})
	def(connectors.ConfigKey{Name: KeyIntervalMode, Type: connectors.ConfigString, Default: IntervalNumeric,
		Validator:  connectors.OneOfIgnoreCase(IntervalNumeric, IntervalString),
		Importance: lo, Group: gEvt, Doc: "How interval columns are represented: numeric (MicroDuration, months of 30.4375 days) or string (ISO 8601)."})
	def(connectors.ConfigKey{Name: KeyHStoreMode, Type: connectors.ConfigString, Default: HStoreJSON,
		Validator:  connectors.OneOfIgnoreCase(HStoreJSON, HStoreMap),
		Importance: lo, Group: gEvt, Doc: "How hstore columns are represented: json (a JSON object as an io.debezium.data.Json string) or map (a map of string to optional string)."})
	def(connectors.ConfigKey{Name: KeySchemaNameAdj, Type: connectors.ConfigString, Default: AdjustNone,
		Validator:  connectors.OneOfIgnoreCase(AdjustNone, AdjustAvro, AdjustAvroUnicode),
		Importance: lo, Group: gEvt, Doc: "Make schema names valid Avro names: none, avro (invalid characters become _) or avro_unicode (they become _uXXXX)."})
	def(connectors.ConfigKey{Name: KeyFieldNameAdj, Type: connectors.ConfigString, Default: AdjustNone,
		Validator:  connectors.OneOfIgnoreCase(AdjustNone, AdjustAvro, AdjustAvroUnicode),
		Importance: lo, Group: gEvt, Doc: "Make field (column) names valid Avro names: none, avro (invalid characters become _) or avro_unicode (they become _uXXXX)."})
	def(connectors.ConfigKey{Name: KeySkippedOps, Type: connectors.ConfigList, Default: "t",
		Validator:  connectors.ListOf("c", "u", "d", "t", "none"),
		Importance: lo, Group: gEvt, Doc: "Operations not emitted: any of c (insert), u (update), d (delete), t (truncate), or none."})
	def(connectors.ConfigKey{Name: KeyToastPlacehold, Type: connectors.ConfigString, Default: DefaultToastPlaceholder,
		Importance: lo, Group: gEvt, Doc: "Value emitted for an unchanged TOASTed column whose value Postgres did not send (REPLICA IDENTITY DEFAULT)."})
	def(connectors.ConfigKey{Name: KeyUnknownTypes, Type: connectors.ConfigBoolean, Default: false,
		Importance: lo, Group: gEvt, Doc: "Emit columns of types without a mapping as bytes of their text form, instead of leaving them out."})
	def(connectors.ConfigKey{Name: KeyTxMetadata, Type: connectors.ConfigBoolean, Default: false,
		Importance: lo, Group: gEvt, Doc: "Emit a BEGIN and an END event per transaction (END with the number of events per table) to <topic.prefix>.<topic.transaction>, and fill the transaction block (id, total_order, data_collection_order) of every streamed change event."})
	def(connectors.ConfigKey{Name: KeyTxTopic, Type: connectors.ConfigString, Default: DefaultTransactionTopic,
		Importance: lo, Group: gEvt, Doc: "Name of the transaction metadata topic after <topic.prefix> and topic.delimiter."})
	def(connectors.ConfigKey{Name: KeyMsgKeyColumns, Type: connectors.ConfigString, Validator: keyColumnsValidator{},
		Importance: med, Group: gEvt, Doc: "Semicolon-separated '<schema.table regex>:<column>,<column>' entries: the key of matching tables' events is made of these columns (regular expressions, case-insensitive) instead of the primary key, also for tables without one. Other tables keep their primary key. Columns outside the replica identity need REPLICA IDENTITY FULL to be in delete events' keys."})

	def(connectors.ConfigKey{Name: KeyMaxBatchSize, Type: connectors.ConfigInt, Default: DefaultMaxBatchSize, Validator: connectors.AtLeast(1),
		Importance: med, Group: gPerf, Doc: "Maximum number of records returned by one poll."})
	def(connectors.ConfigKey{Name: KeyMaxQueueSize, Type: connectors.ConfigInt, Default: DefaultMaxQueueSize, Validator: connectors.AtLeast(1),
		Importance: med, Group: gPerf, Doc: "Maximum number of records buffered between the database and poll; reading blocks when full. Must be larger than max.batch.size."})
	def(connectors.ConfigKey{Name: KeyPollIntervalMs, Type: connectors.ConfigLong, Default: int64(500), Validator: connectors.AtLeast(int64(1)),
		Importance: lo, Group: gPerf, Doc: "Milliseconds a poll waits for new records before returning an empty batch."})
	return d
}

// regexList validates that every entry of a LIST compiles as a regular
// expression.
type regexList struct{}

func (regexList) Validate(name string, v any) error {
	l, _ := v.([]string)
	for _, s := range l {
		if _, err := regexp.Compile("^(?:" + s + ")$"); err != nil {
			return connectors.NewConfigError(name, strings.Join(l, ","), fmt.Sprintf("%q is not a valid regular expression: %v", s, err))
		}
	}
	return nil
}

func (regexList) String() string { return "comma-separated regular expressions" }

// ParseConfig parses and validates props (a connector or task config;
// other keys are ignored), reporting every problem at once, each naming
// its key.
func ParseConfig(props map[string]string) (Config, error) {
	unsupported := unsupportedErrors(props)
	c, err := ConfigDef().Parse(props)
	if err != nil {
		var ce connectors.ConfigErrors
		if len(unsupported) > 0 && errors.As(err, &ce) {
			return Config{}, append(ce, unsupported...)
		}
		return Config{}, err
	}
	ms := func(k string) time.Duration { return time.Duration(c.Long(k)) * time.Millisecond }
	msInt := func(k string) time.Duration { return time.Duration(c.Int(k)) * time.Millisecond }
	cfg := Config{
		Hostname:              c.String(KeyHostname),
		Port:                  c.Int(KeyPort),
		User:                  c.String(KeyUser),
		Password:              c.Password(KeyPassword).Value(),
		DBName:                c.String(KeyDBName),
		SSLMode:               strings.ToLower(c.String(KeySSLMode)),
		SSLRootCert:           c.String(KeySSLRootCert),
		SSLCert:               c.String(KeySSLCert),
		SSLKey:                c.String(KeySSLKey),
		SSLPassword:           c.Password(KeySSLPassword).Value(),
		ConnectTimeout:        ms(KeyConnectTimeout),
		TopicPrefix:           c.String(KeyTopicPrefix),
		TopicDelimiter:        c.String(KeyTopicDelimiter),
		PluginName:            strings.ToLower(c.String(KeyPluginName)),
		SlotName:              c.String(KeySlotName),
		SlotDropOnStop:        c.Bool(KeySlotDropOnStop),
		SlotMaxRetries:        c.Int(KeySlotMaxRetries),
		SlotRetryDelay:        ms(KeySlotRetryDelay),
		Publication:           c.String(KeyPublication),
		PublicationAutocreate: strings.ToLower(c.String(KeyPubAutocreate)),
		SchemaInclude:         c.List(KeySchemaInclude),
		SchemaExclude:         c.List(KeySchemaExclude),
		TableInclude:          c.List(KeyTableInclude),
		TableExclude:          c.List(KeyTableExclude),
		ColumnInclude:         c.List(KeyColumnInclude),
		ColumnExclude:         c.List(KeyColumnExclude),
		SnapshotMode:          strings.ToLower(c.String(KeySnapshotMode)),
		SnapshotFetchSize:     c.Int(KeySnapshotFetch),
		SnapshotMaxThreads:    c.Int(KeySnapshotThreads),
		SnapshotInclude:       c.List(KeySnapshotInclude),
		HeartbeatInterval:     msInt(KeyHeartbeatMs),
		HeartbeatActionQuery:  c.String(KeyHeartbeatQuery),
		HeartbeatTopicPrefix:  c.String(KeyHeartbeatPrefix),
		TombstonesOnDelete:    c.Bool(KeyTombstones),
		DecimalMode:           strings.ToLower(c.String(KeyDecimalMode)),
		TimePrecision:         strings.ToLower(c.String(KeyTimePrecision)),
		BinaryMode:            strings.ToLower(c.String(KeyBinaryMode)),
		IntervalMode:          strings.ToLower(c.String(KeyIntervalMode)),
		HStoreMode:            strings.ToLower(c.String(KeyHStoreMode)),
		SchemaNameAdjustment:  strings.ToLower(c.String(KeySchemaNameAdj)),
		FieldNameAdjustment:   strings.ToLower(c.String(KeyFieldNameAdj)),
		MaxBatchSize:          c.Int(KeyMaxBatchSize),
		MaxQueueSize:          c.Int(KeyMaxQueueSize),
		PollInterval:          ms(KeyPollIntervalMs),
		StatusInterval:        msInt(KeyStatusInterval),
		SkippedOps:            c.List(KeySkippedOps),
		ToastPlaceholder:      c.String(KeyToastPlacehold),
		IncludeUnknownTypes:   c.Bool(KeyUnknownTypes),
		SignalTable:           c.String(KeySignalTable),
		SignalChannels:        c.List(KeySignalChannels),
		IncrementalChunkSize:  c.Int(KeyIncrChunkSize),

		ProvideTransactionMetadata: c.Bool(KeyTxMetadata),
		TransactionTopic:           c.String(KeyTxTopic),
		MessageKeyColumns:          c.String(KeyMsgKeyColumns),
	}
	cfg.ColumnMappers, unsupported = appendColumnMappers(props, unsupported)
	if cfg.SnapshotMode == SnapshotNever {
		cfg.SnapshotMode = SnapshotNoData
	}
	errs := unsupported
	if err := cfg.Validate(); err != nil {
		var ce connectors.ConfigErrors
		if e, ok := err.(connectors.ConfigErrors); ok {
			ce = e
		}
		errs = append(errs, ce...)
	}
	if len(errs) > 0 {
		return cfg, errs
	}
	return cfg, nil
}

// appendColumnMappers parses the column mapper keys of props, appending
// their errors to errs.
func appendColumnMappers(props map[string]string, errs connectors.ConfigErrors) ([]ColumnMapper, connectors.ConfigErrors) {
	cms, bad := parseColumnMappers(props)
	return cms, append(errs, bad...)
}

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate reports every problem with c that its keys can show on their
// own and across keys, each naming its key. It does not contact the
// database (the connector's ValidateConfig does).
func (c Config) Validate() error {
	var errs connectors.ConfigErrors
	bad := func(key string, v any, reason string) {
		errs = append(errs, connectors.NewConfigError(key, v, reason))
	}
	if c.Hostname == "" {
		bad(KeyHostname, c.Hostname, "String must be non-empty")
	}
	if c.User == "" {
		bad(KeyUser, c.User, "String must be non-empty")
	}
	if c.DBName == "" {
		bad(KeyDBName, c.DBName, "String must be non-empty")
	}
	if c.SSLCert != "" && c.SSLKey == "" {
		bad(KeySSLKey, c.SSLKey, "database.sslcert needs its private key: set database.sslkey")
	}
	if c.SSLKey != "" && c.SSLCert == "" {
		bad(KeySSLCert, c.SSLCert, "database.sslkey needs its certificate: set database.sslcert")
	}
	if c.TopicPrefix == "" {
		bad(KeyTopicPrefix, c.TopicPrefix, "String must be non-empty")
	} else if !validTopicChars(c.TopicPrefix) {
		bad(KeyTopicPrefix, c.TopicPrefix, "only ASCII letters, digits, '.', '_' and '-' may be used in topic names")
	}
	switch c.PluginName {
	case PluginPgoutput:
	case "decoderbufs", "wal2json", "wal2json_streaming", "wal2json_rds", "wal2json_rds_streaming":
		bad(KeyPluginName, c.PluginName, "Sluice decodes the built-in pgoutput plugin only; set plugin.name=pgoutput (no server extension is needed, and the events are the same)")
	default:
		bad(KeyPluginName, c.PluginName, "unknown logical decoding plugin; set plugin.name=pgoutput")
	}
	if !identRe.MatchString(c.SlotName) || len(c.SlotName) > 63 || strings.ToLower(c.SlotName) != c.SlotName {
		bad(KeySlotName, c.SlotName, "a slot name may contain only lower-case letters, digits and underscores (at most 63)")
	}
	if !identRe.MatchString(c.Publication) || len(c.Publication) > 63 {
		bad(KeyPublication, c.Publication, "a publication name must be a plain identifier (letters, digits, underscores; at most 63)")
	}
	pairs := [][2]string{{KeySchemaInclude, KeySchemaExclude}, {KeyTableInclude, KeyTableExclude}, {KeyColumnInclude, KeyColumnExclude}}
	lists := map[string][]string{KeySchemaInclude: c.SchemaInclude, KeySchemaExclude: c.SchemaExclude,
		KeyTableInclude: c.TableInclude, KeyTableExclude: c.TableExclude, KeyColumnInclude: c.ColumnInclude, KeyColumnExclude: c.ColumnExclude,
		KeySnapshotInclude: c.SnapshotInclude}
	for _, p := range pairs {
		if len(lists[p[0]]) > 0 && len(lists[p[1]]) > 0 {
			bad(p[1], strings.Join(lists[p[1]], ","), p[0]+" is also set; the include and exclude lists are mutually exclusive")
		}
	}
	for k, l := range lists {
		if err := (regexList{}).Validate(k, l); err != nil {
			errs = append(errs, err.(*connectors.ConfigError))
		}
	}
	if c.MaxQueueSize <= c.MaxBatchSize {
		bad(KeyMaxQueueSize, c.MaxQueueSize, fmt.Sprintf("must be larger than max.batch.size (%d)", c.MaxBatchSize))
	}
	if c.SignalTable != "" {
		if _, _, ok := splitQualified(c.SignalTable); !ok {
			bad(KeySignalTable, c.SignalTable, "expected 'schema.table'")
		}
	}
	for _, ch := range c.SignalChannels {
		switch ch {
		case "source", "":
		default:
			bad(KeySignalChannels, strings.Join(c.SignalChannels, ","), "only the 'source' channel (the signalling table) is supported")
		}
	}
	for _, op := range c.SkippedOps {
		if op == "none" && len(c.SkippedOps) > 1 {
			bad(KeySkippedOps, strings.Join(c.SkippedOps, ","), "'none' cannot be combined with operations")
		}
	}
	if c.HeartbeatTopicPrefix == "" {
		bad(KeyHeartbeatPrefix, c.HeartbeatTopicPrefix, "String must be non-empty")
	}
	if _, err := parseKeyColumns(c.MessageKeyColumns); err != nil {
		bad(KeyMsgKeyColumns, c.MessageKeyColumns, err.Error())
	}
	if c.TransactionTopic == "" {
		bad(KeyTxTopic, c.TransactionTopic, "String must be non-empty")
	} else if !validTopicChars(c.TransactionTopic) {
		bad(KeyTxTopic, c.TransactionTopic, "only ASCII letters, digits, '.', '_' and '-' may be used in topic names")
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func validTopicChars(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// splitQualified splits "schema.table" (either part may be double-quoted).
func splitQualified(s string) (schema, table string, ok bool) {
	parts := splitIdent(s)
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// splitIdent splits a dotted identifier, honouring double quotes.
func splitIdent(s string) []string {
	var parts []string
	var b strings.Builder
	inQuote := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '"' && inQuote && i+1 < len(s) && s[i+1] == '"':
			b.WriteByte('"')
			i++
		case ch == '"':
			inQuote = !inQuote
		case ch == '.' && !inQuote:
			parts = append(parts, b.String())
			b.Reset()
		default:
			b.WriteByte(ch)
		}
	}
	return append(parts, b.String())
}

// skipped reports whether events of op (c, u, d, t) are not emitted.
func (c Config) skipped(op string) bool {
	for _, s := range c.SkippedOps {
		if s == op {
			return true
		}
	}
	return false
}

// skipsChange reports whether a row change of kind op (c, u, d) emits
// nothing under skipped.operations. A skipped update may still be a key
// change whose delete or create is not skipped: eventBuilder.change
// decides that once it has the keys.
func (c Config) skipsChange(op string) bool {
	return c.skipped(op) && (op != opUpdate || c.skipped(opDelete) && c.skipped(opCreate))
}

// connString builds the libpq-style URL pgx parses. Runtime parameters
// pin the text formats the decoders expect on every connection, the
// replication connection included (its walsender formats pgoutput's
// values with them).
func (c Config) connString() string {
	u := url.URL{
		Scheme: "postgres",
		Host:   net.JoinHostPort(c.Hostname, strconv.Itoa(c.Port)),
		Path:   "/" + c.DBName,
	}
	if c.Password != "" {
		u.User = url.UserPassword(c.User, c.Password)
	} else {
		u.User = url.User(c.User)
	}
	q := url.Values{}
	q.Set("sslmode", c.SSLMode)
	c.tlsParams(q)
	q.Set("connect_timeout", strconv.Itoa(max(1, int(c.ConnectTimeout/time.Second))))
	q.Set("application_name", "sluice-postgres-cdc")
	u.RawQuery = q.Encode()
	return u.String()
}

// sessionParams are set on every connection so that text output is what
// the decoders parse, whatever the server's postgresql.conf says.
var sessionParams = map[string]string{
	"DateStyle":          "ISO, YMD",
	"IntervalStyle":      "iso_8601",
	"TimeZone":           "UTC",
	"extra_float_digits": "3",
	"bytea_output":       "hex",
	"client_encoding":    "UTF8",
}
