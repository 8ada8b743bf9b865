package broker

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"

	"github.com/sluicedata/sluice/broker/vfs"
)

// Broker metadata files under DataDir, all versioned JSON written with
// writeJSON (temp file, fsync, rename, fsync of the directory), so that a
// crash leaves either the old or the new content:
//
//	DataDir/
//	  meta.json                cluster id and node id
//	  producer-ids.json        next block of idempotent producer ids
//	  topics/<topic>.json      {"version":1,"id":…,"partitions":N,"configs":{…}}
//	  <topic>-<partition>/     one partlog.Log per partition (Kafka's layout)
//
// A topic exists iff its topics/<topic>.json does: creation opens the
// partition directories first and writes the file last, deletion removes the
// file first. Partition directories without a file (or beyond the file's
// partition count) are left-overs of an interrupted create or delete and are
// removed at start-up.
const (
	metaFile        = "meta.json"
	producerIDsFile = "producer-ids.json"
	topicsDir       = "topics"
	tmpSuffix       = ".tmp"
	formatVersion   = 1
)

// writeJSON atomically replaces dir/name with v encoded as JSON.
func writeJSON(fs vfs.FS, dir, name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	path := filepath.Join(dir, name)
	tmp := path + tmpSuffix
	f, err := fs.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := fs.Rename(tmp, path); err != nil {
		return err
	}
	return fs.SyncDir(dir)
}

// readJSON decodes path into v; ok is false when the file does not exist.
func readJSON(fs vfs.FS, path string, v any) (ok bool, err error) {
	exists, err := fs.Exists(path)
	if err != nil || !exists {
		return false, err
	}
	f, err := fs.OpenReadOnly(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return false, err
	}
	data := make([]byte, size)
	if _, err := f.ReadAt(data, 0); err != nil && err != io.EOF {
		return false, err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("%w: %s: %v", ErrCorruptMetadata, path, err)
	}
	return true, nil
}

// removeFile removes dir/name and makes the removal durable.
func removeFile(fs vfs.FS, dir, name string) error {
	if err := fs.Remove(filepath.Join(dir, name)); err != nil {
		return err
	}
	return fs.SyncDir(dir)
}
