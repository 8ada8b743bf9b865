//go:build integration

package main

// Helpers of the tests and benchmarks that run a `sluice worker` process
// against PostgreSQL (cdc_crash, migration, cdc_bench).

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/internal/pgtest"
)

// startCDCWorker starts a `sluice worker` with the embedded broker on a
// port of its own, and returns it with the broker's address.
func startCDCWorker(t testing.TB, bin string, args ...string) (*workerProc, string) {
	t.Helper()
	url := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	broker := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := startWorkerProc(t, bin, url, append([]string{"--set", "data.dir=" + t.TempDir(), "--set", "broker.listen=" + broker,
		"--set", "listeners=" + url, "--set", "offset.flush.interval.ms=1000"}, args...)...)
	p.waitHealthy(30 * time.Second)
	return p, broker
}

// debeziumSourceConfig is a Debezium Postgres source on db, with
// JsonConverter (schemas on) for keys and values, and extra keys.
func debeziumSourceConfig(db *pgtest.DB, extra map[string]string) map[string]string {
	c := db.SourceConfig()
	c["connector.class"] = "io.debezium.connector.postgresql.PostgresConnector"
	c["key.converter"] = "org.apache.kafka.connect.json.JsonConverter"
	c["value.converter"] = "org.apache.kafka.connect.json.JsonConverter"
	c["key.converter.schemas.enable"] = "true"
	c["value.converter.schemas.enable"] = "true"
	for k, v := range extra {
		c[k] = v
	}
	return c
}

// restCreateConnector creates a connector with POST /connectors.
func restCreateConnector(t testing.TB, url, name string, config map[string]string) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"name": name, "config": config})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url+"/connectors", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST /connectors %s: %d %s", name, resp.StatusCode, msg)
	}
}

// requireConnectors returns an error unless the named connectors and all
// their tasks are RUNNING, and fails the test if one of them FAILED.
func (p *workerProc) requireConnectors(t testing.TB, names ...string) error {
	t.Helper()
	for _, name := range names {
		var st struct {
			Connector struct{ State, Trace string }
			Tasks     []struct {
				ID    int
				State string
				Trace string
			}
		}
		if err := p.getJSON("/connectors/"+name+"/status", &st); err != nil {
			return err
		}
		if st.Connector.State == "FAILED" {
			t.Fatalf("connector %s FAILED: %s", name, st.Connector.Trace)
		}
		if st.Connector.State != "RUNNING" {
			return fmt.Errorf("connector %s is %s", name, st.Connector.State)
		}
		if len(st.Tasks) == 0 {
			return fmt.Errorf("connector %s has no tasks yet", name)
		}
		for _, task := range st.Tasks {
			if task.State == "FAILED" {
				t.Fatalf("task %s-%d FAILED: %s", name, task.ID, task.Trace)
			}
			if task.State != "RUNNING" {
				return fmt.Errorf("task %s-%d is %s", name, task.ID, task.State)
			}
		}
	}
	return nil
}

// newBrokerAdmin is a kadm client of the worker's embedded broker. It
// does not cache for long that a topic does not exist yet.
func newBrokerAdmin(t testing.TB, broker string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.MetadataMinAge(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// topicRecords is the sum of the topic's partitions' end offsets: 0 while
// it does not exist, or while the broker does not answer (a worker being
// killed and restarted).
func topicRecords(adm *kadm.Client, topic string) int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil && o.Offset > 0 {
			n += o.Offset
		}
	})
	return n
}

// waitFor polls cond until it returns nil, failing the test with its last
// error after timeout.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v: %v", what, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
