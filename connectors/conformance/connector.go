package conformance

import (
	"context"
	"testing"

	"github.com/sluicedata/sluice/connectors"
)

// connectorLifecycle checks a source or sink connector: a Config, no
// validation error on the suite's valid config, Start, TaskConfigs for 1
// and 3 tasks within bounds, Stop.
func connectorLifecycle(t *testing.T, c connectors.Connector, config map[string]string) {
	if c.Config() == nil {
		t.Fatal("Config() is nil")
	}
	for _, v := range connectors.ValidateConnector(context.Background(), c, config) {
		if len(v.Errors) > 0 {
			t.Errorf("valid config: %s: %v", v.Name, v.Errors)
		}
	}
	ctx := context.Background()
	if err := c.Start(ctx, connectors.ConnectorContext{Name: "conformance", Logger: testLogger(t)}, config); err != nil {
		t.Fatalf("Start: %v", err)
	}
	for _, max := range []int{1, 3} {
		tcs, err := c.TaskConfigs(max)
		if err != nil {
			t.Fatalf("TaskConfigs(%d): %v", max, err)
		}
		if len(tcs) < 1 || len(tcs) > max {
			t.Errorf("TaskConfigs(%d) returned %d configs", max, len(tcs))
		}
	}
	if err := c.Stop(ctx); err != nil {
		t.Errorf("Stop: %v", err)
	}
}
