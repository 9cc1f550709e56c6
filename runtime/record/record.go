// Package record owns rssmd's tick log: a stream of msgp-encoded tick records (stamp, state,
// statistics, optionally the 64x64 frame and the action), written by a background goroutine
// through a bounded queue so the control loop never waits on the disk, each record framed
// with its length and a CRC so that a record torn by a crash is detected and skipped on read.
// Recordings double as calibration and replay data (Sequence).
//
// File layout: the 8-byte magic "RSSMDREC", then frames of
// [uint32 LE payload length][uint32 LE CRC-32C of the payload][payload]; the first payload is
// a Header, every later one a TickRecord.
package record

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"math"
	"os"
	"sync"
	"sync/atomic"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/runtime/tick"
)

// Magic starts every recording.
const Magic = "RSSMDREC"

// Version of the record schema written by this package.
const Version = 1

// MaxRecord bounds one record's payload; a larger length in a file is corruption, and the
// bound keeps a hostile file from making the reader allocate.
const MaxRecord = 16 << 20

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Errors; match with errors.Is.
var (
	ErrNotRecording = errors.New("record: not an rssmd recording")
	ErrCorrupt      = errors.New("record: corrupt record")
	ErrConfig       = errors.New("record: invalid config")
)

// Config configures a Writer.
type Config struct {
	// Path of the file to create (required); an existing file is truncated.
	Path string
	// Frames keeps each tick's 64x64 frame (12 KiB a tick: 600 KiB/s at 50 Hz).
	Frames bool
	// Queue is the number of records that may wait for the disk (default 256); when full, new
	// records are dropped and counted rather than blocking the tick.
	Queue int
	// Log defaults to slog.Default().
	Log *slog.Logger
}

// Writer records ticks; it implements tick.Sink. OnTick is called from the control goroutine;
// Stats and Close from any.
type Writer struct {
	conf    Config
	f       *os.File
	bw      *bufio.Writer
	free    chan *TickRecord
	queue   chan *TickRecord
	done    chan struct{}
	once    sync.Once
	written atomic.Uint64
	dropped atomic.Uint64
	errMu   sync.Mutex
	err     error
	closed  atomic.Bool
	hdr     [8]byte // frame header scratch, the writer goroutine's
}

// Create creates the file, writes the magic and h, and starts the writer goroutine. h's
// dimensions size the preallocated records.
func Create(conf Config, h Header) (*Writer, error) {
	if conf.Path == "" {
		return nil, fmt.Errorf("%w: Path is empty", ErrConfig)
	}
	if conf.Queue == 0 {
		conf.Queue = 256
	}
	if conf.Queue < 1 || conf.Queue > 1<<16 {
		return nil, fmt.Errorf("%w: Queue %d, want 1..65536", ErrConfig, conf.Queue)
	}
	if h.Deter < 0 || h.Stoch < 0 || h.ActionDim < 0 || h.Deter+h.Stoch+h.ActionDim > 1<<20 {
		return nil, fmt.Errorf("%w: header dimensions %d/%d/%d", ErrConfig, h.Deter, h.Stoch, h.ActionDim)
	}
	if conf.Log == nil {
		conf.Log = slog.Default()
	}
	h.Version, h.Frames = Version, conf.Frames
	f, err := os.Create(conf.Path)
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	w := &Writer{
		conf:  conf,
		f:     f,
		bw:    bufio.NewWriterSize(f, 1<<16),
		free:  make(chan *TickRecord, conf.Queue),
		queue: make(chan *TickRecord, conf.Queue),
		done:  make(chan struct{}),
	}
	for range conf.Queue {
		r := &TickRecord{
			Action: make([]float32, 0, h.ActionDim),
			Deter:  make([]float32, 0, h.Deter),
			Stoch:  make([]float32, 0, h.Stoch),
		}
		if conf.Frames {
			r.Frame = make([]byte, 0, model.ImageValues)
		}
		w.free <- r
	}
	payload, err := h.MarshalMsg(nil)
	if err == nil {
		_, err = w.bw.WriteString(Magic)
	}
	if err == nil {
		err = writeFrame(w.bw, w.hdr[:], payload)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("record: write header: %w", err)
	}
	go w.run()
	return w, nil
}

