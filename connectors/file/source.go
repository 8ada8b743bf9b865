package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

// Offset keys, as Kafka's FileStreamSourceTask writes them.
const (
	PartitionFilename = "filename"
	OffsetPosition    = "position"
)

// Tailing and buffering parameters.
const (
	pollWait       = time.Second            // longest a Poll waits for a line
	minBackoff     = 10 * time.Millisecond  // first re-read delay at end of file
	maxBackoff     = 200 * time.Millisecond // longest re-read delay
	initialBufSize = 64 << 10
)

// Source is FileStreamSourceTask: it returns each line of the file as a
// record with a STRING value schema, a null key, the read time as
// timestamp, partition {"filename": file} and offset {"position": byte
// offset after the line}. Lines end at "\n", "\r\n" or "\r"; the
// terminator is not part of the value, and an unterminated last line is
// held back until it is terminated, as in Kafka. A file that does not
// exist yet is waited for.
type Source struct {
	cfg       SourceConfig
	logger    *slog.Logger
	partition map[string]any // nil for standard input: no offsets

	in      input
	pos     int64 // file position of buf[r]
	buf     []byte
	r, w    int
	eof     bool // standard input ended
	missing bool // the file did not exist at the last attempt

	// stdin replaces os.Stdin in tests.
	stdin io.Reader
}

// Open parses the task config and, for a file, reads the stored position.
// The file itself is opened by Poll, so a file that does not exist yet is
// waited for rather than failing the task.
func (s *Source) Open(ctx context.Context, sc connectors.SourceContext, config map[string]string) error {
	cfg, err := ParseSourceConfig(config)
	if err != nil {
		return err
	}
	s.cfg = cfg
	s.logger = sc.Logger
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	s.buf = make([]byte, initialBufSize)
	if cfg.File == "" {
		r := s.stdin
		if r == nil {
			r = os.Stdin
		}
		s.in = newStreamInput(r)
		return nil
	}
	s.partition = map[string]any{PartitionFilename: cfg.File}
	if sc.Offsets != nil {
		off, err := sc.Offsets.Offset(ctx, s.partition)
		if err != nil {
			return fmt.Errorf("file source: read offset of %s: %w", cfg.File, err)
		}
		if off != nil {
			pos, err := positionOf(off[OffsetPosition])
			if err != nil {
				return fmt.Errorf("file source: %s: %w", cfg.File, err)
			}
			s.pos = pos
		}
	}
	return nil
}

// positionOf accepts any integral JSON number (the offsets topic is JSON;
// readers may decode numbers as int64, float64 or json.Number).
func positionOf(v any) (int64, error) {
	if v == nil {
		return 0, nil
	}
	n, ok := connectors.OffsetInt(v)
	if !ok {
		return 0, fmt.Errorf("Offset position is the incorrect type: %v (%T)", v, v)
	}
	if n < 0 {
		return 0, fmt.Errorf("Offset position must be non-negative: %d", n)
	}
	return n, nil
}

