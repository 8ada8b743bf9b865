package runtime

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/runtime/convert"
)

// The records of the internal topics, byte-compatible with Kafka Connect
// (connect-rest.md §5). Keys are plain UTF-8 strings (config, status) or
// JSON (offsets); values are what Kafka's JsonConverter writes with
// schemas.enable=false for the Connect schemas below, so struct fields
// come in schema order and map entries in java.util.HashMap order. A nil
// value is a tombstone.
//
//	config topic (1 partition)
//	  connector-<name>              {"properties":{<config>}}
//	  task-<name>-<n>               {"properties":{<task config>}}
//	  commit-<name>                 {"tasks":<count>}
//	  target-state-<name>           {"state":"STARTED"|"PAUSED","state.v2":"STARTED"|"PAUSED"|"STOPPED"}
//	  restart-connector-<name>      {"include-tasks":<bool>,"only-failed":<bool>}
//	  logger-cluster-<namespace>    {"level":"DEBUG"}
//	offsets topic
//	  ["<name>",{<source partition>}]   {<source offset>}
//	status topic
//	  status-connector-<name>       {"state":"RUNNING","trace":null,"worker_id":"host:8083","generation":7}
//	  status-task-<name>-<n>        same
//	  status-topic-<topic>:connector-<name>
//	                                {"topic":{"name":…,"connector":…,"task":<n>,"discoverTimestamp":<ms>}}

// Key prefixes of the config and status topics.
const (
	keyConnector        = "connector-"
	keyTask             = "task-"
	keyCommit           = "commit-"
	keyTargetState      = "target-state-"
	keyRestart          = "restart-connector-"
	keyLoggerCluster    = "logger-cluster-"
	keyTasksFencing     = "tasks-fencing-"
	keySessionKey       = "session-key"
	keyStatusConnector  = "status-connector-"
	keyStatusTask       = "status-task-"
	keyStatusTopic      = "status-topic-"
	keyStatusTopicInfix = ":connector-"
)

// Kafka's schemas of the config and status records.
var (
	propertiesMapSchema = connectors.MapSchema(connectors.StringSchema, connectors.OptionalStringSchema).MustBuild()
	configRecordSchema  = connectors.StructSchema().Field("properties", propertiesMapSchema).MustBuild()
	commitRecordSchema  = connectors.StructSchema().Field("tasks", connectors.Int32Schema).MustBuild()
	targetStateSchema   = connectors.StructSchema().
				Field("state", connectors.StringSchema).
				Field("state.v2", connectors.OptionalStringSchema).MustBuild()
	restartRequestSchema = connectors.StructSchema().
				Field("include-tasks", connectors.BooleanSchema).
				Field("only-failed", connectors.BooleanSchema).MustBuild()
	loggerLevelSchema = connectors.StructSchema().Field("level", connectors.StringSchema).MustBuild()
	statusSchema      = connectors.StructSchema().
				Field("state", connectors.StringSchema).
				Field("trace", connectors.OptionalStringSchema).
				Field("worker_id", connectors.StringSchema).
				Field("generation", connectors.Int32Schema).MustBuild()
	topicInfoSchema = connectors.StructSchema().
			Field("name", connectors.StringSchema).
			Field("connector", connectors.StringSchema).
			Field("task", connectors.Int32Schema).
			Field("discoverTimestamp", connectors.Int64Schema).MustBuild()
	topicStatusSchema = connectors.StructSchema().Field("topic", topicInfoSchema).MustBuild()
)

// internalJSON is the JsonConverter with schemas disabled, as Kafka
// Connect configures it for its internal topics.
var internalJSON = func() *convert.JSONConverter {
	c := convert.NewJSONConverter()
	if err := c.Configure(map[string]string{convert.KeySchemasEnable: "false"}, false); err != nil {
		panic(fmt.Errorf("runtime: configure internal JsonConverter: %w", err))
	}
	return c
}()

func encodeStruct(schema *connectors.Schema, values ...any) []byte {
	s, err := connectors.StructOf(schema, values...)
	if err != nil {
		panic(fmt.Errorf("runtime: build %v record: %w", schema, err))
	}
	b, err := internalJSON.FromConnect("", schema, s)
	if err != nil {
		panic(fmt.Errorf("runtime: encode %v record: %w", schema, err))
	}
	return b
}

func stringsToAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// encodeProperties is the value of connector-<name> and task-<name>-<n>.
func encodeProperties(props map[string]string) []byte {
	return encodeStruct(configRecordSchema, stringsToAny(props))
}

func encodeCommit(tasks int) []byte { return encodeStruct(commitRecordSchema, int32(tasks)) }

// encodeTargetState writes "state" as PAUSED for STOPPED, for workers
// older than 3.5 that only read "state".
func encodeTargetState(s TargetState) []byte {
	v1 := s
	if s == TargetStopped {
		v1 = TargetPaused
	}
	return encodeStruct(targetStateSchema, string(v1), string(s))
}

func encodeRestart(includeTasks, onlyFailed bool) []byte {
	return encodeStruct(restartRequestSchema, includeTasks, onlyFailed)
}