// writeFrame writes payload framed with its length and CRC; hdr is 8 bytes of scratch that
// outlives the call (a local array would escape through w.Write: one allocation a record).
func writeFrame(w io.Writer, hdr []byte, payload []byte) error {
	hdr = hdr[:8]
	binary.LittleEndian.PutUint32(hdr[:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(hdr[4:], crc32.Checksum(payload, crcTable))
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

// OnTick copies r into a free record and queues it; it never blocks and allocates nothing.
func (w *Writer) OnTick(r *tick.Result) {
	if w.closed.Load() {
		return
	}
	var rec *TickRecord
	select {
	case rec = <-w.free:
	default:
		w.dropped.Add(1)
		return
	}
	rec.Tick, rec.Seq = r.Tick, r.Seq
	rec.StampNs, rec.FrameAgeNs = r.Captured.UnixNano(), int64(r.FrameAge)
	rec.IsFirst, rec.StaleFrame, rec.ActionStatus = r.IsFirst, r.StaleFrame, uint8(r.ActionStatus)
	rec.Action = append(rec.Action[:0], r.Action...)
	rec.Deter = append(rec.Deter[:0], r.State.Deter...)
	rec.Stoch = append(rec.Stoch[:0], r.State.Stoch...)
	q := &r.Quality
	rec.KL, rec.Decoded, rec.Anomaly = float32(q.KL), q.Decoded, q.Anomaly
	rec.MSE, rec.PSNR, rec.ELBO, rec.ZScore = float32(q.MSE), float32(q.PSNR), float32(q.ELBO), float32(q.ZScore)
	rec.StepNs, rec.TotalNs = int64(r.Stages[tick.StageStep]), int64(r.Stages[tick.StageTotal])
	if w.conf.Frames {
		rec.Frame = append(rec.Frame[:0], r.Image...)
	}
	select {
	case w.queue <- rec:
	default: // cannot happen: free and queue have the same capacity
		w.dropped.Add(1)
		w.free <- rec
	}
}

func (w *Writer) run() {
	defer close(w.done)
	var buf []byte
	for rec := range w.queue {
		var err error
		buf, err = rec.MarshalMsg(buf[:0])
		w.free <- rec
		if err == nil {
			err = writeFrame(w.bw, w.hdr[:], buf)
		}
		if err != nil {
			w.setErr(err)
			continue
		}
		w.written.Add(1)
	}
}

func (w *Writer) setErr(err error) {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	if w.err == nil {
		w.err = err
		w.conf.Log.Error("recording write failed; later records are lost", "path", w.conf.Path, "err", err)
	}
}

// Stats returns the records written and dropped (queue full) so far.
func (w *Writer) Stats() (written, dropped uint64) { return w.written.Load(), w.dropped.Load() }

// Close writes every queued record, flushes and fsyncs the file and closes it: everything
// OnTick accepted is on disk when Close returns nil. OnTick must not run concurrently with
// Close (stop the loop first); later OnTick calls are ignored.
func (w *Writer) Close() error {
	var err error
	w.once.Do(func() {
		w.closed.Store(true)
		close(w.queue)
		<-w.done
		w.errMu.Lock()
		err = w.err
		w.errMu.Unlock()
		if e := w.bw.Flush(); err == nil && e != nil {
			err = e
		}
		if e := w.f.Sync(); err == nil && e != nil {
			err = e
		}
		if e := w.f.Close(); err == nil && e != nil {
			err = e
		}
		if err != nil {
			err = fmt.Errorf("record: close %s: %w", w.conf.Path, err)
		}
	})
	return err
}

var _ tick.Sink = (*Writer)(nil)

// Reader reads a recording. It reuses one TickRecord: a record returned by Next is valid until
// the following Next.
type Reader struct {
	r      *bufio.Reader
	header Header
	buf    []byte
	rec    TickRecord
	torn   bool
	n      int
}

// NewReader checks the magic and reads the header.
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{r: bufio.NewReaderSize(r, 1<<16)}
	var m [len(Magic)]byte
	if _, err := io.ReadFull(rd.r, m[:]); err != nil || string(m[:]) != Magic {
		return nil, ErrNotRecording
	}
	p, err := rd.frame()
	if err != nil {
		return nil, fmt.Errorf("record: header: %w", err)
	}
	if _, err := rd.header.UnmarshalMsg(p); err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrCorrupt, err)
	}
	if rd.header.Version != Version {
		return nil, fmt.Errorf("%w: version %d, this build reads %d", ErrNotRecording, rd.header.Version, Version)
	}
	return rd, nil
}

