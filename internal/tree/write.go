package tree

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// owned reports whether data carries the generated-file marker in its first
// two lines (the second for scripts with a shebang).
func owned(data []byte) bool {
	lines := bytes.SplitN(data, []byte("\n"), 3)
	for i := 0; i < len(lines) && i < 2; i++ {
		if string(lines[i]) == Marker {
			return true
		}
	}
	return false
}

// previous reads the old manifest: the files an earlier run generated.
func previous(dir string) (map[string]bool, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") || strings.Contains(l, "..") || filepath.IsAbs(l) {
			continue
		}
		out[l] = true
	}
	return out, sc.Err()
}

// Change is one difference between the wanted tree and the folder.
type Change struct {
	Path string
	Old  []byte // nil: file missing
	New  []byte // nil: file to remove
	Mode uint32
}

// Plan compares the wanted files with dir. It fails, changing nothing, when
// a wanted path is held by a file step07gen does not own.
func Plan(dir string, files []File) ([]Change, error) {
	prev, err := previous(dir)
	if err != nil {
		return nil, err
	}
	var changes []Change
	want := map[string]bool{}
	var foreign []string
	for _, f := range files {
		want[f.Path] = true
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		old, err := os.ReadFile(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			changes = append(changes, Change{Path: f.Path, New: f.Data, Mode: f.Mode})
			continue
		case err != nil:
			return nil, err
		}
		if !owned(old) && !prev[f.Path] {
			foreign = append(foreign, f.Path)
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(old, f.Data) || uint32(st.Mode().Perm()) != f.Mode {
			changes = append(changes, Change{Path: f.Path, Old: old, New: f.Data, Mode: f.Mode})
		}
	}
	if len(foreign) > 0 {
		return nil, fmt.Errorf("refusing to overwrite files step07gen did not generate (no %q line): %s; move them away or delete them", Marker, strings.Join(foreign, ", "))
	}
	var stale []string
	for p := range prev {
		if !want[p] {
			stale = append(stale, p)
		}
	}
	sort.Strings(stale)
	for _, p := range stale {
		old, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !owned(old) {
			continue // listed but edited into a user file: leave it
		}
		changes = append(changes, Change{Path: p, Old: old})
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].Path < changes[j].Path })
	return changes, nil
}

// Write brings dir up to date with files: new and changed files are written
// into a temporary folder inside dir (same file system) and renamed into
// place; files generated before and no longer wanted are removed; the
// manifest is renamed last. Nothing else in dir is touched.
func Write(dir string, files []File) ([]Change, error) {
	changes, err := Plan(dir, files)
	if err != nil {
		return nil, err
	}
	if len(changes) == 0 {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(dir, ".step07gen-tmp-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	// Stage every new file first: a failure here leaves dir untouched.
	staged := map[string]string{}
	for i, ch := range changes {
		if ch.New == nil {
			continue
		}
		p := filepath.Join(tmp, fmt.Sprintf("f%04d", i))
		if err := os.WriteFile(p, ch.New, fs.FileMode(ch.Mode)); err != nil {
			return nil, err
		}
		if err := os.Chmod(p, fs.FileMode(ch.Mode)); err != nil { // umask-proof
			return nil, err
		}
		staged[ch.Path] = p
	}
	var manifest *Change
	for i := range changes {
		ch := &changes[i]
		dst := filepath.Join(dir, filepath.FromSlash(ch.Path))
		if ch.Path == ManifestName {
			manifest = ch
			continue
		}
		if ch.New == nil {
			if err := os.Remove(dst); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
			removeEmptyParents(dir, filepath.Dir(dst))
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, err
		}
		if err := os.Rename(staged[ch.Path], dst); err != nil {
			return nil, err
		}
	}
	if manifest != nil {
		if err := os.Rename(staged[manifest.Path], filepath.Join(dir, ManifestName)); err != nil {
			return nil, err
		}
	}
	return changes, nil
}

// removeEmptyParents removes folders emptied by a removal, up to dir.
func removeEmptyParents(dir, p string) {
	root := filepath.Clean(dir)
	for p = filepath.Clean(p); p != root && strings.HasPrefix(p, root); p = filepath.Dir(p) {
		if err := os.Remove(p); err != nil { // fails when not empty
			return
		}
	}
}
