package file

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/sluicedata/sluice/connectors"
)

// writeChunk bounds the buffer within one Put: a large batch is written in
// chunks of about this size, at line boundaries, so that sink tasks
// appending to one file never interleave parts of lines, and memory stays
// bounded.
const writeChunk = 64 << 10

// Sink is FileStreamSinkTask: it appends each record's value, rendered as
// Java's String.valueOf would (see AppendValue), and a "\n" to the file.
// Put writes its batch before returning (one write per chunk, not per
// line), so lines appear in the file as records arrive, as with Kafka's
// sink; Flush fsyncs the file and returns the offsets it was given, which
// are then durable.
type Sink struct {
	cfg    SinkConfig
	logger *slog.Logger
	f      *os.File  // nil for standard output
	out    io.Writer // f or standard output
	buf    []byte

	// stdout replaces os.Stdout in tests.
	stdout io.Writer
}

// Open opens the file for appending, creating it (mode 0644) if needed.
func (s *Sink) Open(_ context.Context, sc connectors.SinkContext, config map[string]string) error {
	cfg, err := ParseSinkConfig(config)
	if err != nil {
		return err
	}
	s.cfg = cfg
	s.logger = sc.Logger
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	s.buf = make([]byte, 0, writeChunk+4<<10)
	if cfg.File == "" {
		s.out = s.stdout
		if s.out == nil {
			s.out = os.Stdout
		}
		return nil
	}
	f, err := os.OpenFile(cfg.File, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("file sink: %w", err)
	}
	s.f, s.out = f, f
	return nil
}

// Put appends one line per record to the buffer, writing it out whenever
// it passes 64 KiB. A write error fails the task.
func (s *Sink) Put(_ context.Context, records []connectors.Record) error {
	for i := range records {
		s.buf = AppendValue(s.buf, records[i].Value)
		s.buf = append(s.buf, '\n')
		if len(s.buf) >= writeChunk {
			if err := s.write(); err != nil {
				return err
			}
		}
	}
	return s.write()
}

func (s *Sink) write() error {
	if len(s.buf) == 0 {
		return nil
	}
	_, err := s.out.Write(s.buf)
	s.buf = s.buf[:0]
	if err != nil {
		return fmt.Errorf("file sink: write %s: %w", s.name(), err)
	}
	return nil
}

// Flush writes the buffered lines and fsyncs the file (not standard
// output), then returns offsets: everything given to Put is durable.
func (s *Sink) Flush(_ context.Context, offsets map[connectors.TopicPartition]int64) (map[connectors.TopicPartition]int64, error) {
	if err := s.write(); err != nil {
		return nil, err
	}
	if s.f != nil {
		if err := s.f.Sync(); err != nil {
			return nil, fmt.Errorf("file sink: sync %s: %w", s.name(), err)
		}
	}
	return offsets, nil
}

// Close writes what is buffered (without fsync: records not flushed were
// not committed and will be delivered again) and closes the file.
func (s *Sink) Close(context.Context) error {
	err := s.write()
	if s.f != nil {
		if cerr := s.f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("file sink: close %s: %w", s.name(), cerr)
		}
		s.f = nil
	}
	return err
}

func (s *Sink) name() string {
	if s.cfg.File == "" {
		return "stdout"
	}
	return s.cfg.File
}
