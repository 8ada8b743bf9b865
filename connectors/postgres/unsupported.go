package postgres

import (
	"regexp"
	"slices"
	"strings"

	"github.com/sluicedata/sluice/connectors"
)

// Debezium 3.4 PostgreSQL connector keys that Sluice does not implement
// (the property list of Debezium's postgresql.adoc). A key whose absence
// would change the events or the connector's behaviour is rejected by
// ParseConfig, naming the key, unless its value is the default (which
// Sluice's behaviour matches); the others are accepted and ignored
// (ignoredKeys). README.md lists both with the reasons.

// column.truncate.to.<n>.chars and column.mask.with.<n>.chars are
// implemented (columnmap.go).

// unsupportedKey is a key Sluice rejects unless its value is in ok.
type unsupportedKey struct {
	name    string         // the key, when pattern is nil
	pattern *regexp.Regexp // keys with a variable part (column.mask.hash.<alg>.with.salt.<salt>)
	ok      []string       // values accepted (lower-case, trimmed): Debezium's default, Sluice's behaviour
	why     string         // what to do instead
}

var unsupportedKeys = []unsupportedKey{
	{pattern: regexp.MustCompile(`^column\.mask\.hash\..+\.with\.salt\..+$`),
		why: "Sluice does not implement column hashing; remove the key"},
	{name: "column.mask.hash.v2.hashing.strategy", why: "Sluice does not implement column hashing; remove the key"},
	{name: "column.propagate.source.type", why: "Sluice does not add the __debezium.source.column.* schema parameters; remove the key"},
	{name: "datatype.propagate.source.type", why: "Sluice does not add the __debezium.source.column.* schema parameters; remove the key"},
	{name: "snapshot.select.statement.overrides", why: "Sluice snapshots whole tables; remove the key (and its snapshot.select.statement.overrides.<table> keys)"},
	{pattern: regexp.MustCompile(`^snapshot\.select\.statement\.overrides\..+$`), why: "Sluice snapshots whole tables; remove the key"},
	{name: "snapshot.query.mode", ok: []string{"select_all"}, why: "Sluice reads snapshots with SELECT of all columns only; remove the key or set select_all"},
	{name: "snapshot.query.mode.custom.name", why: "custom snapshot queries are not supported; remove the key"},
	{name: "converters", why: "Sluice does not load Debezium custom converters (Java classes); remove the key"},
	{name: "post.processors", why: "Sluice does not run Debezium post processors; remove the key"},
	{name: "money.fraction.digits", ok: []string{"2"}, why: "Sluice emits money with scale 2; remove the key"},
	{name: "skip.messages.without.change", ok: []string{"false"}, why: "Sluice emits every update; remove the key or set false"},
	{name: "event.processing.failure.handling.mode", ok: []string{"fail"}, why: "Sluice fails the task on an event it cannot process; remove the key or set fail"},
	{name: "database.initial.statements", why: "Sluice does not run initial statements on its connections; remove the key"},
	{name: "database.sslfactory", why: "Sluice does not load pgjdbc SSL factories (Java classes); remove the key"},
	{name: "database.connection.factory.class", why: "Sluice does not load connection factories (Java classes); remove the key"},
	{name: "slot.failover", ok: []string{"false"}, why: "Sluice does not create failover slots; remove the key or set false"},
	{name: "slot.stream.params", why: "Sluice does not pass options to the decoding plugin; remove the key"},
	{name: "publish.via.partition.root", ok: []string{"false"}, why: "Sluice captures leaf partitions as their own tables; remove the key or set false"},
	{name: "offset.mismatch.strategy", ok: []string{"no_validation"}, why: "Sluice always fails the task when the slot is ahead of the stored offset (ErrSlotAhead) or missing; remove the key"},
	{name: "flush.lsn.source", ok: []string{"true"}, why: "Sluice always confirms the stored position to the slot; remove the key"},
	{name: "lsn.flush.mode", ok: []string{"connector"}, why: "Sluice always confirms the stored position to the slot; remove the key or set connector"},
	{name: "schema.refresh.mode", ok: []string{"columns_diff"}, why: "Sluice rebuilds a table's schema from every relation message; remove the key or set columns_diff"},
	{name: "xmin.fetch.interval.ms", ok: []string{"0"}, why: "Sluice does not fill source.xmin; remove the key or set 0"},
	{name: "notification.enabled.channels", ok: []string{""}, why: "Sluice does not send Debezium notifications; remove the key"},
	{name: "incremental.snapshot.watermarking.strategy", ok: []string{"insert_insert"}, why: "Sluice writes both watermarks as inserts; remove the key or set insert_insert"},
	{name: "topic.naming.strategy", ok: []string{"io.debezium.schema.schematopicnamingstrategy"}, why: "Sluice names topics <topic.prefix>.<schema>.<table> only; remove the key"},
	{name: "topic.heartbeat.name", ok: []string{""}, why: "Sluice sends heartbeats to <topic.heartbeat.prefix>.<topic.prefix>; remove the key"},
	{name: "snapshot.mode.custom.name", why: "custom snapshotters are not supported; remove the key"},
	{name: "snapshot.locking.mode.custom.name", why: "custom snapshot lock modes are not supported; remove the key"},
	{name: "guardrail.collections.max", ok: []string{"0"}, why: "Sluice does not limit the number of captured tables; remove the key or set 0"},
	{name: "extended.headers.enabled", ok: []string{"true"}, why: "Sluice always adds the __debezium.context.* headers; remove the key or set true (drop them with the DropHeaders transform)"},
	{name: "message.prefix.include.list", why: "Sluice does not emit logical decoding messages (op m); remove the key"},
}

