// Package datagen is a data generator source for demos, tests and
// benchmarks, modelled on Confluent's kafka-connect-datagen and reachable
// under its class name (io.confluent.kafka.connect.datagen.DatagenConnector)
// and the Sluice alias "datagen".
//
// It generates the three classic ksqlDB quickstarts, orders, users and
// pageviews, as Connect structs with datagen's schemas (ksql.orders, …) and
// keys (orderid, userid, viewtime). Confluent's keys work: kafka.topic,
// quickstart, schema.keyfield, max.interval, iterations, random.seed;
// custom Avro schemas (schema.string, schema.filename) do not.
//
// # Determinism and offsets
//
// Record i of a task is a pure function of (seed, task id, i): the values
// come from a counter-based generator (SplitMix64) seeded with the task's
// seed and i, not from a stream whose state must be carried along. The
// seed is random.seed when set (tasks derive distinct seeds from it), or
// drawn at random when a task first starts; either way it is stored in the
// source offset, so a restarted task continues the very same sequence
// with no gap and no repeat.
//
// Offsets use datagen's keys: partition {"task.id": <task>}, offset
// {"current.iteration": <records produced>, "random.seed": <seed>,
// "task.generation": <restarts>}. Each record carries the headers
// task.generation, task.id and current.iteration (INT64), as datagen's do.
//
// # Speed
//
// With max.interval=0 a Poll returns batch.size records at once (a Sluice
// key; datagen returns one record per poll). Strings come from tables
// built once, so a record costs a few small allocations: its structs, its
// offset map and boxed numbers. See BenchmarkPoll.
//
// Differences from datagen: the values differ (different random
// generator); iterations ends the task cleanly with
// connectors.ErrEndOfInput instead of failing it; quickstarts other than
// orders, users and pageviews are not built in.
package datagen
