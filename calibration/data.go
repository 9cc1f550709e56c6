package calibration

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/seqio"
)

// ErrHDF5 is returned for .hdf5 dataset files: no usable pure-Go HDF5 reader with the LZF
// filter exists, and rssmd builds without cgo.
var ErrHDF5 = errors.New("HDF5 datasets are not supported (no pure-Go HDF5 reader with the LZF filter; rssmd builds without cgo)")

// hdf5Recipe is the one-line conversion printed with ErrHDF5.
const hdf5Recipe = `convert each episode to .npz first: python3 -c "import h5py,numpy as np,sys; [np.savez_compressed(f[:-5]+'.npz', **{k: h[k][:] for k in h}) for f in sys.argv[1:] for h in [h5py.File(f,'r')]]" DIR/*.hdf5`

// Source is one calibration or evaluation sequence and where it came from.
type Source struct {
	Path string
	Seq  *model.Sequence
}

// LoadData reads sequences from files and folders: `.npz` files in the filter input contract
// and original AIME-NoB dataset folders (per-episode `<n>.npz` in integer order; sub-folders of
// a multi-folder dataset in sorted order).
func LoadData(paths []string) ([]Source, error) {
	var out []Source
	for _, p := range paths {
		files, err := expand(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			seq, err := seqio.ReadSequenceFile(f)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			out = append(out, Source{Path: f, Seq: seq})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no .npz sequences found in %s", strings.Join(paths, ", "))
	}
	return out, nil
}

// expand lists the sequence files under p.
func expand(p string) ([]string, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		switch strings.ToLower(filepath.Ext(p)) {
		case ".npz":
			return []string{p}, nil
		case ".hdf5", ".h5":
			return nil, fmt.Errorf("%s: %w; %s", p, ErrHDF5, hdf5Recipe)
		}
		return nil, fmt.Errorf("%s: not a .npz sequence or a dataset folder", p)
	}
	ents, err := os.ReadDir(p)
	if err != nil {
		return nil, err
	}
	var files, dirs, hdf []string
	for _, e := range ents {
		full := filepath.Join(p, e.Name())
		switch ext := strings.ToLower(filepath.Ext(e.Name())); {
		case e.IsDir():
			dirs = append(dirs, full)
		case ext == ".npz":
			files = append(files, full)
		case ext == ".hdf5" || ext == ".h5":
			hdf = append(hdf, full)
		}
	}
	if len(files) == 0 && len(hdf) > 0 {
		return nil, fmt.Errorf("%s holds %d .hdf5 episodes and no .npz: %w; %s", p, len(hdf), ErrHDF5, hdf5Recipe)
	}
	sortEpisodes(files)
	sort.Strings(dirs)
	for _, d := range dirs {
		sub, err := expand(d)
		if err != nil {
			return nil, err
		}
		files = append(files, sub...)
	}
	return files, nil
}

// sortEpisodes orders `<integer>.npz` numerically (the dataset's order), others by name after them.
func sortEpisodes(files []string) {
	key := func(f string) (int, bool) {
		n, err := strconv.Atoi(strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)))
		return n, err == nil
	}
	sort.SliceStable(files, func(i, j int) bool {
		a, aok := key(files[i])
		b, bok := key(files[j])
		switch {
		case aok && bok:
			return a < b
		case aok != bok:
			return aok
		}
		return files[i] < files[j]
	})
}
