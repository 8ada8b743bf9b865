package connectors

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestRecordClone(t *testing.T) {
	t.Parallel()
	r := Record{Topic: "t", Partition: PartitionOf(3), Value: "v"}
	r.Headers.Add("a", StringSchema, "1")
	c := r.Clone()
	c.Headers.Add("b", nil, int64(2))
	*c.Partition = 9
	c.Topic = "u"
	if len(r.Headers) != 1 || *r.Partition != 3 || r.Topic != "t" {
		t.Fatalf("Clone shares state: %+v", r)
	}
	if p, ok := c.KafkaPartition(); !ok || p != 9 {
		t.Fatal("KafkaPartition")
	}
	if _, ok := (Record{}).KafkaPartition(); ok {
		t.Fatal("zero Record has a partition")
	}
	if !(Record{}).Tombstone() || r.Tombstone() {
		t.Fatal("Tombstone")
	}
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	var h Headers
	h.Add("k", nil, "1")
	h.Add("x", nil, "2")
	h.Add("k", nil, "3")
	if last, ok := h.Last("k"); !ok || last.Value != "3" {
		t.Fatalf("Last = %v", last)
	}
	if all := h.All("k"); len(all) != 2 || all[0].Value != "1" {
		t.Fatalf("All = %v", all)
	}
	h.Remove("k")
	if len(h) != 1 || h[0].Key != "x" {
		t.Fatalf("Remove = %v", h)
	}
}

func TestRetriable(t *testing.T) {
	t.Parallel()
	cause := fmt.Errorf("dial: %w", context.DeadlineExceeded)
	err := fmt.Errorf("poll: %w", Retriable(cause))
	if !errors.Is(err, ErrRetriable) || !errors.Is(err, context.DeadlineExceeded) || err.Error() != "poll: dial: context deadline exceeded" {
		t.Fatalf("Retriable = %v", err)
	}
	if Retriable(nil) != nil {
		t.Fatal("Retriable(nil)")
	}
	de := &DataError{Path: "after.id", Msg: "bad"}
	if !errors.Is(de, ErrData) || de.Error() != "after.id: bad" {
		t.Fatal("DataError")
	}
}