func encodeLoggerLevel(level string) []byte { return encodeStruct(loggerLevelSchema, level) }

// statusRecord is the value of a status-connector- or status-task- key.
type statusRecord struct {
	State      State
	Trace      string // "" is written as null
	WorkerID   string
	Generation int32

	// live: read while this worker was a member of the group (not part of
	// the record).
	live bool
}

func encodeStatus(s statusRecord) []byte {
	var trace any
	if s.Trace != "" {
		trace = s.Trace
	}
	return encodeStruct(statusSchema, string(s.State), trace, s.WorkerID, s.Generation)
}

// topicStatus is the value of a status-topic- key (KIP-558).
type topicStatus struct {
	Topic, Connector string
	Task             int32
	DiscoverMs       int64
}

func encodeTopicStatus(t topicStatus) []byte {
	inner, err := connectors.StructOf(topicInfoSchema, t.Topic, t.Connector, t.Task, t.DiscoverMs)
	if err != nil {
		panic(fmt.Errorf("runtime: build topic status: %w", err))
	}
	return encodeStruct(topicStatusSchema, inner)
}

// decodeObject parses a JSON object value. A nil value is a tombstone
// (nil map, nil error).
func decodeObject(value []byte) (map[string]any, error) {
	if value == nil {
		return nil, nil
	}
	_, v, err := internalJSON.ToConnect("", value)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a JSON object: %.100s", value)
	}
	return m, nil
}

// decodeProperties reads {"properties":{…}}.
func decodeProperties(value []byte) (map[string]string, error) {
	m, err := decodeObject(value)
	if err != nil || m == nil {
		return nil, err
	}
	raw, ok := m["properties"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("no \"properties\" object")
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		switch x := v.(type) {
		case string:
			out[k] = x
		case nil:
			// Kafka's schema allows null values; they mean "absent".
		default:
			out[k] = fmt.Sprint(x)
		}
	}
	return out, nil
}

func decodeStatus(value []byte) (statusRecord, error) {
	m, err := decodeObject(value)
	if err != nil {
		return statusRecord{}, err
	}
	state, ok := m["state"].(string)
	if !ok {
		return statusRecord{}, fmt.Errorf("status has no \"state\"")
	}
	s := statusRecord{State: State(state)}
	s.Trace, _ = m["trace"].(string)
	s.WorkerID, _ = m["worker_id"].(string)
	if g, ok := m["generation"].(int64); ok {
		s.Generation = int32(g)
	}
	return s, nil
}

func decodeTopicStatus(value []byte) (topicStatus, error) {
	m, err := decodeObject(value)
	if err != nil {
		return topicStatus{}, err
	}
	inner, ok := m["topic"].(map[string]any)
	if !ok {
		return topicStatus{}, fmt.Errorf("topic status has no \"topic\" object")
	}
	var t topicStatus
	t.Topic, _ = inner["name"].(string)
	t.Connector, _ = inner["connector"].(string)
	if n, ok := inner["task"].(int64); ok {
		t.Task = int32(n)
	}
	t.DiscoverMs, _ = inner["discoverTimestamp"].(int64)
	if t.Topic == "" {
		return t, fmt.Errorf("topic status has no topic name")
	}
	return t, nil
}

// splitTaskKey parses "<name>-<n>" (the connector name may itself contain
// dashes: the task number follows the last one).
func splitTaskKey(s string) (TaskID, bool) {
	i := strings.LastIndexByte(s, '-')
	if i < 0 {
		return TaskID{}, false
	}
	n, err := strconv.Atoi(s[i+1:])
	if err != nil || n < 0 {
		return TaskID{}, false
	}
	return TaskID{Connector: s[:i], Task: n}, true
}

func taskKey(id TaskID) string       { return keyTask + id.String() }
func statusTaskKey(id TaskID) string { return keyStatusTask + id.String() }
func statusTopicKey(topic, connector string) string {
	return keyStatusTopic + topic + keyStatusTopicInfix + connector
}

// encodeOffsetKey is ["<connector>",{<partition>}], compact JSON.
func encodeOffsetKey(connector string, partition map[string]any) ([]byte, error) {
	return internalJSON.FromConnect("", nil, []any{connector, partition})
}

// encodeOffsetValue is the offset map as JSON, or nil (tombstone).
func encodeOffsetValue(offset map[string]any) ([]byte, error) {
	if offset == nil {
		return nil, nil
	}
	return internalJSON.FromConnect("", nil, offset)
}

// decodeOffsetKey parses an offsets-topic key; ok is false for keys that
// are not a [string, object] pair, which Kafka ignores too.
func decodeOffsetKey(key []byte) (connector string, partition map[string]any, ok bool) {
	_, v, err := internalJSON.ToConnect("", key)
	if err != nil {
		return "", nil, false
	}
	arr, isArr := v.([]any)
	if !isArr || len(arr) != 2 {
		return "", nil, false
	}
	connector, ok1 := arr[0].(string)
	partition, ok2 := arr[1].(map[string]any)
	if !ok1 || !ok2 {
		return "", nil, false
	}
	return connector, partition, true
}
