package task

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connectors"
)

// failure is one record that failed a stage for good.
type failure struct {
	RecordError
	// raw is the consumed record (sink side); source is the polled record
	// before transforms (source side). One of them is set.
	raw    *kgo.Record
	source *connectors.Record
}

// errorHandler applies a connector's errors.* settings (Kafka's
// RetryWithToleranceOperator with its log and DLQ reporters).
type errorHandler struct {
	cfg       errorsConfig
	connector string
	task      int
	log       *slog.Logger
	met       *taskMetrics
	dlq       *dlqWriter // nil without errors.deadletterqueue.topic.name
}

// retry re-runs op, which just failed with err in stage, while it fails
// with connectors.ErrRetriable and errors.retry.timeout allows, sleeping
// per the backoff schedule. It returns op's last error (nil once it
// succeeds). Every failed attempt counts in the errors metric. ctx ends
// the retries early.
func (h *errorHandler) retry(ctx context.Context, stage Stage, err error, op func() error) error {
	h.met.error(stage)
	if !errors.Is(err, connectors.ErrRetriable) {
		return err
	}
	start := time.Now()
	for attempt := 1; ; attempt++ {
		d, ok := h.cfg.retry.delay(attempt, start, time.Now(), randDuration)
		if !ok || !sleep(ctx, d) {
			return err
		}
		if err = op(); err == nil {
			return nil
		}
		h.met.error(stage)
		if !errors.Is(err, connectors.ErrRetriable) {
			return err
		}
	}
}

// handle deals with a record that failed a conversion or transformation
// for good. Under errors.tolerance=none it returns the error the task must
// fail with (nothing is logged or written to the DLQ, as in Kafka). Under
// all it counts the record as skipped, logs it if errors.log.enable, writes
// it to the DLQ if one is configured, and returns nil; done (if not nil)
// is called once the record is durably handled: at once without a DLQ,
// after the DLQ write's acknowledgement otherwise.
func (h *errorHandler) handle(ctx context.Context, f *failure, done func(error)) error {
	if !h.cfg.tolerateAll {
		return fmt.Errorf("%w: %w", ErrToleranceExceeded, &f.RecordError)
	}
	h.met.skipped.Inc()
	h.report(ctx, f, done)
	return nil
}

// report logs f (errors.log.enable) and writes it to the DLQ, if any.
func (h *errorHandler) report(ctx context.Context, f *failure, done func(error)) {
	if h.cfg.logEnable {
		h.logFailure(f)
	}
	if h.dlq == nil {
		if done != nil {
			done(nil)
		}
		return
	}
	var r *kgo.Record
	if f.raw != nil {
		r = h.dlq.sinkRecord(f)
	} else {
		r = h.dlq.sourceRecord(f)
	}
	h.dlq.write(ctx, r, done)
}

// logFailure writes Kafka's LogReporter line: the stage, class and record
// coordinates, and the record itself only with errors.log.include.messages.
func (h *errorHandler) logFailure(f *failure) {
	attrs := []any{"stage", f.Stage.String(), "class", f.Class, "topic", f.Topic,
		"partition", f.Partition, "offset", f.Offset,
		"exception", errorClass(f.Err), "error", errMessage(f.Err)}
	if h.cfg.logIncludeMessages {
		switch {
		case f.raw != nil:
			attrs = append(attrs, "timestamp", f.raw.Timestamp.UnixMilli(),
				"key", truncate(f.raw.Key), "value", truncate(f.raw.Value), "headers", headerKeys(f.raw.Headers))
		case f.source != nil:
			attrs = append(attrs, "record", truncate(renderSourceRecord(f.source)))
		}
	}
	h.log.Error("error handling record", attrs...)
}

func errMessage(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// truncate renders b as a string of at most 4 KiB for the log.
func truncate(b []byte) string {
	const max = 4 << 10
	if len(b) > max {
		return string(b[:max]) + "…(" + strconv.Itoa(len(b)) + " bytes)"
	}
	return string(b)
}

func headerKeys(hs []kgo.RecordHeader) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.Key
	}
	return out
}