// Poll returns up to batch.size lines. With no complete line available it
// waits up to a second for one (re-reading the file with a backoff), then
// returns an empty batch. It returns promptly, with no error, once ctx is
// done. Standard input at end of file: connectors.ErrEndOfInput.
func (s *Source) Poll(ctx context.Context) ([]connectors.Record, error) {
	deadline := time.Now().Add(pollWait)
	backoff := minBackoff
	for {
		if ctx.Err() != nil {
			return nil, nil
		}
		if s.in == nil {
			if err := s.openFile(); err != nil {
				return nil, err
			}
		}
		if s.in != nil {
			recs, err := s.readLines()
			if err != nil || len(recs) > 0 {
				return recs, err
			}
			if s.eof {
				return nil, connectors.ErrEndOfInput
			}
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, nil
		}
		if s.in != nil {
			s.in.wait(ctx, min(backoff, left))
		} else {
			sleep(ctx, min(backoff, left))
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// openFile opens the file and seeks to the stored position. A missing
// file leaves s.in nil (logged once per absence).
func (s *Source) openFile() error {
	f, err := os.Open(s.cfg.File)
	if errors.Is(err, fs.ErrNotExist) {
		if !s.missing {
			s.logger.Warn("file source: file does not exist yet, waiting for it", "file", s.cfg.File)
			s.missing = true
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("file source: %w", err)
	}
	s.missing = false
	if s.pos > 0 {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() < s.pos {
			s.logger.Warn("file source: file is shorter than the stored position; waiting for it to grow",
				"file", s.cfg.File, "position", s.pos, "size", fi.Size())
		}
		if _, err := f.Seek(s.pos, io.SeekStart); err != nil {
			f.Close()
			return fmt.Errorf("file source: seek %s to %d: %w", s.cfg.File, s.pos, err)
		}
	}
	s.in = fileInput{f}
	return nil
}

// readLines returns the complete lines available now, at most batch.size.
func (s *Source) readLines() ([]connectors.Record, error) {
	var recs []connectors.Record
	batch := s.cfg.batchSize()
	now := time.Now()
	for len(recs) < batch {
		if line, ok := s.nextLine(); ok {
			if recs == nil {
				recs = make([]connectors.Record, 0, min(batch, 256))
			}
			recs = append(recs, s.record(line, now))
			continue
		}
		if s.eof {
			break
		}
		// Need more input: compact, grow if full, read.
		if s.r > 0 {
			s.w = copy(s.buf, s.buf[s.r:s.w])
			s.r = 0
		}
		if s.w == len(s.buf) {
			s.buf = append(s.buf, make([]byte, len(s.buf))...)
		}
		n, err := s.in.read(s.buf[s.w:])
		s.w += n
		if errors.Is(err, io.EOF) {
			s.eof = true
			continue
		}
		if err != nil {
			return recs, fmt.Errorf("file source: read %s: %w", s.name(), err)
		}
		if n == 0 {
			break
		}
	}
	return recs, nil
}

// nextLine extracts the next terminated line from the buffer, as Kafka's
// extractLine: "\r" alone ends a line, but a "\r" at the end of the
// buffered data waits for the next byte to tell "\r\n". At the end of
// standard input the rest is the last line.
func (s *Source) nextLine() (string, bool) {
	data := s.buf[s.r:s.w]
	for i, c := range data {
		switch c {
		case '\n':
			return s.take(i, i+1), true
		case '\r':
			if i+1 == len(data) {
				if s.eof {
					return s.take(i, i+1), true
				}
				return "", false
			}
			if data[i+1] == '\n' {
				return s.take(i, i+2), true
			}
			return s.take(i, i+1), true
		}
	}
	if s.eof && len(data) > 0 {
		return s.take(len(data), len(data)), true
	}
	return "", false
}

func (s *Source) take(end, next int) string {
	line := string(s.buf[s.r : s.r+end])
	s.r += next
	s.pos += int64(next)
	return line
}

func (s *Source) record(line string, now time.Time) connectors.Record {
	r := connectors.Record{
		Topic:       s.cfg.Topic,
		ValueSchema: connectors.StringSchema,
		Value:       line,
		Timestamp:   now,
	}
	if s.partition != nil {
		r.SourcePartition = s.partition
		r.SourceOffset = map[string]any{OffsetPosition: s.pos}
	}
	return r
}

func (s *Source) name() string {
	if s.cfg.File == "" {
		return "stdin"
	}
	return s.cfg.File
}

// Commit does nothing: a file needs no acknowledgement.
func (s *Source) Commit(context.Context, []connectors.SourceOffset) error { return nil }

// Close closes the file.
func (s *Source) Close(context.Context) error {
	if s.in == nil {
		return nil
	}
	err := s.in.close()
	s.in = nil
	return err
}

// input is where the source reads bytes from.
type input interface {
	// read reads what is available now into p: (0, nil) when nothing is,
	// io.EOF when nothing ever will be.
	read(p []byte) (int, error)
	// wait blocks until input may be available, for at most d, or until
	// ctx is done.
	wait(ctx context.Context, d time.Duration)
	close() error
}

// fileInput reads a regular file that may grow: end of file only means
// "nothing yet".
type fileInput struct{ f *os.File }

func (in fileInput) read(p []byte) (int, error) {
	n, err := in.f.Read(p)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return n, err
}

func (in fileInput) wait(ctx context.Context, d time.Duration) { sleep(ctx, d) }
func (in fileInput) close() error                              { return in.f.Close() }

// streamInput reads a blocking stream (standard input) in a goroutine, so
// Poll can give up when its context is done. Read cannot be interrupted:
// after close the goroutine exits when its current Read returns.
type streamInput struct {
	chunks  chan chunk
	done    chan struct{}
	pending []byte
	ended   bool
	err     error // a read error other than EOF, returned after pending
}

type chunk struct {
	b   []byte
	err error
}

func newStreamInput(r io.Reader) *streamInput {
	in := &streamInput{chunks: make(chan chunk, 4), done: make(chan struct{})}
	go func() {
		for {
			b := make([]byte, 32<<10)
			n, err := r.Read(b)
			if n > 0 || err != nil {
				select {
				case in.chunks <- chunk{b[:n], err}:
				case <-in.done:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return in
}

func (in *streamInput) read(p []byte) (int, error) {
	if len(in.pending) == 0 && !in.ended {
		select {
		case c := <-in.chunks:
			in.take(c)
		default:
		}
	}
	if len(in.pending) > 0 {
		n := copy(p, in.pending)
		in.pending = in.pending[n:]
		return n, nil
	}
	if in.ended {
		if in.err != nil {
			return 0, in.err
		}
		return 0, io.EOF
	}
	return 0, nil
}

func (in *streamInput) take(c chunk) {
	in.pending = c.b
	if c.err != nil {
		in.ended = true
		if !errors.Is(c.err, io.EOF) {
			in.err = c.err
		}
	}
}

func (in *streamInput) wait(ctx context.Context, d time.Duration) {
	if len(in.pending) > 0 || in.ended {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case c := <-in.chunks:
		in.take(c)
	case <-t.C:
	case <-ctx.Done():
	}
}

func (in *streamInput) close() error {
	close(in.done)
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
