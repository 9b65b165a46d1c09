package bench

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DestCheck is what a destination folder holds compared with a manifest.
type DestCheck struct {
	Files      int            // regular files under final names
	Temps      int            // files with the mover's temporary prefix
	Lost       int            // manifest attachments with no file
	Duplicated int            // extra copies of manifest attachments
	Extra      int            // files whose content is in no manifest
	Count      map[string]int // hash → files with that content
}

// tempMarker is part of the mover's temporary file names (mover/write.go: ".mailmover-").
const tempMarker = ".mailmover-"

// CheckDest hashes every file under dir and compares with m.
func CheckDest(dir string, m *Manifest) (*DestCheck, error) {
	dc := &DestCheck{Count: map[string]int{}}
	buf := make([]byte, 256<<10)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if strings.Contains(d.Name(), tempMarker) {
			dc.Temps++
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.CopyBuffer(h, f, buf); err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		dc.Files++
		dc.Count[hex.EncodeToString(h.Sum(nil))]++
		return nil
	})
	if err != nil {
		return nil, err
	}
	known := m.ByHash()
	for h, n := range dc.Count {
		if _, ok := known[h]; !ok {
			dc.Extra += n
		} else if n > 1 {
			dc.Duplicated += n - 1
		}
	}
	for h := range known {
		if dc.Count[h] == 0 {
			dc.Lost++
		}
	}
	return dc, nil
}

// CountFiles counts regular files under dir and their bytes.
func CountFiles(dir string) (files int, bytes int64, err error) {
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			files++
			bytes += info.Size()
		}
		return nil
	})
	return files, bytes, err
}