// ignoredKeys are Debezium keys accepted and ignored: they tune the Java
// implementation, or Sluice's behaviour is the one they ask for.
var ignoredKeys = []string{
	"snapshot.isolation.mode",                         // Sluice reads in REPEATABLE READ with the slot's exported snapshot: consistent, no locks
	"snapshot.locking.mode",                           // no table locks are needed with an exported snapshot
	"snapshot.lock.timeout.ms",                        // no locks
	"snapshot.delay.ms",                               // the snapshot starts at once
	"streaming.delay.ms",                              // streaming starts at once
	"snapshot.mode.configuration.based.snapshot.data", // only with snapshot.mode=configuration_based, which is rejected
	"snapshot.mode.configuration.based.snapshot.schema",
	"snapshot.mode.configuration.based.start.stream",
	"snapshot.mode.configuration.based.snapshot.on.schema.error",
	"snapshot.mode.configuration.based.snapshot.on.data.error",
	"legacy.snapshot.max.threads",         // records come out in the same order either way
	"max.queue.size.in.bytes",             // max.queue.size bounds the queue
	"poll.dispatch.interval.ms",           // Java queue tuning
	"database.tcpKeepAlive",               // pgx enables TCP keepalives
	"database.query.timeout.ms",           // queries are bounded by the task's context
	"retriable.restart.connector.wait.ms", // connection losses are retried inside the task with backoff
	"errors.max.retries",                  // as -1 (Debezium's default): retried without limit
	"statistics.metrics.enabled",          // Sluice's /metrics are always on
	"custom.metric.tags",                  // JMX metric tags
	"custom.sanitize.pattern",             // JMX/log masking of config values
	"topic.cache.size",                    // Java topic name cache
	"guardrail.collections.limit.action",  // only with guardrail.collections.max, which must be 0
	"message.prefix.exclude.list",         // Sluice emits no logical decoding messages (op m)
}

// unsupportedErrors returns a config error for every key of props that
// Sluice does not implement and whose value is not the default.
func unsupportedErrors(props map[string]string) connectors.ConfigErrors {
	var errs connectors.ConfigErrors
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, u := range unsupportedKeys {
			if u.name != k && (u.pattern == nil || !u.pattern.MatchString(k)) {
				continue
			}
			if v := strings.ToLower(strings.TrimSpace(props[k])); slices.Contains(u.ok, v) {
				break
			}
			errs = append(errs, connectors.NewConfigError(k, props[k], "Sluice does not implement "+k+": "+u.why))
			break
		}
	}
	return errs
}