// Header returns the recording's header.
func (rd *Reader) Header() Header { return rd.header }

// Torn reports whether the file ended with an incomplete or damaged record (a crash while
// writing), which Next skipped.
func (rd *Reader) Torn() bool { return rd.torn }

// frame reads one framed payload. io.EOF: clean end; errTorn: the file ends inside a frame or
// the last frame's CRC fails.
func (rd *Reader) frame() ([]byte, error) {
	var hdr [8]byte
	_, err := io.ReadFull(rd.r, hdr[:])
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, errTorn
	}
	size := binary.LittleEndian.Uint32(hdr[:4])
	if size > MaxRecord {
		if rd.atEnd(int(size)) {
			return nil, errTorn
		}
		return nil, fmt.Errorf("%w: record of %d bytes exceeds %d", ErrCorrupt, size, MaxRecord)
	}
	if cap(rd.buf) < int(size) {
		rd.buf = make([]byte, size)
	}
	p := rd.buf[:size]
	if _, err := io.ReadFull(rd.r, p); err != nil {
		return nil, errTorn
	}
	if crc32.Checksum(p, crcTable) != binary.LittleEndian.Uint32(hdr[4:]) {
		if _, err := rd.r.Peek(1); err == io.EOF {
			return nil, errTorn
		}
		return nil, fmt.Errorf("%w: CRC mismatch in record %d", ErrCorrupt, rd.n)
	}
	rd.n++
	return p, nil
}

// atEnd reports whether fewer than n bytes remain (a garbage length in a torn tail).
func (rd *Reader) atEnd(n int) bool {
	for n > 0 {
		k := min(n, 1<<16)
		b, err := rd.r.Peek(k)
		if err != nil {
			return true
		}
		if _, err := rd.r.Discard(len(b)); err != nil {
			return true
		}
		n -= k
	}
	return false
}

// errTorn marks a damaged tail, which Next reports as the end of the file.
var errTorn = errors.New("record: torn final record")

// Next returns the next record; io.EOF at the end (check Torn). ErrCorrupt for damage that
// is not at the end of the file.
func (rd *Reader) Next() (*TickRecord, error) {
	p, err := rd.frame()
	if err == errTorn {
		rd.torn = true
		return nil, io.EOF
	}
	if err != nil {
		return nil, err
	}
	if _, err := rd.rec.UnmarshalMsg(p); err != nil {
		return nil, fmt.Errorf("%w: record %d: %w", ErrCorrupt, rd.n, err)
	}
	return &rd.rec, nil
}

// Sequence is a recording's frames and actions, for calibration and replay.
type Sequence struct {
	T, A       int
	Images     []byte    // T·64·64·3
	PreActions []float32 // T·A
	Torn       bool
}

// ReadSequence reads the frames and actions of a recording made with Frames set. Records
// without a frame (or with a wrong-sized one) are an error.
func ReadSequence(r io.Reader) (*Sequence, error) {
	rd, err := NewReader(r)
	if err != nil {
		return nil, err
	}
	h := rd.Header()
	if !h.Frames {
		return nil, fmt.Errorf("record: recording has no frames (made without --record-frames)")
	}
	s := &Sequence{A: h.ActionDim}
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(rec.Frame) != model.ImageValues || len(rec.Action) != h.ActionDim {
			return nil, fmt.Errorf("%w: record %d has a %d-byte frame and %d actions, want %d and %d",
				ErrCorrupt, s.T, len(rec.Frame), len(rec.Action), model.ImageValues, h.ActionDim)
		}
		if s.T >= math.MaxInt32 {
			return nil, fmt.Errorf("%w: too many records", ErrCorrupt)
		}
		s.Images = append(s.Images, rec.Frame...)
		s.PreActions = append(s.PreActions, rec.Action...)
		s.T++
	}
	s.Torn = rd.Torn()
	return s, nil
}
